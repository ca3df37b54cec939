import { describe, expect, it } from 'vitest';
import { SEVERITIES, type Severity } from '../../lambda/audit/model.js';
import { FINGERPRINT_KEY, fnv1a64, formatSarif, sarifLevel } from '../../lambda/report/sarif.js';
import {
  PAYMENTS_MANIFEST,
  SAMPLE_RULES,
  buildFinding,
  buildReport,
  buildSampleReport,
  sampleFindings,
} from '../helpers/report-builder.js';

interface SarifResult {
  ruleId: string;
  ruleIndex: number;
  level: string;
  message: { text: string };
  locations: {
    physicalLocation?: { artifactLocation: { uri: string }; region?: { startLine: number } };
    logicalLocations?: { fullyQualifiedName: string; kind: string }[];
  }[];
  partialFingerprints: Record<string, string>;
  properties: Record<string, unknown>;
  suppressions?: { kind: string; justification: string }[];
}

interface SarifRule {
  id: string;
  name: string;
  shortDescription: { text: string };
  fullDescription: { text: string };
  help: { text: string };
  defaultConfiguration: { level: string };
  properties: { 'security-severity': string; tags: string[] };
}

interface SarifLog {
  $schema: string;
  version: string;
  runs: {
    tool: { driver: { name: string; version: string; informationUri: string; rules: SarifRule[] } };
    invocations: {
      executionSuccessful: boolean;
      toolExecutionNotifications: { level: string; message: { text: string } }[];
    }[];
    results: SarifResult[];
  }[];
}

const LEVELS = ['none', 'note', 'warning', 'error'];

/** The parts of the SARIF 2.1.0 schema a consumer relies on, checked by hand. */
function validateSarif(value: unknown): string[] {
  const problems: string[] = [];
  const log = value as Partial<SarifLog>;
  if (log.version !== '2.1.0') problems.push('version must be "2.1.0"');
  if (log.$schema !== 'https://json.schemastore.org/sarif-2.1.0.json') problems.push('$schema');
  if (!Array.isArray(log.runs) || log.runs.length === 0) return [...problems, 'runs must be a non-empty array'];
  log.runs.forEach((run, r) => {
    const driver = run.tool?.driver;
    if (typeof driver?.name !== 'string' || driver.name === '') problems.push(`runs[${r}].tool.driver.name`);
    const rules = driver?.rules ?? [];
    const ids = rules.map((rule) => rule.id);
    if (new Set(ids).size !== ids.length) problems.push(`runs[${r}] duplicate rule ids`);
    rules.forEach((rule, i) => {
      if (typeof rule.id !== 'string') problems.push(`rules[${i}].id`);
      if (!LEVELS.includes(rule.defaultConfiguration.level)) problems.push(`rules[${i}].defaultConfiguration.level`);
      const score = Number(rule.properties['security-severity']);
      if (!(score >= 0 && score <= 10)) problems.push(`rules[${i}].security-severity`);
    });
    (run.results ?? []).forEach((result, i) => {
      if (typeof result.message?.text !== 'string' || result.message.text === '') {
        problems.push(`results[${i}].message.text`);
      }
      if (!ids.includes(result.ruleId)) problems.push(`results[${i}].ruleId ${result.ruleId} not in rules`);
      if (ids[result.ruleIndex] !== result.ruleId) problems.push(`results[${i}].ruleIndex`);
      if (!LEVELS.includes(result.level)) problems.push(`results[${i}].level`);
      for (const location of result.locations) {
        const line = location.physicalLocation?.region?.startLine;
        if (line !== undefined && !(Number.isInteger(line) && line >= 1)) problems.push(`results[${i}] startLine`);
        if (location.physicalLocation === undefined && (location.logicalLocations ?? []).length === 0) {
          problems.push(`results[${i}] location without physical or logical location`);
        }
      }
    });
  });
  return problems;
}

function parse(out: string): SarifLog {
  return JSON.parse(out) as SarifLog;
}

describe('formatSarif', () => {
  const report = buildSampleReport();
  const out = formatSarif(report, { toolVersion: '1.2.3', rules: SAMPLE_RULES });
  const log = parse(out);
  const run = log.runs[0]!;

  it('is a valid SARIF 2.1.0 log with one run', () => {
    expect(validateSarif(log)).toEqual([]);
    expect(log.runs).toHaveLength(1);
    expect(out.endsWith('}\n')).toBe(true);
  });

  it('describes the tool and its rules', () => {
    const { driver } = run.tool;
    expect(driver.name).toBe('labelguard');
    expect(driver.version).toBe('1.2.3');
    expect(driver.informationUri).toBe('https://github.com/labelguard/labelguard');
    expect(driver.rules.map((rule) => rule.id)).toEqual(SAMPLE_RULES.map((rule) => rule.id));
    expect(driver.rules.find((rule) => rule.id === 'peer-selects-nothing')).toEqual({
      id: 'peer-selects-nothing',
      name: 'PeerSelectsNothing',
      shortDescription: { text: 'A policy peer selects no namespace' },
      fullDescription: { text: 'A policy peer selects no namespace. See RULES.md#peer-selects-nothing.' },
      help: { text: 'Fix the cause of peer-selects-nothing.' },
      defaultConfiguration: { level: 'error' },
      properties: { 'security-severity': '8.0', tags: ['security', 'kubernetes', 'network-policy'] },
    });
    expect(driver.rules.find((rule) => rule.id === 'enforcement-missing')?.properties['security-severity']).toBe('9.5');
  });

  it('maps severities to levels', () => {
    const expected: Record<Severity, string> = {
      critical: 'error',
      high: 'error',
      medium: 'warning',
      low: 'note',
      info: 'note',
    };
    for (const severity of SEVERITIES) expect(sarifLevel(severity)).toBe(expected[severity]);
    expect(run.results.map((result) => [result.ruleId, result.level])).toEqual([
      ['peer-selects-nothing', 'error'],
      ['label-missing', 'warning'],
      ['enforcement-missing', 'error'],
      ['near-miss', 'warning'],
      ['namespace-unprotected', 'note'],
      ['label-missing', 'warning'],
    ]);
  });

  it('points at the manifest line when the source is known, else at the cluster and namespace', () => {
    const [traced, untraced, clusterWide] = run.results;
    expect(traced!.locations[0]!.physicalLocation).toEqual({
      artifactLocation: { uri: PAYMENTS_MANIFEST },
      region: { startLine: 14 },
    });
    expect(untraced!.locations).toEqual([
      { logicalLocations: [{ name: 'checkout', fullyQualifiedName: 'prod-eu/checkout', kind: 'namespace' }] },
    ]);
    expect(clusterWide!.locations[0]!.logicalLocations?.[0]?.fullyQualifiedName).toBe('prod-eu');
  });

  it('keeps a relative path relative and encodes what a URI cannot hold', () => {
    const odd = buildReport({
      findings: [buildFinding({ source: { file: 'manifests\\prod eu\\#1?.yaml' } })],
    });
    const location = parse(formatSarif(odd, { toolVersion: '1', rules: SAMPLE_RULES })).runs[0]!.results[0]!
      .locations[0]!;
    expect(location.physicalLocation).toEqual({ artifactLocation: { uri: 'manifests/prod%20eu/%231%3F.yaml' } });
  });

  it('carries the message, the finding details and the fix', () => {
    const [first] = run.results;
    expect(first!.message.text).toBe(sampleFindings[0]!.message);
    expect(first!.properties).toEqual({
      severity: 'high',
      cluster: 'prod-eu',
      namespace: 'payments',
      policy: { kind: 'NetworkPolicy', namespace: 'payments', name: 'allow-monitoring' },
      fix: 'kubectl label namespace monitoring team=observability --overwrite',
    });
  });

  it('reports waived findings as externally suppressed results', () => {
    const suppressed = run.results.filter((result) => result.suppressions !== undefined);
    expect(suppressed).toHaveLength(1);
    expect(suppressed[0]!.suppressions).toEqual([
      {
        kind: 'external',
        status: 'accepted',
        justification: 'Decommissioned in Q3; no new workloads',
        properties: { owner: 'team-platform', expires: '2025-09-30' },
      },
    ]);
    expect(suppressed[0]!.properties['namespace']).toBe('legacy');
  });

  it('fingerprints findings stably by rule, cluster, namespace and policy', () => {
    expect(fnv1a64('')).toBe('cbf29ce484222325');
    expect(fnv1a64('a')).toBe('af63dc4c8601ec8c');
    const fingerprints = run.results.map((result) => result.partialFingerprints[FINGERPRINT_KEY]);
    expect(new Set(fingerprints).size).toBe(fingerprints.length);
    for (const fingerprint of fingerprints) expect(fingerprint).toMatch(/^[0-9a-f]{16}:1$/);

    // The message is not part of the identity; a second finding with the same identity gets ":2".
    const reworded = buildReport({
      findings: [buildFinding({ message: 'reworded' }), buildFinding({ message: 'again' })],
    });
    const again = parse(formatSarif(reworded, { toolVersion: '9', rules: [] })).runs[0]!.results;
    const base = run.results[1]!.partialFingerprints[FINGERPRINT_KEY]!.split(':')[0];
    expect(again.map((result) => result.partialFingerprints[FINGERPRINT_KEY])).toEqual([`${base}:1`, `${base}:2`]);
  });

  it('adds a minimal descriptor for a rule the catalogue lacks', () => {
    const partial = formatSarif(report, { toolVersion: '1', rules: SAMPLE_RULES.slice(0, 1) });
    const parsed = parse(partial);
    expect(validateSarif(parsed)).toEqual([]);
    expect(parsed.runs[0]!.tool.driver.rules.map((rule) => rule.id)).toEqual([
      'label-missing',
      'peer-selects-nothing',
      'enforcement-missing',
      'near-miss',
      'namespace-unprotected',
    ]);
  });

  it('reports a cluster that could not be read as an unsuccessful invocation', () => {
    const [invocation] = run.invocations;
    expect(invocation!.executionSuccessful).toBe(false);
    expect(invocation!.toolExecutionNotifications[0]).toEqual({
      level: 'error',
      message: { text: 'staging-us: list namespaces: Unauthorized (401): the EKS token was rejected' },
      properties: { cluster: 'staging-us' },
    });
  });
});
