/** Assemble the scan report (the `scan --format json` contract) from evaluated clusters. */
import {
  SEVERITIES,
  severityRank,
  type ClusterReport,
  type ClusterResult,
  type ClusterStatus,
  type Finding,
  type PolicyReport,
  type RuleId,
  type ScanReport,
  type ScanSummary,
  type Severity,
} from './model.js';

export interface ReportOptions {
  /** Include every policy's selections by namespace name (the JSON contract); costly on huge clusters. */
  readonly includePolicies: boolean;
}

export function buildScanReport(
  results: readonly ClusterResult[],
  generatedAt: string,
  options: ReportOptions,
): ScanReport {
  const findings = results.flatMap((r) => r.findings).sort(compareFindings);
  return {
    schemaVersion: 1,
    generatedAt,
    clusters: results.map((r) => clusterReportOf(r, options.includePolicies ? r.policyReports() : [])),
    findings,
    summary: summarize(results, findings),
  };
}

/** A cluster's part of the report, with the policies given. */
export function clusterReportOf(r: ClusterResult, policies: readonly PolicyReport[]): ClusterReport {
  return {
    cluster: r.cluster,
    status: r.status,
    errors: r.errors,
    reads: r.reads,
    namespaces: r.namespaces,
    policyCount: r.policyCount,
    policies,
  };
}

/** The counts of a report; reads only each cluster's status, namespaces and policy count. */
export function summarize(
  results: readonly Pick<ClusterResult, 'status' | 'namespaces' | 'policyCount'>[],
  findings: readonly Finding[],
): ScanSummary {
  const bySeverity = Object.fromEntries(SEVERITIES.map((s) => [s, 0])) as Record<Severity, number>;
  const byRule: Partial<Record<RuleId, number>> = {};
  const clustersByStatus: Record<ClusterStatus, number> = { complete: 0, partial: 0, failed: 0 };
  let waived = 0;
  for (const f of findings) {
    if (f.waived) {
      waived++;
      continue;
    }
    bySeverity[f.severity]++;
    byRule[f.rule] = (byRule[f.rule] ?? 0) + 1;
  }
  for (const r of results) clustersByStatus[r.status]++;
  return {
    clusters: results.length,
    clustersByStatus,
    namespaces: results.reduce((n, r) => n + r.namespaces.length, 0),
    policies: results.reduce((n, r) => n + r.policyCount, 0),
    findings: findings.length - waived,
    waived,
    bySeverity,
    byRule,
  };
}

/** Highest severity first, then cluster, rule, namespace, message: a stable order. */
export function compareFindings(a: Finding, b: Finding): number {
  return (
    severityRank(b.severity) - severityRank(a.severity) ||
    cmp(a.cluster, b.cluster) ||
    cmp(a.rule, b.rule) ||
    cmp(a.namespace ?? '', b.namespace ?? '') ||
    cmp(a.message, b.message)
  );
}

const cmp = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/** True when an unwaived finding is at or above the threshold ('none' never fails). */
export function failsAt(report: ScanReport, threshold: Severity | 'none'): boolean {
  return report.findings.some((f) => !f.waived && severityFails(f.severity, threshold));
}

/** True when a finding of `severity` (null: none) fails a scan at `threshold`. */
export function severityFails(severity: Severity | null, threshold: Severity | 'none'): boolean {
  return threshold !== 'none' && severity !== null && severityRank(severity) >= severityRank(threshold);
}
