/**
 * AdminNetworkPolicy and BaselineAdminNetworkPolicy (policy.networking.k8s.io/v1alpha1), and their
 * v1alpha2 successor ClusterNetworkPolicy: cluster-scoped; subject and peers are exactly one of
 * `namespaces` (a LabelSelector, `{}` = all) or `pods` ({namespaceSelector, podSelector}, both
 * required). Egress `nodes`/`networks`/`domainNames` are not namespace selections (§3).
 */
import type { Direction } from '../model.js';
import { compileLabelSelector } from '../selectors/kubernetes.js';
import { jsonKey } from '../selectors/memo.js';
import { matchLabels, NONE, type LabelQuery } from '../selectors/query.js';
import { compileField, namespaceTermsOfField, type PodView } from './kubernetes.js';
import {
  apiGroup,
  refOf,
  type NamespaceTerm,
  type PeerAnalysis,
  type PolicyEngine,
  type SelectorIssue,
} from './types.js';
import { arrayAt, isObject, peerPath, specOf } from './util.js';

const KINDS = new Set(['AdminNetworkPolicy', 'BaselineAdminNetworkPolicy', 'ClusterNetworkPolicy']);
const NON_NAMESPACE_PEERS = ['nodes', 'networks', 'domainNames'];

interface Selection {
  readonly namespaces: LabelQuery;
  readonly terms: readonly NamespaceTerm[];
}

/** Exactly one of namespaces | pods; undefined (with an issue) when invalid. */
function selectionOf(
  v: unknown,
  field: string,
  issues: SelectorIssue[],
  extra: readonly string[] = [],
): Selection | null | undefined {
  if (!isObject(v)) {
    issues.push({ field, message: 'must be an object' });
    return undefined;
  }
  const set = ['namespaces', 'pods', ...extra].filter((k) => v[k] !== undefined && v[k] !== null);
  if (set.length !== 1) {
    issues.push({
      field,
      message:
        set.length === 0 ? 'exactly one of namespaces or pods is required' : `only one of ${set.join(', ')} may be set`,
    });
    return undefined;
  }
  if (extra.includes(set[0]!)) return null;
  if (set[0] === 'namespaces') {
    const key = jsonKey(v.namespaces);
    const q = compileField(v.namespaces, `${field}.namespaces`, issues, key);
    return q && { namespaces: q, terms: namespaceTermsOfField(v.namespaces, key) };
  }
  const pods = v.pods;
  if (!isObject(pods) || pods.namespaceSelector === undefined || pods.podSelector === undefined) {
    issues.push({ field: `${field}.pods`, message: 'pods needs both namespaceSelector and podSelector' });
    return undefined;
  }
  const before = issues.length;
  const ns = compileField(pods.namespaceSelector, `${field}.pods.namespaceSelector`, issues);
  const pod = compileField(pods.podSelector, `${field}.pods.podSelector`, issues);
  if (!ns || !pod || issues.length > before) return undefined;
  return { namespaces: ns, terms: namespaceTermsOfField(pods.namespaceSelector) };
}

export const adminNetworkPolicyEngine: PolicyEngine = {
  engine: 'adminnetworkpolicy',
  handles: (obj) => KINDS.has(obj.kind) && apiGroup(obj.apiVersion) === 'policy.networking.k8s.io',
  analyze(obj) {
    const issues: SelectorIssue[] = [];
    const peers: PeerAnalysis[] = [];
    const spec = specOf(obj);
    let appliesTo: LabelQuery = NONE;
    let ruleCount = 0;
    if (!spec) issues.push({ field: 'spec', message: `a ${obj.kind} needs a spec object` });
    else {
      const subject = selectionOf(spec.subject, 'spec.subject', issues);
      if (subject) appliesTo = subject.namespaces;
      for (const direction of ['ingress', 'egress'] as const) {
        const rules = arrayAt(spec, direction);
        const list = direction === 'ingress' ? 'from' : 'to';
        if (rules === undefined) {
          issues.push({ field: `spec.${direction}`, message: `${direction} must be a list of rules` });
          continue;
        }
        ruleCount += rules.length;
        rules.forEach((rule, r) => {
          const ps = arrayAt(rule, list);
          if (!isObject(rule) || ps === undefined || ps.length === 0) {
            issues.push({
              field: `spec.${direction}[${r}].${list}`,
              message: `a rule needs at least one ${list} peer`,
            });
            return;
          }
          ps.forEach((p, j) => peers.push(peerOf(p, direction, r, j, peerPath(direction, r, list, j), issues)));
        });
      }
    }
    // An ANP without rules has no effect: there is no implicit isolation as with NetworkPolicy.
    return {
      engine: 'adminnetworkpolicy',
      ref: refOf(obj),
      source: obj.source,
      appliesTo,
      protects: ruleCount > 0,
      peers,
      issues,
    };
  },
};

function peerOf(
  p: unknown,
  direction: Direction,
  rule: number,
  peer: number,
  field: string,
  issues: SelectorIssue[],
): PeerAnalysis {
  const extra = direction === 'egress' ? NON_NAMESPACE_PEERS : [];
  const sel = selectionOf(p, field, issues, extra);
  if (sel === null) return { direction, rule, peer, field, namespaces: null, valid: true, terms: [] };
  if (sel === undefined) return { direction, rule, peer, field, namespaces: NONE, valid: false, terms: [] };
  return { direction, rule, peer, field, namespaces: sel.namespaces, valid: true, terms: sel.terms };
}

/**
 * Does an ANP/BANP subject or peer (`{ namespaces }` or `{ pods: { namespaceSelector, podSelector } }`)
 * select this pod? Host-networked pods are never selected (§3). Throws SelectorSyntaxError when invalid.
 */
export function adminSelectionMatches(sel: unknown, pod: PodView): boolean {
  if (pod.hostNetwork || !isObject(sel)) return false;
  const nsLabels = { ...pod.namespaceLabels, 'kubernetes.io/metadata.name': pod.namespace };
  if (sel.namespaces !== undefined && sel.namespaces !== null)
    return matchLabels(compileLabelSelector(sel.namespaces), nsLabels);
  const pods = sel.pods;
  if (!isObject(pods)) return false;
  return (
    matchLabels(compileLabelSelector(pods.namespaceSelector), nsLabels) &&
    matchLabels(compileLabelSelector(pods.podSelector), pod.podLabels)
  );
}
