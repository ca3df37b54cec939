/**
 * A GitHub-flavoured summary for PR comments and `$GITHUB_STEP_SUMMARY`: the clusters, the
 * findings (fixes in code spans), and waived findings folded away. Every cell is escaped, since
 * names and messages come from clusters and manifests.
 */
import type { ClusterReport, Finding, ScanReport, Severity } from '../audit/model.js';
import {
  countCluster,
  describeClusterCount,
  describeLocation,
  describeRead,
  describeSeverityCounts,
  incompleteReads,
  plural,
  sortFindings,
} from './describe.js';
import { describeDriftEvent } from './history-describe.js';

const SEVERITY_BADGE: Readonly<Record<Severity, string>> = {
  critical: '🔴 critical',
  high: '🟠 high',
  medium: '🟡 medium',
  low: '🔵 low',
  info: '⚪ info',
};

const STATUS_BADGE: Readonly<Record<ClusterReport['status'], string>> = {
  complete: '✅ complete',
  partial: '⚠️ partial',
  failed: '❌ failed',
};

/** Drift rows listed before pointing to `labelguard history`. */
export const DRIFT_ROWS = 100;

export function formatMarkdown(report: ScanReport): string {
  const active = sortFindings(report.findings.filter((f) => f.waived === undefined));
  const waived = sortFindings(report.findings.filter((f) => f.waived !== undefined));
  const { summary } = report;
  const severities = describeSeverityCounts(summary.bySeverity);

  const out: string[] = [
    '## labelguard report',
    '',
    `**${plural(summary.findings, 'finding')}**${severities === '' ? '' : ` (${severities})`} in ${describeClusterCount(summary)}; ${summary.waived} waived. Generated ${escapeCell(report.generatedAt)}.`,
    '',
    '| Cluster | Status | Namespaces | Policies | Findings |',
    '| --- | --- | ---: | ---: | ---: |',
    ...report.clusters.map((cluster) => clusterRow(cluster, report.findings)),
  ];

  const problems = report.clusters.flatMap((cluster) => [
    ...cluster.errors.map((error) => `**${escapeCell(cluster.cluster)}**: ${escapeCell(error)}`),
    ...incompleteReads(cluster).map(
      (read) => `**${escapeCell(cluster.cluster)}**: incomplete read: ${escapeCell(describeRead(read))}`,
    ),
  ]);
  if (problems.length > 0) {
    out.push('', '> [!WARNING]', '> Some clusters could not be read completely; their findings are incomplete.', '>');
    out.push(...problems.map((problem) => `> - ${problem}`));
  }

  out.push('', '### Findings', '');
  if (active.length === 0) {
    out.push(problems.length > 0 ? 'No findings in what could be read.' : 'No findings.');
  } else {
    out.push('| Severity | Rule | Where | Message |', '| --- | --- | --- | --- |', ...active.map(findingRow));
  }

  const drifting = report.clusters.filter((cluster) => cluster.drift !== undefined);
  if (drifting.length > 0) {
    const events = drifting.flatMap((cluster) => cluster.drift ?? []);
    out.push('', '### Drift since the previous run', '');
    if (events.length === 0) out.push('No changes.');
    else {
      out.push(
        '| Cluster | Change | Type |',
        '| --- | --- | --- |',
        ...events
          .slice(0, DRIFT_ROWS)
          .map((e) => row([escapeCell(e.cluster), escapeCell(describeDriftEvent(e, 'brief')), codeSpan(e.type)])),
      );
      if (events.length > DRIFT_ROWS)
        out.push('', `… and ${events.length - DRIFT_ROWS} more (\`labelguard history\`).`);
    }
  }

  if (waived.length > 0) {
    out.push(
      '',
      `<details><summary>${plural(waived.length, 'waived finding')}</summary>`,
      '',
      '| Severity | Rule | Where | Message | Waiver |',
      '| --- | --- | --- | --- | --- |',
      ...waived.map(waivedRow),
      '',
      '</details>',
    );
  }
  return `${out.join('\n')}\n`;
}

function clusterRow(cluster: ClusterReport, findings: readonly Finding[]): string {
  const counts = countCluster(cluster);
  const found = findings.filter((f) => f.cluster === cluster.cluster && f.waived === undefined).length;
  const cells = [
    escapeCell(cluster.cluster),
    STATUS_BADGE[cluster.status],
    counts.namespaces === null ? 'unknown' : String(counts.namespaces),
    counts.policies === null ? 'unknown' : `${counts.policiesIncomplete ? '≥ ' : ''}${counts.policies}`,
    cluster.status === 'failed' && found === 0 ? 'unknown' : String(found),
  ];
  return row(cells);
}

function findingRow(finding: Finding): string {
  return row([SEVERITY_BADGE[finding.severity], codeSpan(finding.rule), where(finding), messageCell(finding)]);
}

function waivedRow(finding: Finding): string {
  const waiver = finding.waived;
  const cell =
    waiver === undefined
      ? ''
      : `${escapeCell(waiver.reason)}<br>by ${codeSpan(waiver.owner)} until ${escapeCell(waiver.expires)}`;
  return row([
    SEVERITY_BADGE[finding.severity],
    codeSpan(finding.rule),
    where(finding),
    escapeCell(finding.message),
    cell,
  ]);
}

function where(finding: Finding): string {
  const location = describeLocation(finding);
  return escapeCell(location === null ? finding.cluster : `${finding.cluster} › ${location}`);
}

function messageCell(finding: Finding): string {
  const message = escapeCell(finding.message);
  return finding.fix === null || finding.fix.trim() === '' ? message : `${message}<br>Fix: ${codeSpan(finding.fix)}`;
}

function row(cells: readonly string[]): string {
  return `| ${cells.join(' | ')} |`;
}

/** One line of a table cell: no line breaks, no control characters. */
function flatten(value: string): string {
  // eslint-disable-next-line no-control-regex -- finding control characters is the point
  return value.replace(/[\t\n\r]+/g, ' ').replace(/[\u0000-\u001f\u007f-\u009f]/g, '\ufffd');
}

/**
 * Plain text in a table cell: backslash-escape everything Markdown or the table would read as
 * syntax (`|` ends a cell; backticks, emphasis, links, HTML, entities), so text shows as written.
 */
export function escapeCell(value: string): string {
  return flatten(value).replace(/[\\`*_[\]<>|~&]/g, (c) => `\\${c}`);
}

/**
 * A code span that holds any text: backslashes do not escape inside code, so the fence is one
 * backtick longer than the longest run inside, padded when the text starts or ends with a
 * backtick. A table still splits on `|`, and GFM removes the `\` of `\|` before parsing code.
 */
export function codeSpan(value: string): string {
  const content = flatten(value).replace(/\|/g, '\\|');
  if (content.trim() === '') return '';
  const longestRun = Math.max(0, ...(content.match(/`+/g) ?? []).map((run) => run.length));
  const fence = '`'.repeat(longestRun + 1);
  const pad = content.startsWith('`') || content.endsWith('`') ? ' ' : '';
  return `${fence}${pad}${content}${pad}${fence}`;
}
