/**
 * Cilium endpoint selectors (selector-semantics §4): keys with label sources, matching against a
 * Cilium identity, the implicit namespace (and cluster) scoping that CiliumNetworkPolicy and
 * CiliumClusterwideNetworkPolicy apply to subjects and peers, the translation of a Kubernetes
 * NetworkPolicy peer, and the namespace-level LabelQuery of an effective selector.
 */
import type { EngineSettings, NamespaceTerm } from '../engines/types.js';
import { SelectorSyntaxError } from './errors.js';
import {
  decodeLabelSelector,
  requirementQuery,
  type SelectorOperator,
  type SelectorRequirement,
} from './kubernetes.js';
import { validateLabelKey } from './labels.js';
import { jsonKey, SelectorMemo } from './memo.js';
import { and, NAME_KEY, NONE, type LabelQuery } from './query.js';
import { isUnsatisfiable } from './satisfiable.js';

/** `k8s:io.kubernetes.pod.namespace`: the pod's namespace name. */
export const POD_NAMESPACE_LABEL = 'io.kubernetes.pod.namespace';
/** `k8s:io.cilium.k8s.namespace.labels.<K>`: namespace label K of the pod's namespace. */
export const NAMESPACE_LABELS_PREFIX = 'io.cilium.k8s.namespace.labels.';
/** `k8s:io.cilium.k8s.policy.cluster`: the ClusterMesh cluster the pod runs in. */
export const CLUSTER_LABEL = 'io.cilium.k8s.policy.cluster';
const SERVICE_ACCOUNT_LABEL = 'io.cilium.k8s.policy.serviceaccount';

/** Label sources: `any` (a key written without a source), `k8s`, `reserved`, or another (`container`, ...). */
export type CiliumSource = string;

export interface CiliumRequirement {
  readonly source: CiliumSource;
  readonly key: string;
  readonly operator: SelectorOperator;
  readonly values: readonly string[];
  /** A matchLabels entry: Cilium's AddMatch overwrites these by key. */
  readonly fromMatchLabels: boolean;
}

/** A parsed (non-nil) endpoint selector: the AND of its requirements; none means every endpoint. */
export interface CiliumSelector {
  readonly requirements: readonly CiliumRequirement[];
}

/** One label of a Cilium identity, e.g. `k8s:app=web` or `reserved:host`. */
export interface CiliumLabel {
  readonly source: CiliumSource;
  readonly key: string;
  readonly value: string;
}

/** Split a selector key into source and key: `k8s:app`, `reserved:host`, `$host` (reserved), `app` (any). */
export function parseCiliumKey(raw: string): { source: CiliumSource; key: string } {
  if (raw.startsWith('$')) return { source: 'reserved', key: raw.slice(1) };
  const i = raw.indexOf(':');
  if (i < 0) return { source: 'any', key: raw };
  const source = raw.slice(0, i);
  return { source: source === '' || source === 'unspec' ? 'any' : source, key: raw.slice(i + 1) };
}

/** Parse one identity label written `source:key=value` (`reserved:host` has the empty value). */
export function parseCiliumLabel(text: string): CiliumLabel {
  const { source, key: rest } = parseCiliumKey(text);
  const eq = rest.indexOf('=');
  return eq < 0 ? { source, key: rest, value: '' } : { source, key: rest.slice(0, eq), value: rest.slice(eq + 1) };
}

/** Key syntax after the source is split off; a namespace-label key is checked on its own label key. */
function validateCiliumKey(raw: string): string | null {
  const { source, key } = parseCiliumKey(raw);
  if (key === '') return `selector key ${JSON.stringify(raw)} has no label key after its source`;
  if (isPodSource(source) && key.startsWith(NAMESPACE_LABELS_PREFIX)) {
    const error = validateLabelKey(key.slice(NAMESPACE_LABELS_PREFIX.length));
    return error && `namespace ${error}`;
  }
  return validateLabelKey(key);
}

/**
 * Parse an endpoint selector (`{matchLabels, matchExpressions}` with source-prefixed keys) as
 * `EndpointSelector.UnmarshalJSON` + `sanitize` do. Throws SelectorSyntaxError for anything Cilium
 * rejects (bad shape, operator, key or value), including a null selector.
 */
export function parseEndpointSelector(sel: unknown, field = 'selector'): CiliumSelector {
  const key = jsonKey(sel);
  const hit = key === undefined ? undefined : parsedSelectors.get(key);
  if (hit !== undefined) return hit;
  const parsed = parseEndpointSelectorUncached(sel, field);
  if (key !== undefined) parsedSelectors.set(key, parsed);
  return parsed;
}

/** Parsed endpoint selectors by their JSON text (many policies repeat `{}` or `{app: web}`). */
const parsedSelectors = new SelectorMemo<CiliumSelector>();

function parseEndpointSelectorUncached(sel: unknown, field: string): CiliumSelector {
  const reqs = decodeLabelSelector(sel, field, validateCiliumKey);
  if (reqs === null)
    throw new SelectorSyntaxError(`${field}: an endpoint selector must be an object, got ${String(sel)}`);
  // matchLabels is a map keyed by the extended key (`any.app`), so `app` and `any:app` collide: the last wins.
  const byKey = new Map<string, CiliumRequirement>();
  const exprs: CiliumRequirement[] = [];
  for (const r of reqs) {
    const c = toCilium(r, parseCiliumKey(r.key));
    if (r.fromMatchLabels) byKey.set(`${c.source}.${c.key}`, c);
    else exprs.push(c);
  }
  return { requirements: [...byKey.values(), ...exprs] };
}

function toCilium(r: SelectorRequirement, { source, key }: { source: CiliumSource; key: string }): CiliumRequirement {
  return { source, key, operator: r.operator, values: r.values, fromMatchLabels: r.fromMatchLabels };
}

/** Does the selector select an identity with these labels (`source:key=value` strings or parsed)? */
export function matchesCiliumIdentity(sel: CiliumSelector, identity: readonly (string | CiliumLabel)[]): boolean {
  const labels = identity.map((l) => (typeof l === 'string' ? parseCiliumLabel(l) : l));
  return sel.requirements.every((r) => {
    // LabelArray.Get: the first label with the key, from the requirement's source or any source for `any`.
    const found = labels.find((l) => l.key === r.key && (r.source === 'any' || l.source === r.source));
    switch (r.operator) {
      case 'In':
        return found !== undefined && r.values.includes(found.value);
      case 'NotIn':
        return found === undefined || !r.values.includes(found.value);
      case 'Exists':
        return found !== undefined;
      case 'DoesNotExist':
        return found === undefined;
    }
  });
}

// ---------------------------------------------------------------------------------------------
// Implicit scoping (utils.go getEndpointSelector / ParseToCiliumRule; network_policy.go)

export interface CiliumScopeOptions {
  /** 'cross-namespace' after cilium/cilium#30650, 'policy-namespace' before it. */
  readonly namespaceLabels: EngineSettings['ciliumNamespaceLabels'];
  /** Cilium's `policy-default-local-cluster` (1.18+, on by default from 1.19). Default false. */
  readonly policyDefaultLocalCluster?: boolean;
  /** The local ClusterMesh cluster name (`cluster-name`). Default "default". */
  readonly localCluster?: string;
}

export interface CiliumScope extends CiliumScopeOptions {
  /** The CiliumNetworkPolicy's namespace; null (or "") for a CiliumClusterwideNetworkPolicy. */
  readonly namespace: string | null;
  /** The rule's endpointSelector names `reserved:init` (CCNP peers then get no namespace guard). */
  readonly subjectSelectsInit?: boolean;
}

/** Where a selector sits in a rule: the subject, an Endpoints peer list or a Requires list. */
export type CiliumSelectorRole = 'subject' | 'endpoints' | 'requires';

/** The selector Cilium actually enforces for `sel` in this role and policy scope. */
export function scopeCiliumSelector(sel: CiliumSelector, role: CiliumSelectorRole, scope: CiliumScope): CiliumSelector {
  const ns = scope.namespace || null;
  const reqs = sel.requirements;
  if (role === 'subject') {
    // A CNP subject is always pinned to the policy namespace, overwriting a k8s: matchLabels entry.
    if (ns === null || has(reqs, 'reserved', 'init')) return sel;
    return { requirements: addMatch(reqs, 'k8s', POD_NAMESPACE_LABEL, ns) };
  }
  if (role === 'endpoints' && reqs.some((r) => r.source === 'reserved')) return sel;
  let out = reqs;
  if (!has(reqs, 'k8s', POD_NAMESPACE_LABEL) && !has(reqs, 'any', POD_NAMESPACE_LABEL)) {
    if (ns === null) {
      if (!scope.subjectSelectsInit) out = [...out, requirement('k8s', POD_NAMESPACE_LABEL, 'Exists', [])];
    } else if (scope.namespaceLabels === 'policy-namespace' || !selectsNamespaceLabels(reqs)) {
      out = addMatch(out, 'k8s', POD_NAMESPACE_LABEL, ns);
    }
  }
  if (scope.policyDefaultLocalCluster && !has(reqs, 'k8s', CLUSTER_LABEL) && !has(reqs, 'any', CLUSTER_LABEL))
    out = addMatch(out, 'k8s', CLUSTER_LABEL, scope.localCluster ?? 'default');
  return out === reqs ? sel : { requirements: out };
}

/** Does the (unscoped) subject name `reserved:init`? */
export function selectsInit(sel: CiliumSelector): boolean {
  return has(sel.requirements, 'reserved', 'init');
}

/**
 * The selector Cilium builds for one Kubernetes NetworkPolicy peer (`parseNetworkPolicyPeer`):
 * namespaceSelector keys become `k8s:io.cilium.k8s.namespace.labels.<key>` (`{}` becomes
 * `k8s:io.kubernetes.pod.namespace Exists`), podSelector keys get the `k8s` source, a podSelector-only
 * peer is pinned to the policy namespace. Null for a peer with neither (ipBlock). Throws
 * SelectorSyntaxError for invalid selectors.
 */
export function translateNetworkPolicyPeer(
  peer: unknown,
  namespace: string,
  options: Omit<CiliumScopeOptions, 'namespaceLabels'> = {},
  field = 'peer',
): CiliumSelector | null {
  if (typeof peer !== 'object' || peer === null || Array.isArray(peer))
    throw new SelectorSyntaxError(`${field}: a NetworkPolicy peer must be an object`);
  const { podSelector, namespaceSelector } = peer as Record<string, unknown>;
  let pods = decodeLabelSelector(podSelector, `${field}.podSelector`)?.map((r) =>
    toCilium(r, { source: 'k8s', key: r.key }),
  );
  const namespaces = decodeLabelSelector(namespaceSelector, `${field}.namespaceSelector`);
  if (pods === undefined && namespaces === null) return null;
  const namesCluster = pods?.some((r) => r.key === CLUSTER_LABEL && !(r.fromMatchLabels && r.values[0] === ''));
  if (options.policyDefaultLocalCluster && !namesCluster)
    pods = addMatch(pods ?? [], 'k8s', CLUSTER_LABEL, options.localCluster ?? 'default');
  if (namespaces !== null) {
    const nsReqs = namespaces.length
      ? namespaces.map((r) => toCilium(r, { source: 'k8s', key: NAMESPACE_LABELS_PREFIX + r.key }))
      : [requirement('k8s', POD_NAMESPACE_LABEL, 'Exists', [])];
    return { requirements: [...nsReqs, ...(pods ?? [])] };
  }
  return { requirements: addMatch(pods ?? [], 'k8s', POD_NAMESPACE_LABEL, namespace) };
}

function requirement(
  source: CiliumSource,
  key: string,
  operator: SelectorOperator,
  values: readonly string[],
  fromMatchLabels = false,
): CiliumRequirement {
  return { source, key, operator, values, fromMatchLabels };
}

/** EndpointSelector.AddMatch: set the matchLabels entry for source.key (replacing any). */
function addMatch(
  reqs: readonly CiliumRequirement[],
  source: CiliumSource,
  key: string,
  value: string,
): CiliumRequirement[] {
  return [
    ...reqs.filter((r) => !(r.fromMatchLabels && r.source === source && r.key === key)),
    requirement(source, key, 'In', [value], true),
  ];
}

/** EndpointSelector.HasKey for the extended key source.key. */
function has(reqs: readonly CiliumRequirement[], source: CiliumSource, key: string): boolean {
  for (let i = 0; i < reqs.length; i++) if (reqs[i]!.source === source && reqs[i]!.key === key) return true;
  return false;
}

function selectsNamespaceLabels(reqs: readonly CiliumRequirement[]): boolean {
  for (let i = 0; i < reqs.length; i++)
    if (isPodSource(reqs[i]!.source) && reqs[i]!.key.startsWith(NAMESPACE_LABELS_PREFIX)) return true;
  return false;
}

function isPodSource(source: CiliumSource): boolean {
  return source === 'k8s' || source === 'any';
}

// ---------------------------------------------------------------------------------------------
// Which labels enter a pod's identity (pkg/labelsfilter defaults, §4.1)

interface LabelPrefix {
  readonly re: RegExp;
  readonly ignore: boolean;
}

const DEFAULT_LABEL_FILTER: readonly LabelPrefix[] = [
  ...[
    'io\\.kubernetes\\.pod\\.namespace',
    'io\\.cilium\\.k8s\\.namespace\\.labels',
    'app\\.kubernetes\\.io',
    'io\\.cilium\\.k8s\\.policy\\.cluster',
  ].map((p) => ({ re: new RegExp(`^(?:${p})`), ignore: false })),
  ...[
    'io\\.kubernetes',
    'kubernetes\\.io',
    'statefulset\\.kubernetes\\.io/pod-name',
    'apps\\.kubernetes\\.io/pod-index',
    'batch\\.kubernetes\\.io/job-completion-index',
    '.*beta\\.kubernetes\\.io',
    'k8s\\.io',
    'pod-template-generation',
    'pod-template-hash',
    'controller-revision-hash',
    'annotation.*',
    'etcd_node',
  ].map((p) => ({ re: new RegExp(`^(?:${p})`), ignore: true })),
];

/**
 * Does a `k8s`-source label with this key enter the identity under Cilium's default label filter?
 * A label is kept unless an exclude matches, and then only if a longer include also matches (the
 * match length of a regex is where its match ends, so `.*beta.kubernetes.io` reaches past the
 * `io.cilium.k8s.namespace.labels` include).
 */
export function isCiliumIdentityLabel(key: string): boolean {
  let known = identityLabels.get(key);
  if (known === undefined) identityLabels.set(key, (known = identityLabelUncached(key)));
  return known;
}

const identityLabels = new SelectorMemo<boolean>();

function identityLabelUncached(key: string): boolean {
  let included = 0;
  let ignored = 0;
  for (const p of DEFAULT_LABEL_FILTER) {
    const m = p.re.exec(key);
    if (!m) continue;
    const len = m[0].length;
    if (p.ignore) ignored = ignored === 0 || len < ignored ? len : ignored;
    else included = Math.max(included, len);
  }
  return ignored === 0 || included > ignored;
}

/** Can a pod's identity carry this k8s-source key at all? */
function podIdentityHasKey(key: string): boolean {
  // SanitizePodLabels strips pod labels under io.cilium.k8s; Cilium then adds its own ones.
  if (key.startsWith('io.cilium.k8s') && key !== SERVICE_ACCOUNT_LABEL && key !== CLUSTER_LABEL) return false;
  return isCiliumIdentityLabel(key);
}

// ---------------------------------------------------------------------------------------------
// Namespace-level view of an effective selector

/**
 * The namespaces an effective (already scoped) selector can select pods in, as a namespace-level
 * query: `io.cilium.k8s.namespace.labels.<K>` requirements become requirements on namespace label K,
 * `io.kubernetes.pod.namespace` ones become requirements on the namespace name (NAME_KEY), pod-label
 * requirements only matter when no pod can satisfy them (then NONE). A label the identity cannot
 * carry (another source, the label filter) behaves as absent. Null when the selector names a
 * `reserved:` label: it selects host, world, ... identities, not pods in namespaces.
 */
export function ciliumNamespaceQuery(sel: CiliumSelector): LabelQuery | null {
  if (sel.requirements.some((r) => r.source === 'reserved')) return null;
  const namespaceTerms: LabelQuery[] = [];
  const podTerms: LabelQuery[] = [];
  for (const r of sel.requirements) {
    // Does the requirement fail when its label is absent?
    const absent = r.operator === 'In' || r.operator === 'Exists';
    if (!isPodSource(r.source)) {
      if (absent) return NONE; // pods carry only k8s-source labels
    } else if (r.key === POD_NAMESPACE_LABEL) {
      namespaceTerms.push(requirementQuery(NAME_KEY, r.operator, r.values));
    } else if (r.key.startsWith(NAMESPACE_LABELS_PREFIX)) {
      if (isCiliumIdentityLabel(r.key))
        namespaceTerms.push(requirementQuery(r.key.slice(NAMESPACE_LABELS_PREFIX.length), r.operator, r.values));
      else if (absent) return NONE;
    } else if (podIdentityHasKey(r.key)) {
      podTerms.push(requirementQuery(r.key, r.operator, r.values));
    } else if (absent) {
      return NONE;
    }
  }
  if (isUnsatisfiable(and(...podTerms))) return NONE;
  const q = and(...namespaceTerms);
  return isUnsatisfiable(q) ? NONE : q;
}

/**
 * The positive single-value namespace-label terms of a selector (`io.cilium.k8s.namespace.labels.<K>`
 * in matchLabels or a one-value In) as `{key: K, value}`; never pod-label terms. Keys the identity
 * filter drops are left out: no namespace label can satisfy them.
 */
/** Parsed selectors are immutable and shared (see parseEndpointSelector): their terms are listed once. */
const namespaceTermLists = new WeakMap<CiliumSelector, readonly NamespaceTerm[]>();

export function ciliumNamespaceTerms(sel: CiliumSelector): readonly NamespaceTerm[] {
  let terms = namespaceTermLists.get(sel);
  if (terms === undefined) namespaceTermLists.set(sel, (terms = namespaceTermsUncached(sel)));
  return terms;
}

function namespaceTermsUncached(sel: CiliumSelector): NamespaceTerm[] {
  return sel.requirements
    .filter(
      (r) =>
        isPodSource(r.source) &&
        r.operator === 'In' &&
        r.values.length === 1 &&
        r.key.startsWith(NAMESPACE_LABELS_PREFIX) &&
        isCiliumIdentityLabel(r.key),
    )
    .map((r) => ({ key: r.key.slice(NAMESPACE_LABELS_PREFIX.length), value: r.values[0]! }));
}
