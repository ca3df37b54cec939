import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { historyCommand, type HistoryOptions } from '../../lambda/cli/history.js';
import { scanCommand } from '../../lambda/cli/scan.js';
import { UsageError } from '../../lambda/errors.js';
import type { HistoryEntry } from '../../lambda/ports.js';
import { captureOutput } from '../helpers/capture-output.js';
import { day } from '../helpers/history-scenario.js';
import { SHOP_DAY1, SHOP_DAY2, SHOP_DAY3, writeShopDays } from '../helpers/shop-days.js';

let root: string;
let storeDir: string;

async function history(opts: HistoryOptions): Promise<string> {
  return (await captureOutput(() => historyCommand({ storeDir, ...opts }))).stdout;
}

beforeAll(async () => {
  root = await writeShopDays([SHOP_DAY1, SHOP_DAY2, SHOP_DAY3]);
  storeDir = join(root, 'store');
  for (const n of [1, 2, 3]) {
    await captureOutput(() =>
      scanCommand({ manifests: [join(root, `day${n}`)], cluster: 'shop', storeDir, runId: day(n), failOn: 'none' }),
    );
  }
  await captureOutput(() =>
    scanCommand({ manifests: [join(root, 'day1')], cluster: 'other', storeDir, runId: day(2), failOn: 'none' }),
  );
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('history', () => {
  it('prints { events: [...] } in time order, each with the time it was recorded at', async () => {
    const { events } = JSON.parse(await history({ cluster: 'shop', format: 'json' })) as { events: HistoryEntry[] };
    expect(events.map((e) => e.at)).toEqual([...events.map((e) => e.at)].sort());
    expect(events.filter((e) => e.type === 'run').map((e) => [e.at, e.run, e.status])).toEqual([
      [day(1), 1, 'complete'],
      [day(2), 2, 'complete'],
      [day(3), 3, 'complete'],
    ]);
    expect(events).toContainEqual(
      expect.objectContaining({
        at: day(2),
        type: 'label-removed',
        cluster: 'shop',
        namespace: 'team-b',
        key: 'ns',
        before: 'team-b',
        after: null,
      }),
    );
    expect(events).toContainEqual(
      expect.objectContaining({ at: day(3), type: 'namespace-deleted', namespace: 'team-c' }),
    );
    expect(Object.keys(events[0]!).slice(0, 10)).toEqual([
      'at',
      'run',
      'type',
      'cluster',
      'namespace',
      'key',
      'before',
      'after',
      'policy',
      'direction',
    ]);
  });

  it("filters by namespace and time: a namespace's label versions, its drift and its findings", async () => {
    const { events } = JSON.parse(
      await history({ cluster: 'shop', namespace: 'team-b', since: '2026-03-02', format: 'json' }),
    ) as {
      events: HistoryEntry[];
    };
    expect(events.every((e) => e.namespace === 'team-b' && e.at >= day(2))).toBe(true);
    expect(events.map((e) => e.type)).toEqual([
      'labels',
      'label-removed',
      'selection-lost',
      'selection-lost',
      'finding-opened',
      'finding-opened',
      'labels',
      'label-added',
      'label-added',
      'selection-gained',
      'selection-gained',
      'finding-resolved',
      'finding-resolved',
    ]);
    expect(events.find((e) => e.type === 'finding-resolved' && e.key === 'label-missing')).toMatchObject({
      firstSeen: day(2),
      lastSeen: day(2),
    });
  });

  it('merges every cluster by time without --cluster, as a table and as CSV', async () => {
    const table = await history({ until: '2026-03-02' });
    expect(table.split('\n')[0]).toMatch(/^AT +CLUSTER +NAMESPACE +TYPE +CHANGE$/);
    expect(table).toMatch(
      /2026-03-02T06:00:00.000Z +shop +team-b +label-removed +label `ns` removed from `team-b` \(was `team-b`\)/,
    );
    expect(table).toMatch(/other +- +run +run 1 complete/);
    expect(table).not.toContain('2026-03-03');

    const csv = await history({ cluster: 'shop', format: 'csv' });
    expect(csv.split('\r\n')[0]).toBe('at,run,type,cluster,namespace,key,before,after,policy,direction,description');
    expect(csv).toContain('2026-03-02T06:00:00.000Z,2,selection-lost,shop,team-b,,,,monitoring/allow-teams,egress,');
  });

  it('names an unknown cluster', async () => {
    await expect(historyCommand({ storeDir, cluster: 'prod' })).rejects.toThrow(UsageError);
    await expect(historyCommand({ storeDir, since: 'last week' })).rejects.toThrow(
      /--since "last week": expected an ISO date/,
    );
  });
});
