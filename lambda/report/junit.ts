/**
 * JUnit XML for CI test reporters: one testsuite per cluster, one testcase per finding (failure,
 * or skipped when waived), a passing `all checks` case for a clean cluster and an error case for
 * one that could not be read.
 */
import type { ClusterReport, Finding, ScanReport } from '../audit/model.js';
import { describeLocation, describePolicy, describeRead, describeSource, incompleteReads } from './describe.js';

const CLASS_PREFIX = 'labelguard';

interface Counts {
  tests: number;
  failures: number;
  errors: number;
  skipped: number;
}

export function formatJunit(report: ScanReport): string {
  const total: Counts = { tests: 0, failures: 0, errors: 0, skipped: 0 };
  const suites: string[] = [];
  const known = new Set(report.clusters.map((c) => c.cluster));
  const orphanClusters = [...new Set(report.findings.map((f) => f.cluster).filter((name) => !known.has(name)))];

  for (const cluster of report.clusters) {
    suites.push(formatSuite(cluster.cluster, cluster, findingsOf(report, cluster.cluster), report.generatedAt, total));
  }
  for (const name of orphanClusters) {
    suites.push(formatSuite(name, null, findingsOf(report, name), report.generatedAt, total));
  }

  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites${attributes({ name: CLASS_PREFIX, ...total })}>`,
    ...suites,
    '</testsuites>',
    '',
  ].join('\n');
}

function findingsOf(report: ScanReport, cluster: string): Finding[] {
  return report.findings.filter((f) => f.cluster === cluster);
}

function formatSuite(
  name: string,
  cluster: ClusterReport | null,
  findings: readonly Finding[],
  generatedAt: string,
  total: Counts,
): string {
  const cases: string[] = [];
  const counts: Counts = { tests: 0, failures: 0, errors: 0, skipped: 0 };

  if (cluster?.status === 'failed') {
    const problems = [
      ...cluster.errors,
      ...incompleteReads(cluster).map((read) => `incomplete read: ${describeRead(read)}`),
    ];
    cases.push(
      testcase('cluster', 'read cluster', [
        `<error${attributes({ type: 'failed', message: cluster.errors[0] ?? 'the cluster could not be read' })}>${xmlText(problems.join('\n'))}</error>`,
      ]),
    );
    counts.tests += 1;
    counts.errors += 1;
  }

  for (const finding of findings) {
    counts.tests += 1;
    if (finding.waived !== undefined) {
      counts.skipped += 1;
      cases.push(
        testcase(finding.rule, caseName(finding), [
          `<skipped${attributes({ message: `waived: ${finding.waived.reason}` })}/>`,
        ]),
      );
    } else {
      counts.failures += 1;
      cases.push(
        testcase(finding.rule, caseName(finding), [
          `<failure${attributes({ type: finding.severity, message: finding.message })}>${xmlText(failureBody(finding))}</failure>`,
        ]),
      );
    }
  }

  if (cluster?.status !== 'failed' && counts.failures === 0) {
    cases.push(testcase('cluster', 'all checks', []));
    counts.tests += 1;
  }

  for (const key of ['tests', 'failures', 'errors', 'skipped'] as const) total[key] += counts[key];

  const properties = [
    ['status', cluster?.status ?? 'unknown'],
    ['generatedAt', generatedAt],
  ].map(([key = '', value = '']) => `      <property${attributes({ name: key, value })}/>`);
  const incomplete = cluster !== null && cluster.status === 'partial' ? incompleteReads(cluster) : [];
  const systemErr =
    incomplete.length === 0
      ? []
      : [
          `    <system-err>${xmlText(incomplete.map((read) => `incomplete read: ${describeRead(read)}`).join('\n'))}</system-err>`,
        ];

  return [
    `  <testsuite${attributes({ name, ...counts })}>`,
    '    <properties>',
    ...properties,
    '    </properties>',
    ...cases,
    ...systemErr,
    '  </testsuite>',
  ].join('\n');
}

function testcase(rule: string, name: string, children: readonly string[]): string {
  const open = `    <testcase${attributes({ classname: `${CLASS_PREFIX}.${rule}`, name })}`;
  if (children.length === 0) return `${open}/>`;
  return [`${open}>`, ...children.map((child) => `      ${child}`), '    </testcase>'].join('\n');
}

function caseName(finding: Finding): string {
  return describeLocation(finding) ?? 'cluster';
}

function failureBody(finding: Finding): string {
  const lines: string[] = [];
  if (finding.fix !== null) lines.push(`fix: ${finding.fix}`);
  lines.push(`cluster: ${finding.cluster}`);
  if (finding.namespace !== null) lines.push(`namespace: ${finding.namespace}`);
  if (finding.policy !== null) lines.push(`policy: ${finding.policy.kind} ${describePolicy(finding.policy)}`);
  const source = describeSource(finding);
  if (source !== null) lines.push(`source: ${source}`);
  return lines.join('\n');
}

function attributes(values: Readonly<Record<string, string | number>>): string {
  return Object.entries(values)
    .map(([key, value]) => ` ${key}="${xmlAttribute(String(value))}"`)
    .join('');
}

/**
 * XML 1.0 allows only tab, LF, CR, U+0020–U+D7FF, U+E000–U+FFFD and U+10000–U+10FFFF; anything
 * else (other control characters, lone surrogates, U+FFFE/U+FFFF) becomes U+FFFD.
 */
function toXmlChars(value: string): string {
  let out = '';
  for (const char of value) {
    const code = char.codePointAt(0) ?? 0;
    const allowed =
      code === 0x9 ||
      code === 0xa ||
      code === 0xd ||
      (code >= 0x20 && code <= 0xd7ff) ||
      (code >= 0xe000 && code <= 0xfffd) ||
      code >= 0x10000;
    out += allowed ? char : '\ufffd';
  }
  return out;
}

/** Character data: `&` and `<` must be escaped, `>` too (for `]]>`), CR to survive end-of-line normalisation. */
function xmlText(value: string): string {
  return toXmlChars(value).replace(/[&<>\r]/g, (c) => ENTITIES[c] ?? c);
}

/** Attribute values additionally escape both quotes, and tab/LF/CR, which parsers would normalise to spaces. */
function xmlAttribute(value: string): string {
  return toXmlChars(value).replace(/[&<>"'\t\n\r]/g, (c) => ENTITIES[c] ?? c);
}

const ENTITIES: Readonly<Record<string, string>> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&apos;',
  '\t': '&#9;',
  '\n': '&#10;',
  '\r': '&#13;',
};
