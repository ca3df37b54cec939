/**
 * Shared wording for every output format: how a finding's location is named, the order findings
 * are listed in, and the counts that summarise a scan.
 */
import { SEVERITIES, severityRank } from '../audit/model.js';
import type { ClusterReport, Finding, KindRead, PolicyRef, ScanSummary, Severity } from '../audit/model.js';

/** Highest first. */
export const SEVERITIES_DESCENDING: readonly Severity[] = [...SEVERITIES].reverse();

/** `ns/name` for a namespaced policy, `Kind/name` for a cluster-scoped one (kinds are never valid namespace names). */
export function describePolicy(policy: PolicyRef): string {
  return policy.namespace === null ? `${policy.kind}/${policy.name}` : `${policy.namespace}/${policy.name}`;
}

/**
 * Where a finding points inside its cluster: the namespace, the policy, or `policy -> namespace`
 * when a policy's finding is about another namespace. Null for cluster-wide findings.
 */
export function describeLocation(finding: Finding): string | null {
  const { namespace, policy } = finding;
  if (policy === null) return namespace;
  const name = describePolicy(policy);
  return namespace !== null && namespace !== policy.namespace ? `${name} -> ${namespace}` : name;
}

/** `file:line`, or just the file when the line is unknown. */
export function describeSource(finding: Finding): string | null {
  if (finding.source === undefined) return null;
  const { file, line } = finding.source;
  return line === undefined ? file : `${file}:${line}`;
}

function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * Findings in reading order: highest severity first, then rule, then location. Stable, and
 * independent of locale, so the same report always prints the same way.
 */
export function sortFindings(findings: readonly Finding[]): Finding[] {
  return findings
    .map((finding, index) => ({ finding, index }))
    .sort(
      (a, b) =>
        severityRank(b.finding.severity) - severityRank(a.finding.severity) ||
        compareText(a.finding.rule, b.finding.rule) ||
        compareText(describeLocation(a.finding) ?? '', describeLocation(b.finding) ?? '') ||
        a.index - b.index,
    )
    .map(({ finding }) => finding);
}

export function plural(count: number, singular: string, pluralForm = `${singular}s`): string {
  return `${count} ${count === 1 ? singular : pluralForm}`;
}

/** `1 critical, 2 high` — only the severities that occur, highest first; empty when there are none. */
export function describeSeverityCounts(bySeverity: Readonly<Record<Severity, number>>): string {
  return SEVERITIES_DESCENDING.filter((s) => bySeverity[s] > 0)
    .map((s) => `${bySeverity[s]} ${s}`)
    .join(', ');
}

/** `2 clusters` or `2 clusters (1 partial, 1 failed)`: an incomplete cluster must never read as a clean one. */
export function describeClusterCount(summary: ScanSummary): string {
  const { partial, failed } = summary.clustersByStatus;
  const incomplete = [partial > 0 ? `${partial} partial` : '', failed > 0 ? `${failed} failed` : ''].filter(Boolean);
  const count = plural(summary.clusters, 'cluster');
  return incomplete.length === 0 ? count : `${count} (${incomplete.join(', ')})`;
}

/** The reads of a cluster that did not complete. A kind that is not installed is complete: there is nothing to read. */
export function incompleteReads(cluster: ClusterReport): KindRead[] {
  return cluster.reads.filter((read) => read.status === 'forbidden' || read.status === 'failed');
}

export function describeRead(read: KindRead): string {
  return read.reason === undefined
    ? `${read.resource} ${read.status}`
    : `${read.resource} ${read.status}: ${read.reason}`;
}

export const NAMESPACES_RESOURCE = 'namespaces';

/** Counts that may be unknown: the namespace list is unknown, never empty, when its read did not complete. */
export interface ClusterCounts {
  /** null when unknown */
  readonly namespaces: number | null;
  /** null when unknown */
  readonly policies: number | null;
  /** true when some policy kinds could not be read, so `policies` is a lower bound */
  readonly policiesIncomplete: boolean;
}

export function countCluster(cluster: ClusterReport): ClusterCounts {
  if (cluster.status === 'failed') return { namespaces: null, policies: null, policiesIncomplete: true };
  const incomplete = incompleteReads(cluster);
  const namespacesKnown = !incomplete.some((read) => read.resource === NAMESPACES_RESOURCE);
  return {
    namespaces: namespacesKnown ? cluster.namespaces.length : null,
    policies: cluster.policyCount,
    policiesIncomplete: incomplete.some((read) => read.resource !== NAMESPACES_RESOURCE),
  };
}
