/**
 * The audit core's own domain types. Adapters map client types into these at the edge;
 * the core never sees SDK or client-generated types.
 */

export type Labels = Readonly<Record<string, string>>;

/** A namespace as read: its labels exactly as stored (the core synthesizes well-known ones). */
export interface Namespace {
  readonly name: string;
  readonly labels: Labels;
}

/** Where an object came from, for messages: a manifest file and line, or a cluster API path. */
export interface SourceRef {
  readonly file: string;
  readonly line?: number;
}

/** Any Kubernetes object the audit looks at (policies, admission policies), as plain JSON. */
export interface ResourceObject {
  readonly apiVersion: string;
  readonly kind: string;
  readonly name: string;
  /** null for cluster-scoped objects */
  readonly namespace: string | null;
  /** The whole object as JSON (metadata, spec, ...). */
  readonly body: Readonly<Record<string, unknown>>;
  readonly source?: SourceRef;
}

/** How the read of one kind of object ended. */
export type ReadStatus = 'complete' | 'not-installed' | 'forbidden' | 'failed';

export interface KindRead {
  /** e.g. "namespaces", "networkpolicies.networking.k8s.io", "ciliumnetworkpolicies.cilium.io" */
  readonly resource: string;
  readonly status: ReadStatus;
  readonly reason?: string;
}

/** A problem with the input that did not stop the scan (unknown kind, malformed object, ...). */
export interface InputProblem {
  readonly message: string;
  readonly source?: SourceRef;
}

/** Everything one read of one cluster produced. */
export interface ClusterSnapshot {
  readonly cluster: string;
  /** null when the namespace list could not be read: unknown, never empty. */
  readonly namespaces: readonly Namespace[] | null;
  readonly objects: readonly ResourceObject[];
  /** Per-resource completeness. A manifest source reports every kind complete. */
  readonly reads: readonly KindRead[];
  readonly problems: readonly InputProblem[];
}

export type Engine = 'kubernetes' | 'cilium' | 'calico' | 'adminnetworkpolicy' | 'istio';

export type Direction = 'ingress' | 'egress';

export type Severity = 'critical' | 'high' | 'medium' | 'low' | 'info';

export const SEVERITIES: readonly Severity[] = ['info', 'low', 'medium', 'high', 'critical'];

export function severityRank(s: Severity): number {
  return SEVERITIES.indexOf(s);
}

export interface PolicyRef {
  readonly kind: string;
  /** null for cluster-scoped policies */
  readonly namespace: string | null;
  readonly name: string;
}

export type RuleId =
  | 'label-missing'
  | 'label-invalid'
  | 'namespace-unprotected'
  | 'peer-selects-nothing'
  | 'near-miss'
  | 'selector-invalid'
  | 'enforcement-missing'
  | 'waiver-expired'
  | 'rule-error';

export interface Finding {
  readonly rule: RuleId;
  readonly severity: Severity;
  readonly cluster: string;
  readonly namespace: string | null;
  readonly policy: PolicyRef | null;
  readonly message: string;
  readonly fix: string | null;
  /** Where the offending object was read from, when known (for SARIF and messages). */
  readonly source?: SourceRef;
  /** True when a waiver suppresses this finding (kept in the report, not counted). */
  readonly waived?: { readonly reason: string; readonly owner: string; readonly expires: string };
}

export type ClusterStatus = 'complete' | 'partial' | 'failed';

/** One selection of namespaces by a policy peer, as reported. */
export interface PeerReport {
  readonly direction: Direction;
  readonly rule: number;
  readonly peer: number;
  /** Sorted namespace names, or null when the peer is not a namespace selection (CIDR, entity, ...). */
  readonly selects: readonly string[] | null;
}

export interface PolicyReport {
  readonly engine: Engine;
  readonly kind: string;
  readonly namespace: string | null;
  readonly name: string;
  readonly appliesTo: readonly string[];
  readonly peers: readonly PeerReport[];
}

export interface ClusterResult {
  readonly cluster: string;
  readonly status: ClusterStatus;
  readonly errors: readonly string[];
  readonly reads: readonly KindRead[];
  readonly namespaces: readonly Namespace[];
  /** Every policy's selections by name; computed on demand (large clusters make these large). */
  readonly policyReports: () => readonly PolicyReport[];
  readonly policyCount: number;
  readonly findings: readonly Finding[];
}

export interface ScanSummary {
  readonly clusters: number;
  readonly clustersByStatus: Readonly<Record<ClusterStatus, number>>;
  readonly namespaces: number;
  readonly policies: number;
  /** Findings not suppressed by a waiver. */
  readonly findings: number;
  readonly waived: number;
  readonly bySeverity: Readonly<Record<Severity, number>>;
  readonly byRule: Readonly<Partial<Record<RuleId, number>>>;
}

/** The cluster part of the `scan --format json` contract (findings are listed once, at the top). */
export interface ClusterReport {
  readonly cluster: string;
  readonly status: ClusterStatus;
  readonly errors: readonly string[];
  readonly reads: readonly KindRead[];
  readonly namespaces: readonly Namespace[];
  /** How many policies were analysed (policies may be left out of non-JSON reports). */
  readonly policyCount: number;
  readonly policies: readonly PolicyReport[];
  /** What changed since the cluster's previous recorded run; absent when no history is kept. */
  readonly drift?: readonly DriftEvent[];
}

/** `scan --format json` prints exactly this object (schemaVersion 1). */
export interface ScanReport {
  readonly schemaVersion: 1;
  readonly generatedAt: string;
  readonly clusters: readonly ClusterReport[];
  readonly findings: readonly Finding[];
  readonly summary: ScanSummary;
  /** Slack delivery state (the outbox), when the scan notified. */
  readonly notify?: Readonly<Record<string, unknown>>;
}

export type DriftEventType =
  | 'namespace-created'
  | 'namespace-deleted'
  | 'label-removed'
  | 'label-changed'
  | 'label-added'
  | 'selection-lost'
  | 'selection-gained'
  | 'finding-opened'
  | 'finding-resolved';

/** Every drift event type, in the order events of one namespace are listed. */
export const DRIFT_EVENT_TYPES: readonly DriftEventType[] = [
  'namespace-created',
  'namespace-deleted',
  'label-removed',
  'label-changed',
  'label-added',
  'selection-lost',
  'selection-gained',
  'finding-opened',
  'finding-resolved',
];

/**
 * One change in a cluster between its previous known state and a run (the `drift` contract of
 * `scan --format json`). Fields that do not apply are null:
 * - `label-removed` / `label-changed` / `label-added`: `namespace`, `key`, the `before` and `after` values;
 * - `namespace-created` / `namespace-deleted`: `namespace`, and its labels as sorted `k=v,k2=v2` in `after` / `before`;
 * - `selection-lost` / `selection-gained`: the `namespace` a policy stopped or started selecting, the `policy`,
 *   and the `direction` of its peers, or null when the policy's subject (the namespaces it applies to) changed;
 * - `finding-opened` / `finding-resolved`: the finding's `namespace` and `policy`, its rule id in `key` and its
 *   message in `after` / `before`.
 */
export interface DriftEvent {
  readonly type: DriftEventType;
  readonly cluster: string;
  readonly namespace: string | null;
  readonly key: string | null;
  readonly before: string | null;
  readonly after: string | null;
  readonly policy: PolicyRef | null;
  readonly direction: Direction | null;
}
