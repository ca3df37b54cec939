/**
 * The default human output: one block per cluster (header, incomplete reads, findings by
 * severity), waived findings at the end, then a one-line summary. Colour is decoration only:
 * stripping the escape codes from a coloured table gives exactly the plain one.
 */
import type {
  ClusterReport,
  ClusterStatus,
  DriftEvent,
  DriftEventType,
  Finding,
  ScanReport,
  Severity,
} from '../audit/model.js';
import {
  SEVERITIES_DESCENDING,
  countCluster,
  describeClusterCount,
  describeLocation,
  describeRead,
  describeSource,
  incompleteReads,
  plural,
  sortFindings,
} from './describe.js';
import { describeDriftEvent } from './history-describe.js';

export interface TableOptions {
  /** ANSI colour; the caller decides (TTY, NO_COLOR, --color). */
  readonly color: boolean;
  /** Terminal columns to wrap at; 100 when unknown. */
  readonly width?: number;
}

const DEFAULT_WIDTH = 100;
const MIN_WIDTH = 40;
/** Below this many columns for text next to a prefix, text moves under it instead. */
const MIN_TEXT_COLUMNS = 30;
const SEVERITY_COLUMN = 8; // "CRITICAL"
const GAP = '  ';

type Style = 'red' | 'yellow' | 'cyan' | 'dim' | 'bold';

const ANSI: Readonly<Record<Style, readonly [string, string]>> = {
  red: ['\u001b[31m', '\u001b[39m'],
  yellow: ['\u001b[33m', '\u001b[39m'],
  cyan: ['\u001b[36m', '\u001b[39m'],
  dim: ['\u001b[2m', '\u001b[22m'],
  bold: ['\u001b[1m', '\u001b[22m'],
};

const SEVERITY_STYLE: Readonly<Record<Severity, Style>> = {
  critical: 'red',
  high: 'red',
  medium: 'yellow',
  low: 'cyan',
  info: 'dim',
};

const STATUS_STYLE: Readonly<Record<ClusterStatus, Style | null>> = {
  complete: null,
  partial: 'yellow',
  failed: 'red',
};

type Paint = (text: string, style: Style | null) => string;

interface Layout {
  readonly width: number;
  readonly ruleWidth: number;
  readonly paint: Paint;
}

export function formatTable(report: ScanReport, options: TableOptions): string {
  const paint: Paint = (text, style) =>
    options.color && style !== null && text !== '' ? `${ANSI[style][0]}${text}${ANSI[style][1]}` : text;
  const layout: Layout = {
    width: Math.max(MIN_WIDTH, Math.floor(options.width ?? DEFAULT_WIDTH)),
    ruleWidth: Math.max(0, ...report.findings.map((f) => f.rule.length)),
    paint,
  };

  const blocks: string[][] = [];
  const known = new Set(report.clusters.map((c) => c.cluster));
  for (const cluster of report.clusters) {
    blocks.push(formatCluster(cluster, findingsOf(report, cluster.cluster), layout));
  }
  // Findings for a cluster the report does not list should not happen; if they do, show them rather than drop them.
  for (const name of new Set(report.findings.map((f) => f.cluster).filter((name) => !known.has(name)))) {
    const findings = findingsOf(report, name);
    blocks.push([
      `${paint(clean(name), 'bold')} (not in report)`,
      ...sortFindings(findings.filter(isActive)).flatMap((f) => formatFinding(f, layout, false)),
    ]);
  }

  const waived = report.findings.filter((f) => !isActive(f));
  if (waived.length > 0) {
    blocks.push([
      paint(`Waived (${waived.length})`, 'bold'),
      ...sortFindings(waived).flatMap((f) => formatFinding(f, layout, true)),
    ]);
  }

  blocks.push(hanging('', 0, formatSummary(report, paint), 2, layout.width));
  return `${blocks.map((lines) => lines.join('\n')).join('\n\n')}\n`;
}

function isActive(finding: Finding): boolean {
  return finding.waived === undefined;
}

function findingsOf(report: ScanReport, cluster: string): Finding[] {
  return report.findings.filter((f) => f.cluster === cluster);
}

function formatCluster(cluster: ClusterReport, findings: readonly Finding[], layout: Layout): string[] {
  const { paint } = layout;
  const active = sortFindings(findings.filter(isActive));
  const waivedCount = findings.length - active.length;
  const counts = countCluster(cluster);

  const facts = [
    counts.namespaces === null ? 'namespaces unknown' : plural(counts.namespaces, 'namespace'),
    counts.policies === null
      ? 'policies unknown'
      : `${counts.policiesIncomplete ? 'at least ' : ''}${plural(counts.policies, 'policy', 'policies')}`,
  ];
  if (cluster.status !== 'failed' || findings.length > 0) {
    facts.push(plural(active.length, 'finding') + (waivedCount > 0 ? ` (${waivedCount} waived)` : ''));
  }
  const status = cluster.status === 'complete' ? cluster.status : cluster.status.toUpperCase();
  const lines = [
    `${paint(clean(cluster.cluster), 'bold')} ${paint(`[${status}]`, STATUS_STYLE[cluster.status])} ${facts.join(', ')}`,
  ];

  const problems = [
    ...cluster.errors.map((error) => `error: ${error}`),
    ...incompleteReads(cluster).map((read) => `incomplete read: ${describeRead(read)}`),
  ];
  for (const problem of problems) {
    lines.push(...hanging(`  ${paint('!', STATUS_STYLE[cluster.status])} `, 4, clean(problem), 4, layout.width));
  }

  if (active.length === 0) {
    const none =
      cluster.status === 'failed'
        ? 'no findings: the cluster could not be read'
        : cluster.status === 'partial'
          ? 'no findings in what could be read'
          : 'no findings';
    lines.push(`  ${paint(none, 'dim')}`);
  }
  for (const finding of active) lines.push(...formatFinding(finding, layout, false));
  if (cluster.drift !== undefined) lines.push(...formatDrift(cluster.drift, layout));
  return lines;
}

/** Drift lines shown under a cluster before pointing to `labelguard history`. */
export const DRIFT_LINES = 50;
const DRIFT_TYPE_COLUMN = 17; // "namespace-created"

const DRIFT_STYLE: Readonly<Record<DriftEventType, Style | null>> = {
  'label-removed': 'yellow',
  'label-changed': 'yellow',
  'label-added': null,
  'namespace-created': null,
  'namespace-deleted': 'yellow',
  'selection-lost': 'red',
  'selection-gained': 'cyan',
  'finding-opened': 'red',
  'finding-resolved': 'cyan',
};

/** `  Drift since the previous run (3)` and one hanging line per event, most telling first (as the core orders them). */
function formatDrift(drift: readonly DriftEvent[], layout: Layout): string[] {
  const { paint, width } = layout;
  if (drift.length === 0) return [`  ${paint('no drift since the previous run', 'dim')}`];
  const lines = [`  ${paint(`Drift since the previous run (${drift.length})`, 'bold')}`];
  const indent = 4 + DRIFT_TYPE_COLUMN + GAP.length;
  for (const e of drift.slice(0, DRIFT_LINES)) {
    const label = e.type.padEnd(DRIFT_TYPE_COLUMN);
    const first = `    ${paint(e.type, DRIFT_STYLE[e.type])}${' '.repeat(label.length - e.type.length)}${GAP}`;
    lines.push(
      ...hanging(
        first,
        indent,
        clean(describeDriftEvent(e, 'brief')),
        width - indent >= MIN_TEXT_COLUMNS ? indent : 6,
        width,
      ),
    );
  }
  if (drift.length > DRIFT_LINES) {
    lines.push(`    ${paint(`… and ${drift.length - DRIFT_LINES} more: labelguard history --cluster <name>`, 'dim')}`);
  }
  return lines;
}

/**
 * `  SEVERITY  rule-id  where: message` wrapped with a hanging indent under the text, then the
 * source and `fix:` (or, in the waived list, the waiver) as lines indented to the text.
 */
function formatFinding(finding: Finding, layout: Layout, waivedList: boolean): string[] {
  const { paint, width, ruleWidth } = layout;
  const label = finding.severity.toUpperCase().padEnd(SEVERITY_COLUMN);
  const first = `  ${paint(label.trimEnd(), SEVERITY_STYLE[finding.severity])}${' '.repeat(label.length - label.trimEnd().length)}${GAP}${finding.rule.padEnd(ruleWidth)}${GAP}`;
  const firstLength = 2 + SEVERITY_COLUMN + GAP.length + ruleWidth + GAP.length;
  const indent = width - firstLength >= MIN_TEXT_COLUMNS ? firstLength : 6;

  const location = describeLocation(finding);
  const where = waivedList ? (location === null ? finding.cluster : `${location} in ${finding.cluster}`) : location;
  const text = where === null ? finding.message : `${where}: ${finding.message}`;
  const lines = hanging(first, firstLength, clean(text), indent, width);

  // Paths and fixes stay on one line even past the width: a soft-wrapped command copies intact, a hard-wrapped one does not.
  const pad = ' '.repeat(indent);
  const source = describeSource(finding);
  if (source !== null) lines.push(`${pad}at ${clean(source)}`);
  if (waivedList && finding.waived !== undefined) {
    const { owner, expires, reason } = finding.waived;
    lines.push(
      ...hanging(
        `${pad}waived: `,
        indent + 8,
        clean(`${reason} (owner ${owner}, expires ${expires})`),
        indent + 8,
        width,
      ),
    );
  } else if (finding.fix !== null) {
    lines.push(`${pad}fix: ${clean(finding.fix)}`);
  }
  return lines;
}

function formatSummary(report: ScanReport, paint: Paint): string {
  const { summary } = report;
  const counts = SEVERITIES_DESCENDING.filter((s) => summary.bySeverity[s] > 0).map((s) =>
    paint(`${summary.bySeverity[s]} ${s}`, SEVERITY_STYLE[s]),
  );
  const findings = plural(summary.findings, 'finding') + (counts.length > 0 ? ` (${counts.join(', ')})` : '');
  return `${findings} in ${describeClusterCount(summary)}; ${summary.waived} waived`;
}

/**
 * `first` followed by `text` word-wrapped to `width`, continuation lines indented by `indent`.
 * `firstLength` is the visible length of `first` (which may carry escape codes). Words longer
 * than a line are left whole.
 */
function hanging(first: string, firstLength: number, text: string, indent: number, width: number): string[] {
  const pad = ' '.repeat(indent);
  const rest = Math.max(1, width - indent);
  if (width - firstLength < Math.min(MIN_TEXT_COLUMNS, rest)) {
    return [first.trimEnd(), ...wrap(text, rest, rest).map((line) => pad + line)];
  }
  const [head = '', ...tail] = wrap(text, width - firstLength, rest);
  return [first + head, ...tail.map((line) => pad + line)];
}

/** Word wrap by visible length: escape codes inside `text` take no columns. */
function wrap(text: string, firstWidth: number, restWidth: number): string[] {
  const lines: string[] = [];
  let line = '';
  let length = 0;
  for (const word of text.split(' ')) {
    const wordLength = visibleLength(word);
    if (word === '') continue;
    const limit = lines.length === 0 ? firstWidth : restWidth;
    if (line === '') {
      line = word;
      length = wordLength;
    } else if (length + 1 + wordLength <= limit) {
      line += ` ${word}`;
      length += 1 + wordLength;
    } else {
      lines.push(line);
      line = word;
      length = wordLength;
    }
  }
  lines.push(line);
  return lines;
}

// eslint-disable-next-line no-control-regex -- our own escape codes
const ESCAPE_CODE = /\u001b\[[0-9;]*m/g;

function visibleLength(text: string): number {
  return text.includes('\u001b') ? text.replace(ESCAPE_CODE, '').length : text.length;
}

// eslint-disable-next-line no-control-regex -- finding control characters is the point
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/;

/**
 * Text from a cluster or a manifest is untrusted: control characters (escape sequences could
 * rewrite the terminal) and bidi overrides become U+FFFD; line breaks and tabs become spaces.
 */
function clean(text: string): string {
  if (!UNSAFE.test(text)) return text;
  return (
    text
      .replace(/[\t\n\r]/g, ' ')
      // eslint-disable-next-line no-control-regex -- finding control characters is the point
      .replace(/[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g, '\ufffd')
  );
}
