/**
 * `scan --format json`: the ScanReport itself, with every object's keys in contract order so the
 * output is byte-stable however the report was assembled.
 */
import type {
  ClusterReport,
  ClusterStatus,
  Finding,
  KindRead,
  Namespace,
  PeerReport,
  PolicyRef,
  PolicyReport,
  ScanReport,
  ScanSummary,
  SourceRef,
} from '../audit/model.js';
import { SEVERITIES_DESCENDING } from './describe.js';

/**
 * Every key of T must be written, optional ones included (as undefined, which JSON.stringify
 * omits): a field added to the model fails to compile here instead of silently vanishing from the output.
 */
type AllKeys<T> = Omit<T, OptionalKeys<T>> & { readonly [K in OptionalKeys<T>]: T[K] | undefined };
type OptionalKeys<T> = { [K in keyof T]-?: object extends Pick<T, K> ? K : never }[keyof T];

const CLUSTER_STATUSES = ['complete', 'partial', 'failed'] as const satisfies readonly ClusterStatus[];

export function formatJson(report: ScanReport): string {
  return `${JSON.stringify(orderReport(report), null, 2)}\n`;
}

function orderReport(report: ScanReport): AllKeys<ScanReport> {
  return {
    schemaVersion: report.schemaVersion,
    generatedAt: report.generatedAt,
    clusters: report.clusters.map(orderCluster),
    findings: report.findings.map(orderFinding),
    summary: orderSummary(report.summary),
  };
}

function orderCluster(cluster: ClusterReport): AllKeys<ClusterReport> {
  return {
    cluster: cluster.cluster,
    status: cluster.status,
    errors: cluster.errors,
    reads: cluster.reads.map(orderRead),
    namespaces: cluster.namespaces.map(orderNamespace),
    policyCount: cluster.policyCount,
    policies: cluster.policies.map(orderPolicy),
  };
}

function orderRead(read: KindRead): AllKeys<KindRead> {
  return { resource: read.resource, status: read.status, reason: read.reason };
}

function orderNamespace(namespace: Namespace): AllKeys<Namespace> {
  // Labels keep the order they were read in: they are data, not structure.
  return { name: namespace.name, labels: namespace.labels };
}

function orderPolicy(policy: PolicyReport): AllKeys<PolicyReport> {
  return {
    engine: policy.engine,
    kind: policy.kind,
    namespace: policy.namespace,
    name: policy.name,
    appliesTo: policy.appliesTo,
    peers: policy.peers.map(orderPeer),
  };
}

function orderPeer(peer: PeerReport): AllKeys<PeerReport> {
  return { direction: peer.direction, rule: peer.rule, peer: peer.peer, selects: peer.selects };
}

function orderFinding(finding: Finding): AllKeys<Finding> {
  return {
    rule: finding.rule,
    severity: finding.severity,
    cluster: finding.cluster,
    namespace: finding.namespace,
    policy: finding.policy === null ? null : orderPolicyRef(finding.policy),
    message: finding.message,
    fix: finding.fix,
    source: finding.source === undefined ? undefined : orderSource(finding.source),
    waived:
      finding.waived === undefined
        ? undefined
        : { reason: finding.waived.reason, owner: finding.waived.owner, expires: finding.waived.expires },
  };
}

function orderPolicyRef(policy: PolicyRef): AllKeys<PolicyRef> {
  return { kind: policy.kind, namespace: policy.namespace, name: policy.name };
}

function orderSource(source: SourceRef): AllKeys<SourceRef> {
  return { file: source.file, line: source.line };
}

function orderSummary(summary: ScanSummary): AllKeys<ScanSummary> {
  return {
    clusters: summary.clusters,
    clustersByStatus: Object.fromEntries(
      CLUSTER_STATUSES.map((status) => [status, summary.clustersByStatus[status]]),
    ) as ScanSummary['clustersByStatus'],
    namespaces: summary.namespaces,
    policies: summary.policies,
    findings: summary.findings,
    waived: summary.waived,
    // Count maps in a fixed order (highest severity first, rules alphabetically) so reports diff cleanly.
    bySeverity: Object.fromEntries(
      SEVERITIES_DESCENDING.map((severity) => [severity, summary.bySeverity[severity]]),
    ) as ScanSummary['bySeverity'],
    byRule: Object.fromEntries(Object.entries(summary.byRule).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))),
  };
}
