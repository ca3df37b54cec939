/**
 * `scan --format json`: the ScanReport itself, with every object's keys in contract order so the
 * output is byte-stable however the report was assembled.
 */
import type {
  ClusterReport,
  ClusterStatus,
  DriftEvent,
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
    notify: report.notify,
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
    // Present only when history is kept (the events of this run); absent otherwise.
    drift: cluster.drift?.map(orderDriftEvent),
  };
}

function orderDriftEvent(event: DriftEvent): AllKeys<DriftEvent> {
  return {
    type: event.type,
    cluster: event.cluster,
    namespace: event.namespace,
    key: event.key,
    before: event.before,
    after: event.after,
    policy: event.policy === null ? null : orderPolicyRef(event.policy),
    direction: event.direction,
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

const POLICIES_SENTINEL = '\u0000labelguard-policies\u0000';

const indent = (text: string, depth: number): string => text.replace(/\n/g, `\n${' '.repeat(2 * depth)}`);

/** A top-level `"key": value` line of formatJson's text (with its comma unless it is the last). */
export function jsonTopLevelLine(key: string, value: unknown, last: boolean): string {
  return `  ${JSON.stringify(key)}: ${indent(JSON.stringify(value, null, 2), 1)}${last ? '' : ','}\n`;
}

/**
 * One element of formatJson's `clusters` array, in pieces (no comma or newline after it), its
 * policies taken one at a time from `policies`.
 */
export function* jsonClusterChunks(cluster: ClusterReport, policies: Iterable<PolicyReport>): Generator<string> {
  const text = indent(JSON.stringify({ ...orderCluster(cluster), policies: POLICIES_SENTINEL }, null, 2), 2);
  const [before, after] = text.split(JSON.stringify(POLICIES_SENTINEL)) as [string, string];
  yield `    ${before}`;
  let first = true;
  for (const policy of policies) {
    yield `${first ? '[\n' : ',\n'}        ${policyText(policy, 4)}`;
    first = false;
  }
  yield first ? '[]' : '\n      ]';
  yield after;
}

/**
 * `indent(JSON.stringify(orderPolicy(policy), null, 2), depth)`, written directly: a large cluster's
 * policies list a namespace name once for every policy that selects it (a gigabyte of text for
 * 100,000 namespaces), and building that generically, then indenting it with a regular
 * expression, cost most of the JSON report's time. Lists of names that need no escaping (the
 * usual case: namespace names) are joined in one go.
 */
export function policyText(policy: PolicyReport, depth: number): string {
  const pad = ' '.repeat(2 * depth);
  const p1 = `${pad}  `;
  const p2 = `${pad}    `;
  const p3 = `${pad}      `;
  const q = (text: string): string => JSON.stringify(text);
  const peers =
    policy.peers.length === 0
      ? '[]'
      : `[\n${policy.peers
          .map(
            (peer) =>
              `${p2}{\n${p3}"direction": ${q(peer.direction)},\n${p3}"rule": ${JSON.stringify(peer.rule)},\n` +
              `${p3}"peer": ${JSON.stringify(peer.peer)},\n` +
              `${p3}"selects": ${peer.selects === null ? 'null' : stringList(peer.selects, p3)}\n${p2}}`,
          )
          .join(',\n')}\n${p1}]`;
  return (
    `{\n${p1}"engine": ${q(policy.engine)},\n${p1}"kind": ${q(policy.kind)},\n` +
    `${p1}"namespace": ${policy.namespace === null ? 'null' : q(policy.namespace)},\n` +
    `${p1}"name": ${q(policy.name)},\n${p1}"appliesTo": ${stringList(policy.appliesTo, p1)},\n` +
    `${p1}"peers": ${peers}\n${pad}}`
  );
}

/** What JSON.stringify escapes in a string (a lone surrogate included; pairs are let through here to the slow path). */
// eslint-disable-next-line no-control-regex -- control characters are exactly what JSON escapes
const NEEDS_ESCAPE = /["\\\u0000-\u001f\ud800-\udfff]/;

/** A list of strings as JSON.stringify(list, null, 2) writes it, its lines at `at` + 2 spaces. */
function stringList(items: readonly string[], at: string): string {
  if (items.length === 0) return '[]';
  const inner = `${at}  `;
  if (!NEEDS_ESCAPE.test(items.join(''))) return `[\n${inner}"${items.join(`",\n${inner}"`)}"\n${at}]`;
  return `[\n${inner}${items.map((s) => JSON.stringify(s)).join(`,\n${inner}`)}\n${at}]`;
}

/** One element of formatJson's `findings` array (no comma or newline after it). */
export function jsonFindingText(finding: Finding): string {
  return `    ${indent(JSON.stringify(orderFinding(finding), null, 2), 2)}`;
}

/** formatJson's `summary`, keys in contract order. */
export function jsonSummaryValue(summary: ScanSummary): unknown {
  return orderSummary(summary);
}

/**
 * The same bytes as formatJson, in pieces, with each cluster's policies taken one at a time from
 * `policiesOf` instead of from the report: a 100,000-namespace scan never holds its whole JSON
 * text (or every cluster's selections) in memory at once.
 */
export function* formatJsonChunks(
  report: ScanReport,
  policiesOf: (clusterIndex: number) => Iterable<PolicyReport>,
): Generator<string> {
  yield '{\n';
  yield jsonTopLevelLine('schemaVersion', report.schemaVersion, false);
  yield jsonTopLevelLine('generatedAt', report.generatedAt, false);
  if (report.clusters.length === 0) yield '  "clusters": [],\n';
  else {
    yield '  "clusters": [\n';
    for (const [i, cluster] of report.clusters.entries()) {
      yield* jsonClusterChunks(cluster, policiesOf(i));
      yield i < report.clusters.length - 1 ? ',\n' : '\n';
    }
    yield '  ],\n';
  }
  if (report.findings.length === 0) yield '  "findings": [],\n';
  else {
    yield '  "findings": [\n';
    for (const [i, finding] of report.findings.entries())
      yield `${jsonFindingText(finding)}${i < report.findings.length - 1 ? ',' : ''}\n`;
    yield '  ],\n';
  }
  yield jsonTopLevelLine('summary', orderSummary(report.summary), report.notify === undefined);
  if (report.notify !== undefined) yield jsonTopLevelLine('notify', report.notify, true);
  yield '}\n';
}
