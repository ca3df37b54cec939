/**
 * What every policy engine module answers for one policy object: which namespaces it applies to
 * (its subject) and which namespaces each ingress/egress peer selects, as namespace-level
 * LabelQueries evaluated later against the cluster's NamespaceIndex.
 */
import type { Direction, Engine, PolicyRef, ResourceObject, SourceRef } from '../model.js';
import type { LabelQuery } from '../selectors/query.js';

export interface EngineSettings {
  /**
   * Cilium agents after cilium/cilium#30650 let an `io.cilium.k8s.namespace.labels.*` key in a
   * CiliumNetworkPolicy peer select pods in any namespace ('cross-namespace'); older agents still
   * pin such a peer to the policy namespace ('policy-namespace').
   */
  readonly ciliumNamespaceLabels: 'cross-namespace' | 'policy-namespace';
  /** Istio's meshConfig rootNamespace: AuthorizationPolicies there apply mesh-wide. */
  readonly istioRootNamespace: string;
}

export const DEFAULT_ENGINE_SETTINGS: EngineSettings = {
  ciliumNamespaceLabels: 'cross-namespace',
  istioRootNamespace: 'istio-system',
};

/**
 * A positive `key=value` term of a namespace-level selector (a namespaceSelector's matchLabels or
 * single-value In, a Calico namespaceSelector's `==`/`in`, a Cilium
 * `io.cilium.k8s.namespace.labels.<key>` term). Never a pod-label term. Used by `near-miss`.
 */
export interface NamespaceTerm {
  readonly key: string;
  readonly value: string;
}

export interface PeerAnalysis {
  readonly direction: Direction;
  /** Index into the policy's own rule list (ingress[rule], egress[rule], a Calico rule, ...). */
  readonly rule: number;
  /** Index of the peer inside the rule (from[peer], fromEndpoints[peer]; a Calico rule's source is 0). */
  readonly peer: number;
  /** Human-readable path to the peer, e.g. "spec.ingress[0].from[1]". */
  readonly field: string;
  /** Namespaces this peer selects, or null when it is not a namespace selection (ipBlock, CIDR, entity). */
  readonly namespaces: LabelQuery | null;
  /** False when the peer's selector is invalid (reported as selector-invalid, never as selecting nothing). */
  readonly valid: boolean;
  readonly terms: readonly NamespaceTerm[];
}

export interface SelectorIssue {
  /** Path to the offending field, e.g. "spec.ingress[0].from[0].namespaceSelector". */
  readonly field: string;
  readonly message: string;
}

export interface PolicyAnalysis {
  readonly engine: Engine;
  readonly ref: PolicyRef;
  readonly source?: SourceRef;
  /** Namespaces whose pods the subject can select. */
  readonly appliesTo: LabelQuery;
  /** True for network policies that put selected pods behind a boundary (counts for namespace-unprotected). */
  readonly protects: boolean;
  readonly peers: readonly PeerAnalysis[];
  readonly issues: readonly SelectorIssue[];
}

export interface PolicyEngine {
  readonly engine: Engine;
  /** True when this engine understands the object (by apiVersion group and kind). */
  handles(obj: ResourceObject): boolean;
  /** Never throws for malformed input: problems become issues. */
  analyze(obj: ResourceObject, settings: EngineSettings): PolicyAnalysis;
}

/** The API group of an apiVersion ("networking.k8s.io/v1" -> "networking.k8s.io", "v1" -> ""). */
export function apiGroup(apiVersion: string): string {
  const i = apiVersion.lastIndexOf('/');
  return i < 0 ? '' : apiVersion.slice(0, i);
}

export function refOf(obj: ResourceObject): PolicyRef {
  return { kind: obj.kind, namespace: obj.namespace, name: obj.name };
}
