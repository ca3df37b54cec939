/**
 * Kubernetes NetworkPolicy (networking.k8s.io/v1): the subject is always confined to the policy's
 * namespace; a peer selects namespaces through namespaceSelector (nil != {}), a podSelector-only
 * peer stays in the policy namespace, and an ipBlock is not a namespace selection
 * (selector-semantics §2).
 */
import type { Direction } from '../model.js';
import { compileLabelSelector, namespaceTermsOf } from '../selectors/kubernetes.js';
import { matchLabels, namedNamespaces, NONE, type LabelQuery } from '../selectors/query.js';
import { isUnsatisfiable } from '../selectors/satisfiable.js';
import { apiGroup, refOf, type PeerAnalysis, type PolicyEngine, type SelectorIssue } from './types.js';
import { arrayAt, errorMessage, has, isObject, specOf } from './util.js';

export type PolicyType = 'Ingress' | 'Egress';

/** SetDefaults_NetworkPolicy: explicit policyTypes are kept; else Ingress, plus Egress iff egress rules exist. */
export function defaultPolicyTypes(spec: unknown): PolicyType[] {
  const explicit = arrayAt(spec, 'policyTypes');
  if (explicit && explicit.length > 0)
    return explicit.filter((t): t is PolicyType => t === 'Ingress' || t === 'Egress');
  const egress = arrayAt(spec, 'egress');
  return egress && egress.length > 0 ? ['Ingress', 'Egress'] : ['Ingress'];
}

/** Compile a selector field, recording an issue (invalid or unsatisfiable) instead of throwing. */
export function compileField(sel: unknown, field: string, issues: SelectorIssue[]): LabelQuery | undefined {
  let q: LabelQuery;
  try {
    q = compileLabelSelector(sel, field);
  } catch (e) {
    issues.push({ field, message: errorMessage(e) });
    return undefined;
  }
  if (isUnsatisfiable(q)) {
    issues.push({
      field,
      message: 'no labels can ever satisfy this selector (its requirements contradict each other)',
    });
    return undefined;
  }
  return q;
}

export const kubernetesEngine: PolicyEngine = {
  engine: 'kubernetes',
  handles: (obj) => obj.kind === 'NetworkPolicy' && apiGroup(obj.apiVersion) === 'networking.k8s.io',
  analyze(obj) {
    const issues: SelectorIssue[] = [];
    const peers: PeerAnalysis[] = [];
    // A manifest without metadata.namespace is applied to the default namespace.
    const ns = obj.namespace ?? 'default';
    const own = namedNamespaces(ns);
    const spec = specOf(obj);
    let appliesTo: LabelQuery = NONE;
    if (!spec) {
      issues.push({ field: 'spec', message: 'a NetworkPolicy needs a spec object' });
    } else {
      // spec.podSelector is a non-pointer: absent means {} (every pod in the namespace).
      const subject = compileField(has(spec, 'podSelector') ? spec.podSelector : {}, 'spec.podSelector', issues);
      if (subject) appliesTo = own;
      const types = arrayAt(spec, 'policyTypes');
      if (types === undefined) issues.push({ field: 'spec.policyTypes', message: 'policyTypes must be a list' });
      else
        types.forEach((t, i) => {
          if (t !== 'Ingress' && t !== 'Egress')
            issues.push({ field: `spec.policyTypes[${i}]`, message: `unsupported policy type ${JSON.stringify(t)}` });
        });
      for (const direction of ['ingress', 'egress'] as const) {
        const rules = arrayAt(spec, direction);
        if (rules === undefined) {
          issues.push({ field: `spec.${direction}`, message: `${direction} must be a list of rules` });
          continue;
        }
        rules.forEach((rule, r) => {
          const list = direction === 'ingress' ? 'from' : 'to';
          const ps = arrayAt(rule, list);
          if (!isObject(rule) || ps === undefined) {
            issues.push({ field: `spec.${direction}[${r}]`, message: `a rule must be an object with a ${list} list` });
            return;
          }
          ps.forEach((p, j) =>
            peers.push(analyzePeer(p, direction, r, j, `spec.${direction}[${r}].${list}[${j}]`, own, issues)),
          );
        });
      }
    }
    return { engine: 'kubernetes', ref: refOf(obj), source: obj.source, appliesTo, protects: true, peers, issues };
  },
};

function analyzePeer(
  p: unknown,
  direction: Direction,
  rule: number,
  peer: number,
  field: string,
  own: LabelQuery,
  issues: SelectorIssue[],
): PeerAnalysis {
  const base = { direction, rule, peer, field };
  const invalid = (message: string): PeerAnalysis => {
    issues.push({ field, message });
    return { ...base, namespaces: NONE, valid: false, terms: [] };
  };
  if (!isObject(p)) return invalid('a peer must be an object');
  const hasNs = has(p, 'namespaceSelector');
  const hasPod = has(p, 'podSelector');
  if (has(p, 'ipBlock')) {
    if (hasNs || hasPod) return invalid('may not specify both ipBlock and another peer');
    return { ...base, namespaces: null, valid: true, terms: [] };
  }
  if (!hasNs && !hasPod) return invalid('must specify a peer');
  const before = issues.length;
  const nsQuery = hasNs ? compileField(p.namespaceSelector, `${field}.namespaceSelector`, issues) : own;
  if (hasPod) compileField(p.podSelector, `${field}.podSelector`, issues);
  if (issues.length > before || nsQuery === undefined) return { ...base, namespaces: NONE, valid: false, terms: [] };
  return {
    ...base,
    namespaces: nsQuery,
    valid: true,
    terms: hasNs ? namespaceTermsOf(p.namespaceSelector) : [],
  };
}

/** A pod as a policy sees it: its namespace (name and labels as stored) and its own labels. */
export interface PodView {
  readonly namespace: string;
  readonly namespaceLabels: Readonly<Record<string, string>>;
  readonly podLabels: Readonly<Record<string, string>>;
  readonly hostNetwork?: boolean;
}

/**
 * Does one NetworkPolicyPeer select this pod (selector-semantics §2.6)? The namespace's labels get
 * `kubernetes.io/metadata.name` synthesized. Throws SelectorSyntaxError for an invalid selector.
 */
export function networkPolicyPeerMatches(peer: unknown, policyNamespace: string, pod: PodView): boolean {
  if (!isObject(peer) || has(peer, 'ipBlock')) return false;
  const nsLabels = { ...pod.namespaceLabels, 'kubernetes.io/metadata.name': pod.namespace };
  const podOk = !has(peer, 'podSelector') || matchLabels(compileLabelSelector(peer.podSelector), pod.podLabels);
  if (has(peer, 'namespaceSelector'))
    return matchLabels(compileLabelSelector(peer.namespaceSelector), nsLabels) && podOk;
  if (has(peer, 'podSelector')) return pod.namespace === policyNamespace && podOk;
  return false;
}
