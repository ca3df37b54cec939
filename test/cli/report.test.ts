import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ScanReport } from '../../lambda/audit/index.js';
import { reportCommand, type ReportOptions } from '../../lambda/cli/report.js';
import { scanCommand } from '../../lambda/cli/scan.js';
import { LabelguardError } from '../../lambda/errors.js';
import { captureOutput } from '../helpers/capture-output.js';
import { day } from '../helpers/history-scenario.js';
import { SHOP_DAY1, SHOP_DAY2, SHOP_DAY3, writeShopDays } from '../helpers/shop-days.js';

let root: string;
let storeDir: string;
/** What `scan --format json` printed each day, without the drift (the one field a report does not have). */
const produced: string[] = [];

function withoutDrift(text: string): string {
  const report = JSON.parse(text) as ScanReport;
  return `${JSON.stringify({ ...report, clusters: report.clusters.map(({ drift: _drift, ...cluster }) => cluster) }, null, 2)}\n`;
}

async function report(opts: ReportOptions): Promise<string> {
  return (await captureOutput(() => reportCommand({ storeDir, ...opts }))).stdout;
}

beforeAll(async () => {
  root = await writeShopDays([SHOP_DAY1, SHOP_DAY2, SHOP_DAY3]);
  storeDir = join(root, 'store');
  for (const n of [1, 2, 3]) {
    const { stdout } = await captureOutput(() =>
      scanCommand({
        manifests: [join(root, `day${n}`)],
        cluster: 'shop',
        storeDir,
        runId: day(n),
        format: 'json',
        failOn: 'none',
      }),
    );
    produced.push(withoutDrift(stdout));
  }
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('report --at', () => {
  it('rebuilds, between runs, exactly the report that was produced at that time', async () => {
    expect(await report({ at: '2026-03-01T12:00:00Z' })).toBe(produced[0]);
    expect(await report({ at: '2026-03-02T23:00:00+02:00' })).toBe(produced[1]);
    expect(await report({ at: day(3) })).toBe(produced[2]);
    expect(await report({ at: '2026-03-02', cluster: 'shop' })).toBe(produced[1]); // a date means the end of that day
    expect(produced[0]).not.toBe(produced[1]);
  });

  it('says so when nothing was recorded yet at that time', async () => {
    await expect(reportCommand({ storeDir, at: '2026-02-28T00:00:00Z' })).rejects.toThrow(LabelguardError);
    await expect(reportCommand({ storeDir, at: '2026-02-28T00:00:00Z' })).rejects.toThrow(
      /no run recorded at or before 2026-02-28T00:00:00.000Z/,
    );
    await expect(reportCommand({ storeDir, cluster: 'nope' })).rejects.toThrow(/no recorded runs of cluster "nope"/);
  });

  it('writes the state as of the time as markdown and as CSV with when each finding was first seen', async () => {
    const markdown = await report({ at: '2026-03-02T12:00:00Z', format: 'markdown' });
    expect(markdown).toContain('## labelguard report');
    expect(markdown).toContain('label-missing');

    const csv = await report({ at: '2026-03-02T12:00:00Z', format: 'csv' });
    const lines = csv.trimEnd().split('\r\n');
    expect(lines[0]).toBe('as_of,cluster,cluster_status,severity,rule,namespace,policy,message,fix,waived,first_seen');
    const missing = lines.find((l) => l.includes(',label-missing,team-b,'));
    expect(missing).toMatch(
      /^2026-03-02T06:00:00.000Z,shop,complete,high,label-missing,team-b,,.*,no,2026-03-02T06:00:00.000Z$/,
    );
    expect(lines.find((l) => l.includes(',namespace-unprotected,sandbox,'))).toMatch(/,2026-03-01T06:00:00.000Z$/);
  });
});
