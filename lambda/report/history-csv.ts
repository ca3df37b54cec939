/**
 * CSV (RFC 4180, CRLF line ends) for `history --format csv` and `report --format csv`. Cells that
 * a spreadsheet would run as a formula (starting with = + - @ or a tab) get a leading apostrophe:
 * names and messages come from clusters.
 */
import type { Finding, ScanReport } from '../audit/model.js';
import type { HistoryEntry } from '../ports.js';
import { describePolicy } from './describe.js';
import { describeHistoryEntry } from './history-describe.js';

export function csvCell(value: string | number | boolean | null | undefined): string {
  if (value === null || value === undefined) return '';
  let text = String(value);
  if (typeof value === 'string' && /^[=+\-@\t\r]/.test(text)) text = `'${text}`;
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

export function csvRows(rows: readonly (readonly (string | number | boolean | null | undefined)[])[]): string {
  return rows.map((row) => `${row.map(csvCell).join(',')}\r\n`).join('');
}

export function formatHistoryCsv(entries: readonly HistoryEntry[]): string {
  return csvRows([
    ['at', 'run', 'type', 'cluster', 'namespace', 'key', 'before', 'after', 'policy', 'direction', 'description'],
    ...entries.map((e) => [
      e.at,
      e.run,
      e.type,
      e.cluster,
      e.namespace,
      e.key,
      e.before,
      e.after,
      e.policy === null ? null : describePolicy(e.policy),
      e.direction,
      describeHistoryEntry(e),
    ]),
  ]);
}

/** One row per finding of a report as of a time, with when each was first seen (when known). */
export function formatReportCsv(report: ScanReport, firstSeen: (finding: Finding) => string | undefined): string {
  const status = new Map(report.clusters.map((c) => [c.cluster, c.status]));
  return csvRows([
    [
      'as_of',
      'cluster',
      'cluster_status',
      'severity',
      'rule',
      'namespace',
      'policy',
      'message',
      'fix',
      'waived',
      'first_seen',
    ],
    ...report.findings.map((f) => {
      return [
        report.generatedAt,
        f.cluster,
        status.get(f.cluster),
        f.severity,
        f.rule,
        f.namespace,
        f.policy === null ? null : describePolicy(f.policy),
        f.message,
        f.fix,
        f.waived === undefined
          ? 'no'
          : `yes: ${f.waived.reason} (owner ${f.waived.owner}, expires ${f.waived.expires})`,
        firstSeen(f),
      ];
    }),
  ]);
}
