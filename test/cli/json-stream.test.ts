/**
 * The streamed JSON report: clusters spooled in the order they finish, assembled at the end,
 * byte for byte what formatJson prints for the same report; and the scan lets each cluster go once
 * it is spooled.
 */
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { buildScanReport, type DriftEvent, type ScanReport } from '../../lambda/audit/index.js';
import { createJsonReportSpool } from '../../lambda/cli/json-stream.js';
import { formatJson } from '../../lambda/report/json.js';
import { countRun, scanClusters, type ClusterRun } from '../../lambda/scan.js';
import { evaluateFixture, fixtureSnapshot, NOW, settings } from '../helpers/fixtures.js';

const FIXTURES = [
  'near-miss-violating',
  'label-missing-violating',
  'namespace-unprotected-compliant',
  'selector-invalid-violating',
  'peer-selects-nothing-violating',
  'label-invalid-violating',
];

const drift: DriftEvent[] = [
  {
    type: 'label-removed',
    cluster: 'x',
    namespace: 'team-b',
    key: 'ns',
    before: 'team-b',
    after: null,
    policy: null,
    direction: null,
  } as unknown as DriftEvent,
];

function runsOf(names: readonly string[], withDrift: boolean): ClusterRun[] {
  return names.map((name, i) => {
    const result = evaluateFixture(name, i === 1 ? { waivers: [] } : {});
    return {
      result,
      counts: countRun(result),
      drift: withDrift ? (i % 2 === 0 ? drift : []) : null,
      recording: { status: 'off' },
    };
  });
}

function expected(runs: readonly ClusterRun[], notify?: unknown): string {
  const results = runs.map((r) => r.result);
  const built = buildScanReport(results, NOW, { includePolicies: true });
  const report: ScanReport = {
    ...built,
    ...(notify === undefined ? {} : { notify: notify as ScanReport['notify'] }),
    clusters: built.clusters.map((c, i) => {
      const d = runs[i]?.drift;
      return d === null || d === undefined ? c : { ...c, drift: d };
    }),
  };
  return formatJson(report);
}

async function streamed(runs: readonly ClusterRun[], order: readonly number[], notify?: unknown): Promise<string> {
  const spool = await createJsonReportSpool(runs.length);
  // Runs finish out of order and are added concurrently.
  await Promise.all(order.map((i) => spool.add(runs[i]!, i)));
  const out = new PassThrough();
  const chunks: Buffer[] = [];
  out.on('data', (c: Buffer) => chunks.push(c));
  await spool.finish(out, { generatedAt: NOW, ...(notify === undefined ? {} : { notify }) });
  return Buffer.concat(chunks).toString('utf8');
}

describe('the streamed JSON report', () => {
  it('is byte for byte formatJson, whatever order the clusters finish in', async () => {
    const runs = runsOf(FIXTURES, false);
    expect(runs.some((r) => r.result.findings.length > 1)).toBe(true);
    for (const order of [
      [0, 1, 2, 3, 4, 5],
      [5, 4, 3, 2, 1, 0],
      [2, 0, 5, 1, 3, 4],
    ]) {
      expect(await streamed(runs, order)).toBe(expected(runs));
    }
  });

  it('carries drift per cluster and the notify summary last', async () => {
    const runs = runsOf(FIXTURES.slice(0, 3), true);
    const notify = { runs: 1, delivered: 0 };
    expect(await streamed(runs, [1, 2, 0], notify)).toBe(expected(runs, notify));
  });

  it('writes empty lists the way formatJson does', async () => {
    const clean = runsOf(['namespace-unprotected-compliant'], false).map((r) => ({
      ...r,
      result: { ...r.result, findings: [] },
    }));
    expect(await streamed(clean, [0])).toBe(expected(clean));
    expect(await streamed([], [])).toBe(expected([]));
  });

  it('knows the highest unwaived severity for --fail-on', async () => {
    const runs = runsOf(FIXTURES, false);
    const spool = await createJsonReportSpool(runs.length);
    expect(spool.highestSeverity()).toBeNull();
    await spool.add(runs[0]!, 0);
    expect(spool.highestSeverity()).toBe('high');
    await spool.discard();
  });
});

describe("scanClusters with retain: 'summary'", () => {
  it('hands every run on once and keeps only its counts, drift and recording', async () => {
    const names = FIXTURES.slice(0, 4);
    const handed: number[] = [];
    const full: ClusterRun[] = [];
    const scan = await scanClusters(
      {
        sources: names.map((n) => ({ cluster: n, read: () => Promise.resolve(fixtureSnapshot(n)) })),
        clock: { now: () => new Date(NOW) },
        concurrency: 2,
        retain: 'summary',
        onRun: (run, i) => {
          handed.push(i);
          full[i] = run;
        },
      },
      settings(),
    );
    expect([...handed].sort()).toEqual([0, 1, 2, 3]);
    for (const [i, run] of scan.clusters.entries()) {
      const whole = full[i]!;
      expect(whole.result.namespaces.length).toBeGreaterThan(0);
      expect(run.result.namespaces).toEqual([]);
      expect(run.result.policyReports()).toEqual([]);
      expect(run.result.findings).toEqual([]); // nothing recorded: nothing to notify
      expect(run.counts).toEqual(countRun(whole.result));
      expect(run.result.status).toBe(whole.result.status);
      expect(run.result.policyCount).toBe(whole.result.policyCount);
    }
  });
});
