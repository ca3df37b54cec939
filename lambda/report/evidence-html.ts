/**
 * The HTML evidence report (`report --format html`): one self-contained file for an auditor. No
 * scripts and no external resources (a Content-Security-Policy forbids both): per-cluster
 * compliance over time as an inline SVG chart, the open findings as of the requested time, the
 * drift timeline, the hash-chain verification and the query that produced the report. Pure.
 */
import type { Finding, ScanReport } from '../audit/model.js';
import type { ChainVerification, HistoryEntry, RunRecord } from '../ports.js';
import { describeLocation, plural, sortFindings } from './describe.js';
import { describeDriftEvent } from './history-describe.js';

export interface EvidenceCluster {
  readonly cluster: string;
  /** The cluster's runs in the report's window, oldest first. */
  readonly runs: readonly RunRecord[];
  readonly verification: ChainVerification;
  /** Drift events in the window, oldest first. */
  readonly drift: readonly HistoryEntry[];
}

export interface EvidenceInput {
  /** The compliance state as of `at` (the `report --format json` report). */
  readonly report: ScanReport;
  readonly at: string;
  /** The start of the chart and drift window. */
  readonly since: string;
  /** When this file was produced. */
  readonly generatedAt: string;
  readonly toolVersion: string;
  /** The command line that produced the report. */
  readonly query: string;
  /** Where the history was read from. */
  readonly store: string;
  readonly clusters: readonly EvidenceCluster[];
  /** When a finding was first seen, when known. */
  readonly firstSeen: (finding: Finding) => string | undefined;
}

/** The chart's area colour (the screenshot test looks for it). */
export const CHART_FILL = '#2563eb';
const FAILED_MARK = '#dc2626';

export function formatEvidenceHtml(input: EvidenceInput): string {
  const { report } = input;
  const byCluster = new Map(input.clusters.map((c) => [c.cluster, c]));
  const intact = input.clusters.every((c) => c.verification.ok);
  const sections = report.clusters.map((cluster) => {
    const evidence = byCluster.get(cluster.cluster);
    const findings = sortFindings(
      report.findings.filter((f) => f.cluster === cluster.cluster && f.waived === undefined),
    );
    const waived = report.findings.filter((f) => f.cluster === cluster.cluster && f.waived !== undefined);
    return `<section>
<h2>${esc(cluster.cluster)}</h2>
<p>State as recorded at <time>${esc(report.generatedAt)}</time>: <strong>${esc(cluster.status)}</strong> read, ${plural(cluster.namespaces.length, 'namespace')}, ${plural(cluster.policyCount, 'policy', 'policies')}, ${plural(findings.length, 'open finding')}${waived.length > 0 ? ` (${waived.length} waived)` : ''}.</p>
${cluster.errors.length > 0 ? `<ul class="errors">${cluster.errors.map((e) => `<li>${esc(e)}</li>`).join('')}</ul>` : ''}
<h3>Compliance over time</h3>
${evidence ? chart(evidence.runs, input.since, input.at, cluster.cluster) : '<p>No runs in the window.</p>'}
<h3>Open findings</h3>
${findingsTable(findings, input.firstSeen)}
${waived.length > 0 ? `<h3>Waived findings</h3>${waivedTable(waived)}` : ''}
<h3>Drift timeline</h3>
${evidence ? driftTable(evidence.drift) : '<p>No drift recorded.</p>'}
<h3>Chain verification</h3>
${evidence ? verification(evidence.verification) : '<p>Not verified.</p>'}
</section>`;
  });

  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>labelguard evidence report as of ${esc(input.at)}</title>
<style>
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: #111827; margin: 2rem auto; max-width: 1000px; padding: 0 1rem; }
h1 { font-size: 1.6rem; margin-bottom: .2rem; }
h2 { border-bottom: 2px solid #e5e7eb; padding-bottom: .2rem; margin-top: 2.5rem; }
h3 { font-size: 1rem; margin: 1.4rem 0 .4rem; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; vertical-align: top; padding: .3rem .5rem; border-bottom: 1px solid #e5e7eb; }
th { background: #f3f4f6; font-weight: 600; }
code { font-family: ui-monospace, SFMono-Regular, Menlo, monospace; font-size: .92em; }
.ok { color: #047857; font-weight: 600; }
.broken { color: #b91c1c; font-weight: 600; }
.sev-critical, .sev-high { color: #b91c1c; font-weight: 600; }
.sev-medium { color: #b45309; font-weight: 600; }
.sev-low { color: #1d4ed8; }
.muted { color: #6b7280; }
.errors { color: #b45309; }
svg { display: block; max-width: 100%; height: auto; }
footer { margin-top: 3rem; color: #6b7280; font-size: .85rem; }
</style>
</head>
<body>
<header>
<h1>labelguard evidence report</h1>
<p>Namespace label compliance as of <time>${esc(input.at)}</time>, reconstructed from the recorded history. Hash chain: ${intact ? '<span class="ok">intact</span>' : '<span class="broken">BROKEN</span>'}.</p>
</header>
<h2>Query</h2>
<table>
<tr><th>Command</th><td><code>${esc(input.query)}</code></td></tr>
<tr><th>As of</th><td>${esc(input.at)}</td></tr>
<tr><th>Window</th><td>${esc(input.since)} to ${esc(input.at)}</td></tr>
<tr><th>Store</th><td>${esc(input.store)}</td></tr>
<tr><th>Clusters</th><td>${esc(report.clusters.map((c) => c.cluster).join(', ') || 'none')}</td></tr>
<tr><th>Generated</th><td>${esc(input.generatedAt)} by labelguard ${esc(input.toolVersion)}</td></tr>
</table>
<h2>Summary</h2>
<table>
<tr><th>Cluster</th><th>Run recorded</th><th>Read</th><th>Namespaces</th><th>Compliant</th><th>Open findings</th><th>Chain</th></tr>
${report.clusters
  .map((c) => {
    const evidence = byCluster.get(c.cluster);
    const run = evidence?.runs.at(-1);
    const counts = run?.counts;
    const compliant = counts && counts.namespaces > 0 ? `${percent(counts)}%` : 'n/a';
    const open = report.findings.filter((f) => f.cluster === c.cluster && f.waived === undefined).length;
    const chain =
      evidence === undefined
        ? 'not verified'
        : evidence.verification.ok
          ? '<span class="ok">intact</span>'
          : '<span class="broken">broken</span>';
    return `<tr><td>${esc(c.cluster)}</td><td>${run ? `run ${run.seq}, ${esc(run.runId)}` : 'n/a'}</td><td>${esc(c.status)}</td><td>${c.namespaces.length}</td><td>${compliant}</td><td>${open}</td><td>${chain}</td></tr>`;
  })
  .join('\n')}
</table>
${sections.join('\n')}
<footer>
<p>Self-contained: this file loads nothing and runs no scripts. Compliant namespaces are those without an unwaived finding about them. Verify the recorded history independently with <code>labelguard verify</code>.</p>
</footer>
</body>
</html>
`;
}

function percent(counts: RunRecord['counts']): number {
  return Math.round(((counts.namespaces - counts.namespacesWithFindings) / counts.namespaces) * 1000) / 10;
}

const W = 720;
const H = 220;
const M = { left: 44, right: 16, top: 12, bottom: 28 };

/** Compliance (% of namespaces without an open finding) as a step area: each run's value holds until the next. */
function chart(runs: readonly RunRecord[], since: string, at: string, cluster: string): string {
  const t0 = Math.min(Date.parse(since), ...runs.map((r) => Date.parse(r.runId)));
  const t1 = Math.max(Date.parse(at), t0 + 1);
  const x = (t: number): number => M.left + ((t - t0) / (t1 - t0)) * (W - M.left - M.right);
  const y = (pct: number): number => M.top + (1 - pct / 100) * (H - M.top - M.bottom);
  const base = y(0);
  const parts: string[] = [];
  let path = '';
  const flushArea = (): void => {
    if (path !== '') parts.push(`<path d="${path} V ${base.toFixed(1)} Z" fill="${CHART_FILL}" stroke="none"/>`);
    path = '';
  };
  runs.forEach((run, i) => {
    const start = x(Date.parse(run.runId));
    const end = x(i + 1 < runs.length ? Date.parse(runs[i + 1]!.runId) : t1);
    if (run.status === 'failed' || run.counts.namespaces === 0) {
      flushArea();
      parts.push(
        `<rect x="${start.toFixed(1)}" y="${(base - 6).toFixed(1)}" width="${Math.max(2, end - start).toFixed(1)}" height="6" fill="${FAILED_MARK}"><title>${esc(run.runId)}: ${esc(run.status)} read</title></rect>`,
      );
      return;
    }
    const top = y(percent(run.counts)).toFixed(1);
    path +=
      path === ''
        ? `M ${start.toFixed(1)} ${base.toFixed(1)} V ${top} H ${end.toFixed(1)}`
        : ` V ${top} H ${end.toFixed(1)}`;
  });
  flushArea();
  const grid = [0, 50, 100]
    .map(
      (p) =>
        `<line x1="${M.left}" x2="${W - M.right}" y1="${y(p).toFixed(1)}" y2="${y(p).toFixed(1)}" stroke="#d1d5db" stroke-width="1"/><text x="${M.left - 6}" y="${(y(p) + 4).toFixed(1)}" text-anchor="end" font-size="11" fill="#6b7280">${p}%</text>`,
    )
    .join('');
  const labels = `<text x="${M.left}" y="${H - 8}" font-size="11" fill="#6b7280">${esc(new Date(t0).toISOString().slice(0, 10))}</text><text x="${W - M.right}" y="${H - 8}" text-anchor="end" font-size="11" fill="#6b7280">${esc(new Date(t1).toISOString().slice(0, 10))}</text>`;
  const summary =
    runs.length === 0
      ? 'no runs in the window'
      : `${plural(runs.length, 'run')}; latest compliance ${runs.at(-1)!.counts.namespaces > 0 ? `${percent(runs.at(-1)!.counts)}%` : 'unknown'}`;
  return `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" role="img" aria-label="${esc(`Compliance of ${cluster} over time: ${summary}`)}"><title>${esc(`Compliance of ${cluster} over time: ${summary}`)}</title>${grid}${parts.join('')}${labels}</svg>
<p class="muted">${esc(summary)}.</p>`;
}

function findingsTable(findings: readonly Finding[], firstSeen: (f: Finding) => string | undefined): string {
  if (findings.length === 0) return '<p>No open findings.</p>';
  return `<table>
<tr><th>Severity</th><th>Rule</th><th>Where</th><th>Message</th><th>First seen</th></tr>
${findings
  .map(
    (f) =>
      `<tr><td class="sev-${f.severity}">${esc(f.severity)}</td><td><code>${esc(f.rule)}</code></td><td>${esc(describeLocation(f) ?? f.cluster)}</td><td>${esc(f.message)}${f.fix ? `<br><span class="muted">Fix:</span> <code>${esc(f.fix)}</code>` : ''}</td><td>${esc(firstSeen(f) ?? 'unknown')}</td></tr>`,
  )
  .join('\n')}
</table>`;
}

function waivedTable(findings: readonly Finding[]): string {
  return `<table>
<tr><th>Rule</th><th>Where</th><th>Message</th><th>Waiver</th></tr>
${findings
  .map(
    (f) =>
      `<tr><td><code>${esc(f.rule)}</code></td><td>${esc(describeLocation(f) ?? f.cluster)}</td><td>${esc(f.message)}</td><td>${f.waived ? `${esc(f.waived.reason)} (owner ${esc(f.waived.owner)}, expires ${esc(f.waived.expires)})` : ''}</td></tr>`,
  )
  .join('\n')}
</table>`;
}

function driftTable(entries: readonly HistoryEntry[]): string {
  if (entries.length === 0) return '<p>No drift recorded in the window.</p>';
  return `<table>
<tr><th>Recorded</th><th>Run</th><th>Type</th><th>Change</th></tr>
${entries
  .map(
    (e) =>
      `<tr><td>${esc(e.at)}</td><td>${e.run}</td><td><code>${esc(e.type)}</code></td><td>${esc(describeDriftEvent({ ...e, type: e.type as Exclude<HistoryEntry['type'], 'run' | 'labels'> }))}</td></tr>`,
  )
  .join('\n')}
</table>`;
}

function verification(v: ChainVerification): string {
  const range =
    v.first && v.last
      ? `runs ${v.first.seq} (${esc(v.first.runId)}) to ${v.last.seq} (${esc(v.last.runId)})`
      : 'no runs';
  const expiry = v.startsAfterExpiry ? ' Earlier runs have expired under the retention policy.' : '';
  if (v.ok) return `<p><span class="ok">Intact</span>: ${plural(v.runs, 'run record')} checked, ${range}.${expiry}</p>`;
  return `<p><span class="broken">Broken</span> at run ${v.broken!.seq}: ${esc(v.broken!.message)} (${esc(v.broken!.reason)}). ${plural(v.runs, 'run record')} found, ${range}.${expiry}</p>`;
}

function esc(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
