import { existsSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ScanReport } from '../../lambda/audit/index.js';
import { scanCommand, type ScanOptions } from '../../lambda/cli/scan.js';
import { UsageError } from '../../lambda/errors.js';
import { captureOutput } from '../helpers/capture-output.js';
import { day } from '../helpers/history-scenario.js';
import { SHOP_DAY1, SHOP_DAY2, writeShopDays } from '../helpers/shop-days.js';

let root: string;
let storeDir: string;

beforeEach(async () => {
  root = await writeShopDays([SHOP_DAY1, SHOP_DAY2]);
  storeDir = join(root, 'store');
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

async function scan(
  dayDir: string,
  extra: Partial<ScanOptions> = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  const { value, stdout, stderr } = await captureOutput(() =>
    scanCommand({ manifests: [join(root, dayDir)], cluster: 'shop', storeDir, failOn: 'none', ...extra }),
  );
  return { code: value, stdout, stderr };
}

const json = (text: string): ScanReport => JSON.parse(text) as ScanReport;

describe('scan with the store', () => {
  it('adds the drift of this run to each cluster in --format json, and changes no other field', async () => {
    await scan('day1', { format: 'json', runId: day(1) });
    const recorded = json((await scan('day2', { format: 'json', runId: day(2) })).stdout);
    const plain = json(
      (
        await captureOutput(() =>
          scanCommand({
            manifests: [join(root, 'day2')],
            cluster: 'shop',
            store: false,
            format: 'json',
            failOn: 'none',
          }),
        )
      ).stdout,
    );

    const cluster = recorded.clusters[0]!;
    expect(Object.keys(cluster)).toEqual([
      'cluster',
      'status',
      'errors',
      'reads',
      'namespaces',
      'policyCount',
      'policies',
      'drift',
    ]);
    expect(cluster.drift).toContainEqual({
      type: 'label-removed',
      cluster: 'shop',
      namespace: 'team-b',
      key: 'ns',
      before: 'team-b',
      after: null,
      policy: null,
      direction: null,
    });
    expect(cluster.drift).toContainEqual({
      type: 'selection-lost',
      cluster: 'shop',
      namespace: 'team-b',
      key: null,
      before: null,
      after: null,
      policy: { kind: 'CiliumNetworkPolicy', namespace: 'monitoring', name: 'allow-teams' },
      direction: 'egress',
    });
    // Everything else is the report a scan without history prints (policies in a canonical order when recorded).
    const { drift: _drift, ...rest } = cluster;
    const byName = (p: { namespace: string | null; name: string; kind: string }): string =>
      `${p.namespace ?? ''}/${p.kind}/${p.name}`;
    const sorted = (c: typeof rest): typeof rest => ({
      ...c,
      policies: [...c.policies].sort((a, b) => byName(a).localeCompare(byName(b))),
    });
    expect(sorted(rest)).toEqual(sorted(plain.clusters[0]!));
    expect(recorded.findings).toEqual(plain.findings);
    expect(recorded.summary).toEqual(plain.summary);
    expect(recorded.generatedAt).toBe(day(2));
    expect('drift' in plain.clusters[0]!).toBe(false);
  });

  it('replays a run id: the same output, nothing new recorded', async () => {
    await scan('day1', { runId: day(1) });
    const first = await scan('day2', { format: 'json', runId: '2026-03-02T07:00:00+01:00' });
    const again = await scan('day1', { format: 'json', runId: day(2) });
    expect(again.stdout).toBe(first.stdout);
    const { openEmbeddedStore } = await import('../../lambda/adapters/embedded-store/embedded-store.js');
    const { createTestClock } = await import('../helpers/history-scenario.js');
    const embedded = await openEmbeddedStore({ dir: storeDir, retentionDays: 400, clock: createTestClock() });
    try {
      expect((await embedded.store.runs('shop')).map((r) => r.runId)).toEqual([day(1), day(2)]);
    } finally {
      await embedded.close();
    }
  });

  it('prints the drift under each cluster in the table', async () => {
    await scan('day1', { runId: day(1) });
    const { stdout, code } = await scan('day2', { runId: day(2) });
    expect(code).toBe(0);
    expect(stdout).toContain('Drift since the previous run (');
    expect(stdout).toMatch(/selection-lost +`monitoring\/allow-teams` egress no longer selects `team-b`/);
    expect(stdout).toMatch(/finding-opened +new label-missing at `team-b`/);
  });

  it('fails loudly (exit 2) when the run cannot be recorded, after printing the report', async () => {
    await scan('day1', { runId: day(2) });
    const { code, stdout, stderr } = await scan('day1', { runId: day(1) });
    expect(code).toBe(2);
    expect(stdout).toContain('shop [complete]');
    expect(stderr).toMatch(
      /labelguard: shop: run not recorded: run 2026-03-01T06:00:00.000Z of shop is older than its latest recorded run/,
    );
  });

  it('records nothing with --no-store, and refuses --run-id without a store', async () => {
    const { stdout } = await captureOutput(() =>
      scanCommand({ manifests: [join(root, 'day1')], store: false, format: 'json', failOn: 'none' }),
    );
    expect(json(stdout).clusters.every((c) => c.drift === undefined)).toBe(true);
    expect(existsSync(storeDir)).toBe(false);
    await expect(scanCommand({ manifests: [join(root, 'day1')], store: false, runId: day(1) })).rejects.toBeInstanceOf(
      UsageError,
    );
    await expect(scan('day1', { runId: 'yesterday' })).rejects.toThrow(/not a scheduled time/);
  });
});
