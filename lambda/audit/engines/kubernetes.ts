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
import { SelectorMemo, jsonKey } from '../selectors/memo.js';
import {
  apiGroup,
  refOf,
  type NamespaceTerm,
  type PeerAnalysis,
  type PolicyEngine,
  type SelectorIssue,
} from './types.js';
import { arrayAt, errorMessage, has, isObject, peerPath, specOf } from './util.js';

export type PolicyType = 'Ingress' | 'Egress';

/** SetDefaults_NetworkPolicy: explicit policyTypes are kept; else Ingress, plus Egress iff egress rules exist. */
export function defaultPolicyTypes(spec: unknown): PolicyType[] {
  const explicit = arrayAt(spec, 'policyTypes');
  if (explicit && explicit.length > 0)
    return explicit.filter((t): t is PolicyType => t === 'Ingress' || t === 'Egress');
  const egress = arrayAt(spec, 'egress');
  return egress && egress.length > 0 ? ['Ingress', 'Egress'] : ['Ingress'];
}

/** Valid, satisfiable selectors by their JSON text (the same selector is compiled once). */
const compiled = new SelectorMemo<LabelQuery>();
const namespaceTerms = new SelectorMemo<readonly NamespaceTerm[]>();

/** Compile a selector field, recording an issue (invalid or unsatisfiable) instead of throwing. */
export function compileField(
  sel: unknown,
  field: string,
  issues: SelectorIssue[],
  key: string | undefined = jsonKey(sel),
): LabelQuery | undefined {
  const hit = key === undefined ? undefined : compiled.get(key);
  if (hit !== undefined) return hit;
  const before = issues.length;
  const q = compileUncached(sel, field, issues);
  if (q !== undefined && key !== undefined && issues.length === before) compiled.set(key, q);
  return q;
}

/** namespaceTermsOf, memoised like compileField (the terms are shared: never mutated). */
export function namespaceTermsOfField(sel: unknown, key: string | undefined = jsonKey(sel)): readonly NamespaceTerm[] {
  if (key === undefined) return namespaceTermsOf(sel);
  let terms = namespaceTerms.get(key);
  if (terms === undefined) namespaceTerms.set(key, (terms = namespaceTermsOf(sel)));
  return terms;
}

function compileUncached(sel: unknown, field: string, issues: SelectorIssue[]): LabelQuery | undefined {
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
            peers.push(analyzePeer(p, direction, r, j, peerPath(direction, r, list, j), own, issues)),
          );
        });
      }
    }
    return { engine: 'kubernetes', ref: refOf(obj), source: obj.source, appliesTo, protects: true, peers, issues };
  },
};

const NO_TERMS: readonly NamespaceTerm[] = [];

function analyzePeer(
  p: unknown,
  direction: Direction,
  rule: number,
  peer: number,
  field: string,
  own: LabelQuery,
  issues: SelectorIssue[],
): PeerAnalysis {
  if (!isObject(p)) return invalidPeer(direction, rule, peer, field, 'a peer must be an object', issues);
  const hasNs = has(p, 'namespaceSelector');
  const hasPod = has(p, 'podSelector');
  if (has(p, 'ipBlock')) {
    if (hasNs || hasPod)
      return invalidPeer(direction, rule, peer, field, 'may not specify both ipBlock and another peer', issues);
    return { direction, rule, peer, field, namespaces: null, valid: true, terms: [] };
  }
  if (!hasNs && !hasPod) return invalidPeer(direction, rule, peer, field, 'must specify a peer', issues);
  const before = issues.length;
  const nsKey = hasNs ? jsonKey(p.namespaceSelector) : undefined;
  const nsQuery = hasNs ? compileField(p.namespaceSelector, `${field}.namespaceSelector`, issues, nsKey) : own;
  if (hasPod) compileField(p.podSelector, `${field}.podSelector`, issues);
  if (issues.length > before || nsQuery === undefined)
    return { direction, rule, peer, field, namespaces: NONE, valid: false, terms: [] };
  return {
    direction,
    rule,
    peer,
    field,
    namespaces: nsQuery,
    valid: true,
    terms: hasNs ? namespaceTermsOfField(p.namespaceSelector, nsKey) : NO_TERMS,
  };
}

function invalidPeer(
  direction: Direction,
  rule: number,
  peer: number,
  field: string,
  message: string,
  issues: SelectorIssue[],
): PeerAnalysis {
  issues.push({ field, message });
  return { direction, rule, peer, field, namespaces: NONE, valid: false, terms: [] };
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
