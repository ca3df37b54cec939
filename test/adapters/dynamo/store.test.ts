/**
 * The DynamoDB store against dynalite: the real protocol (conditional writes, batch writes, GSI
 * queries, pagination), no stub of the SDK.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DeleteCommand, DynamoDBDocumentClient, PutCommand, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createDynamoStore, type DynamoStoreOptions } from '../../../lambda/adapters/dynamo/store.js';
import { RunInProgressError, RunOutOfOrderError, StoreError } from '../../../lambda/errors.js';
import type { Store } from '../../../lambda/ports.js';
import { startDynaliteTable, type DynaliteTable } from '../../helpers/dynalite-table.js';
import { createTestClock, DAY1, day, recordRun, shopSnapshot } from '../../helpers/history-scenario.js';
import { snapshotOfText } from '../../helpers/fixtures.js';

type Clock = ReturnType<typeof createTestClock>;

let table: DynaliteTable;
let clock: Clock;

function storeOn(t: DynaliteTable, extra: Partial<DynamoStoreOptions> = {}): Store {
  return createDynamoStore({
    client: t.client,
    tableName: t.tableName,
    retentionDays: 400,
    clock,
    holder: 'test',
    leaseMs: 60_000,
    waitMs: 2_000,
    pollMs: 10,
    ...extra,
  });
}

const doc = (t: DynaliteTable): DynamoDBDocumentClient => DynamoDBDocumentClient.from(t.client);

async function items(t: DynaliteTable, prefix = ''): Promise<Record<string, unknown>[]> {
  const out: Record<string, unknown>[] = [];
  let start: Record<string, unknown> | undefined;
  do {
    const page = await doc(t).send(
      new QueryCommand({
        TableName: t.tableName,
        KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
        ExpressionAttributeValues: { ':pk': 'C#shop', ':prefix': prefix },
        ExclusiveStartKey: start,
      }),
    );
    out.push(...(page.Items ?? []));
    start = page.LastEvaluatedKey;
  } while (start);
  return out;
}

const TEAM_B_UNLABELLED = { ...DAY1, 'team-b': { tenant: 'payments' } };

beforeEach(async () => {
  table = await startDynaliteTable();
  clock = createTestClock(day(1));
});
afterEach(async () => {
  await table.close();
});

describe('recording runs', () => {
  it('records a run, and replays the same run id without a single write, reporting the same result', async () => {
    const store = storeOn(table);
    const first = await recordRun(store, shopSnapshot(DAY1), day(1), clock);
    expect(first.recording).toMatchObject({
      status: 'recorded',
      run: { seq: 1, runId: day(1), status: 'complete', prevHash: null },
    });

    table.resetWrites();
    const replay = await recordRun(store, shopSnapshot(TEAM_B_UNLABELLED), day(1), clock);
    expect(table.writeCount()).toBe(0);
    expect(replay.recording).toMatchObject({ status: 'replayed', run: { seq: 1 } });
    expect(replay.drift).toEqual(first.drift);
    expect({ ...replay.result, policyReports: replay.result.policyReports() }).toEqual({
      ...first.result,
      policyReports: first.result.policyReports(),
    });
  });

  it('costs an unchanged cluster two writes a run, whatever its size', async () => {
    const namespaces = Object.fromEntries(
      Array.from({ length: 600 }, (_, i) => [`ns-${i}`, { ns: `ns-${i}`, team: `t${i % 7}` }]),
    );
    const snapshot = shopSnapshot({ ...DAY1, ...namespaces });
    const store = storeOn(table);
    await recordRun(store, snapshot, day(1), clock);
    expect(table.writeCount()).toBeGreaterThan(25);
    for (const n of [2, 3, 4]) {
      table.resetWrites();
      const run = await recordRun(store, snapshot, day(n), clock);
      expect(run.recording.status).toBe('recorded');
      expect(run.drift).toEqual([]);
      expect(Object.fromEntries(table.writes)).toEqual({ UpdateItemCommand: 1, PutItemCommand: 1 });
    }
  });

  it('writes only what changed, as versions, and diffs against the last run', async () => {
    const store = storeOn(table);
    await recordRun(store, shopSnapshot(DAY1), day(1), clock);
    const second = await recordRun(store, shopSnapshot(TEAM_B_UNLABELLED), day(2), clock);
    expect(second.recording.status === 'recorded' && second.recording.run.changes).toMatchObject({
      namespaces: 1,
      policies: 0,
    });
    expect(second.drift?.map((e) => e.type)).toEqual(
      expect.arrayContaining(['label-removed', 'selection-lost', 'finding-opened']),
    );
    const versions = await items(table, 'NS#team-b#');
    expect(versions.map((i) => i.seq)).toEqual([1, 2]);
    expect(JSON.parse(versions[1]!.data as string)).toEqual({ name: 'team-b', labels: { tenant: 'payments' } });
  });

  it('rejects a run scheduled before the latest recorded one', async () => {
    const store = storeOn(table);
    await recordRun(store, shopSnapshot(DAY1), day(2), clock);
    await expect(store.openRun('shop', day(1))).rejects.toBeInstanceOf(RunOutOfOrderError);
    const late = await recordRun(store, shopSnapshot(DAY1), day(1), clock);
    expect(late.recording).toMatchObject({ status: 'failed', error: { code: 'run-out-of-order' } });
  });
});

describe('concurrent runs', () => {
  it('serializes runs of one cluster with a conditional lease', async () => {
    const store = storeOn(table, { waitMs: 150 });
    await recordRun(store, shopSnapshot(DAY1), day(1), clock);
    const a = await store.openRun('shop', day(2));
    expect(a.kind).toBe('new');
    await expect(store.openRun('shop', day(3))).rejects.toBeInstanceOf(RunInProgressError);

    // While A holds the cluster, B waits; when A commits, B goes on after it in the chain.
    const b = storeOn(table, { waitMs: 5_000 }).openRun('shop', day(3));
    await new Promise((resolve) => setTimeout(resolve, 50));
    if (a.kind !== 'new') throw new Error('expected a new run');
    const state = await a.session.baseline();
    const committed = await a.session.commit({ facts: (await store.runs('shop'))[0]!, state, events: [] });
    const opened = await b;
    expect(committed.seq).toBe(2);
    expect(opened.kind === 'new' && opened.session.previous?.seq).toBe(2);
    if (opened.kind === 'new') await opened.session.abandon();
  });

  it('records one run once when two processes record it at the same time', async () => {
    const one = storeOn(table);
    const two = storeOn(table, { holder: 'other' });
    await recordRun(one, shopSnapshot(DAY1), day(1), clock);
    const [a, b] = await Promise.all([
      recordRun(one, shopSnapshot(TEAM_B_UNLABELLED), day(2), clock),
      recordRun(two, shopSnapshot(TEAM_B_UNLABELLED), day(2), clock),
    ]);
    expect([a.recording.status, b.recording.status].sort()).toEqual(['recorded', 'replayed']);
    expect(a.drift).toEqual(b.drift);
    expect((await one.runs('shop')).map((r) => r.seq)).toEqual([1, 2]);
    expect((await one.verify('shop')).ok).toBe(true);
  });

  it('chains concurrent runs of different times one after the other, never forking', async () => {
    const one = storeOn(table);
    const two = storeOn(table, { holder: 'other' });
    await recordRun(one, shopSnapshot(DAY1), day(1), clock);
    const results = await Promise.all([
      recordRun(one, shopSnapshot(TEAM_B_UNLABELLED), day(2), clock),
      recordRun(two, shopSnapshot(DAY1), day(3), clock),
    ]);
    // Whichever took the lease first wins; day 2 after day 3 is refused (runs are recorded in time order).
    const recorded = results.filter((r) => r.recording.status === 'recorded');
    expect(recorded.length).toBeGreaterThanOrEqual(1);
    for (const r of results.filter((r) => r.recording.status === 'failed')) {
      expect(r.recording).toMatchObject({ error: { code: 'run-out-of-order' } });
    }
    const runs = await one.runs('shop');
    expect(runs.map((r) => r.seq)).toEqual(runs.map((_, i) => i + 1));
    expect((await one.verify('shop')).ok).toBe(true);
  });

  it('a run that outlived its lease cannot commit after another run took the cluster', async () => {
    const store = storeOn(table, { leaseMs: 1_000 });
    await recordRun(store, shopSnapshot(DAY1), day(1), clock);
    const zombie = await store.openRun('shop', day(2));
    if (zombie.kind !== 'new') throw new Error('expected a new run');
    clock.advance(5_000);
    const next = await recordRun(store, shopSnapshot(TEAM_B_UNLABELLED), day(3), clock);
    expect(next.recording).toMatchObject({ status: 'recorded', run: { seq: 2 } });
    await expect(
      zombie.session.commit({
        facts: (await store.runs('shop'))[0]!,
        state: await zombie.session.baseline(),
        events: [],
      }),
    ).rejects.toThrow(/outlived its lease/);
    expect((await store.verify('shop')).ok).toBe(true);
  });

  it('commits with a conditional put: a run whose position is taken records nothing, and the next run cleans up after it', async () => {
    const store = storeOn(table);
    await recordRun(store, shopSnapshot(DAY1), day(1), clock);
    const opened = await store.openRun('shop', day(2));
    if (opened.kind !== 'new') throw new Error('expected a new run');
    // Another writer (a bug, or a hand edit) puts run 2 first.
    await doc(table).send(
      new PutCommand({ TableName: table.tableName, Item: { pk: 'C#shop', sk: 'RUN#0000000002', seq: 2, data: '{}' } }),
    );
    const baseline = await opened.session.baseline();
    const labels = baseline!.namespaces.map((n) => (n.name === 'team-b' ? { ...n, labels: {} } : n));
    await expect(
      opened.session.commit({
        facts: (await store.runs('shop'))[0]!,
        state: { ...baseline!, namespaces: labels },
        events: [],
      }),
    ).rejects.toThrow(/recorded by another run/);
    await doc(table).send(
      new DeleteCommand({ TableName: table.tableName, Key: { pk: 'C#shop', sk: 'RUN#0000000002' } }),
    );
    expect((await items(table, 'NS#team-b#')).map((i) => i.seq)).toEqual([1, 2]); // the failed run's leftover

    const next = await recordRun(
      storeOn(table, { holder: 'next', exclusive: true }),
      shopSnapshot(DAY1),
      day(3),
      clock,
    );
    expect(next.recording).toMatchObject({ status: 'recorded', run: { seq: 2 } });
    expect(next.drift).toEqual([]); // diffed against run 1, not against the leftover
    expect((await items(table, 'NS#team-b#')).map((i) => i.seq)).toEqual([1]);
    expect((await store.verify('shop')).ok).toBe(true);
  });
});

describe('reading history', () => {
  it('pages through history queries', async () => {
    const store = storeOn(table);
    for (let n = 1; n <= 6; n++) {
      const labels = n % 2 === 0 ? TEAM_B_UNLABELLED : DAY1;
      await recordRun(store, shopSnapshot({ ...labels, [`extra-${n}`]: { ns: `extra-${n}` } }), day(n), clock);
    }
    let queries = 0;
    table.onRequest = (command) => {
      if (command === 'QueryCommand') queries++;
    };
    const whole = await store.history({ cluster: 'shop' });
    const unpaged = queries;
    queries = 0;
    const paged = storeOn(table, { pageSize: 2 });
    expect(await paged.history({ cluster: 'shop' })).toEqual(whole);
    expect(queries).toBeGreaterThan(5 * unpaged);
    expect(whole.filter((e) => e.type === 'run').map((e) => e.run)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(whole.map((e) => e.at)).toEqual([...whole.map((e) => e.at)].sort());
    expect(await paged.runs('shop', { since: day(2), until: day(4) })).toHaveLength(3);
  });

  it('filters history by namespace and time, numbering label versions from the start', async () => {
    const store = storeOn(table);
    await recordRun(store, shopSnapshot(DAY1), day(1), clock);
    await recordRun(store, shopSnapshot(TEAM_B_UNLABELLED), day(2), clock);
    await recordRun(store, shopSnapshot(DAY1), day(3), clock);
    const teamB = await store.history({ cluster: 'shop', namespace: 'team-b', since: day(2) });
    expect(teamB.every((e) => e.namespace === 'team-b' && e.at >= day(2))).toBe(true);
    expect(teamB.filter((e) => e.type === 'labels').map((e) => [e.version, e.labels])).toEqual([
      [2, { tenant: 'payments' }],
      [3, { ns: 'team-b', tenant: 'payments' }],
    ]);
    const resolved = teamB.find((e) => e.type === 'finding-resolved' && e.key === 'label-missing');
    expect(resolved).toMatchObject({ at: day(3), firstSeen: day(2), lastSeen: day(2) });
  });

  it('rebuilds the state as of any time from the versions', async () => {
    const store = storeOn(table);
    const one = await recordRun(store, shopSnapshot(DAY1), day(1), clock);
    await recordRun(store, shopSnapshot(TEAM_B_UNLABELLED), day(2), clock);
    expect(await store.stateAt('shop', '2026-02-01T00:00:00Z')).toBeNull();
    const atNoon = await store.stateAt('shop', '2026-03-01T12:00:00Z');
    expect(atNoon?.run.seq).toBe(1);
    expect(atNoon?.state?.namespaces).toEqual(one.result.namespaces);
    expect(atNoon?.state?.findings).toEqual(one.result.findings);
    expect((await store.stateAt('shop', day(2)))?.state?.namespaces.find((n) => n.name === 'team-b')?.labels).toEqual({
      tenant: 'payments',
    });
  });
});

describe('retention', () => {
  it('gives run records an expiry, and versions one only once a later version replaces them', async () => {
    const store = storeOn(table);
    await recordRun(store, shopSnapshot(DAY1), day(1), clock);
    await recordRun(store, shopSnapshot(TEAM_B_UNLABELLED), day(2), clock);
    const run = (await items(table, 'RUN#'))[0]!;
    expect(run.expiresAt).toBe(Date.parse(day(1)) / 1000 + 400 * 86_400);
    const [v1, v2] = await items(table, 'NS#team-b#');
    expect(v1!.expiresAt).toBe(Date.parse(day(2)) / 1000 + 400 * 86_400);
    expect(v2!.expiresAt).toBeUndefined();
    expect((await items(table, 'NS#team-a#'))[0]!.expiresAt).toBeUndefined();
  });

  it('stores a large policy gzipped, and reads it back', async () => {
    const big = 'x'.repeat(150_000);
    const policies = `apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: { name: big, namespace: team-a, annotations: { note: ${big} } }
spec: { podSelector: {}, policyTypes: [Ingress] }
`;
    const snapshot = snapshotOfText(
      `apiVersion: v1\nkind: Namespace\nmetadata: { name: team-a, labels: { ns: team-a } }\n---\n${policies}`,
      'shop',
    );
    const store = storeOn(table);
    await recordRun(store, snapshot, day(1), clock);
    const [item] = await items(table, 'POL#');
    expect(item!.dataGz).toBeInstanceOf(Uint8Array);
    expect(item!.data).toBeUndefined();
    const state = await store.stateAt('shop', day(1));
    expect(JSON.stringify(state?.state?.policies[0]?.body)).toContain(big);
  });
});

describe('verify', () => {
  async function fourRuns(store: Store): Promise<void> {
    for (const [n, labels] of [DAY1, TEAM_B_UNLABELLED, DAY1, TEAM_B_UNLABELLED].entries()) {
      await recordRun(store, shopSnapshot(labels), day(n + 1), clock);
    }
  }

  it('walks an intact chain', async () => {
    const store = storeOn(table);
    await fourRuns(store);
    expect(await store.verify('shop')).toEqual({
      cluster: 'shop',
      ok: true,
      runs: 4,
      first: { seq: 1, runId: day(1) },
      last: { seq: 4, runId: day(4) },
      startsAfterExpiry: false,
      broken: null,
    });
  });

  it('names an altered run record as the first broken link', async () => {
    const store = storeOn(table);
    await fourRuns(store);
    const [, second] = await items(table, 'RUN#');
    const data = JSON.parse(second!.data as string) as Record<string, unknown>;
    await doc(table).send(
      new UpdateCommand({
        TableName: table.tableName,
        Key: { pk: 'C#shop', sk: 'RUN#0000000002' },
        UpdateExpression: 'SET #data = :data',
        ExpressionAttributeNames: { '#data': 'data' },
        ExpressionAttributeValues: { ':data': JSON.stringify({ ...data, status: 'partial' }) },
      }),
    );
    expect((await store.verify('shop')).broken).toMatchObject({ seq: 2, runId: day(2), reason: 'hash-mismatch' });
  });

  it('names a run whose recorded changes were altered', async () => {
    const store = storeOn(table);
    await fourRuns(store);
    await doc(table).send(
      new UpdateCommand({
        TableName: table.tableName,
        Key: { pk: 'C#shop', sk: 'NS#team-b#0000000003' },
        UpdateExpression: 'SET #data = :data',
        ExpressionAttributeNames: { '#data': 'data' },
        ExpressionAttributeValues: {
          ':data': JSON.stringify({ name: 'team-b', labels: { ns: 'team-b', tenant: 'other' } }),
        },
      }),
    );
    expect((await store.verify('shop')).broken).toMatchObject({ seq: 3, reason: 'changes-mismatch' });
  });

  it('names a removed run, and a removed latest run a later run had seen', async () => {
    const store = storeOn(table);
    await fourRuns(store);
    const del = (sk: string): Promise<unknown> =>
      doc(table).send(new DeleteCommand({ TableName: table.tableName, Key: { pk: 'C#shop', sk } }));
    await del('RUN#0000000004');
    // Run 4's lease saw run 3 as the latest: removing run 4 alone cannot be seen until a later run...
    expect((await store.verify('shop')).ok).toBe(true);
    await del('RUN#0000000002');
    expect((await store.verify('shop')).broken).toMatchObject({ seq: 2, reason: 'missing-run' });
  });

  it('notices the latest run missing once a later run has seen it', async () => {
    const store = storeOn(table);
    await fourRuns(store);
    const opened = await store.openRun('shop', day(9)); // takes the lease: records that run 4 is the latest
    if (opened.kind === 'new') await opened.session.abandon();
    await doc(table).send(
      new DeleteCommand({ TableName: table.tableName, Key: { pk: 'C#shop', sk: 'RUN#0000000004' } }),
    );
    expect((await store.verify('shop')).broken).toMatchObject({ seq: 4, reason: 'head-mismatch' });
  });
});

describe('a store that goes away mid-run', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'labelguard-store-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('fails the run loudly, and the next run diffs against the last committed run as if nothing happened', async () => {
    await table.close();
    table = await startDynaliteTable({ path: dir });
    const store = storeOn(table, { writeConcurrency: 1 });
    await recordRun(store, shopSnapshot(DAY1), day(1), clock);

    // Day 2: the store dies after the first batch of changes went in.
    let batches = 0;
    table.onRequest = async (command) => {
      if (command === 'BatchWriteItemCommand' && ++batches === 2) await table.stopServer();
    };
    const changed = shopSnapshot({
      ...TEAM_B_UNLABELLED,
      ...Object.fromEntries(Array.from({ length: 40 }, (_, i) => [`new-${i}`, { ns: `new-${i}` }])),
    });
    const failed = await recordRun(store, changed, day(2), clock);
    expect(failed.recording).toMatchObject({ status: 'failed', error: { name: 'StoreError' } });
    expect(failed.recording.status === 'failed' && failed.recording.error).toBeInstanceOf(StoreError);
    expect(failed.drift).toBeNull();
    expect(failed.result.namespaces.length).toBe(45); // the audit itself stands

    table = await table.restart();
    clock.advance(120_000); // the dead run's lease expires
    const reopened = storeOn(table, { holder: 'after-restart' });
    const leftovers = (await items(table)).filter((i) => typeof i.seq === 'number' && i.seq >= 2);
    expect(leftovers.length).toBeGreaterThan(0);
    expect((await reopened.history({ cluster: 'shop' })).filter((e) => e.type === 'run')).toHaveLength(1);

    const next = await recordRun(reopened, changed, day(3), clock);
    expect(next.recording).toMatchObject({ status: 'recorded', run: { seq: 2 } });
    expect(next.drift?.filter((e) => e.type === 'namespace-created')).toHaveLength(40);
    expect(next.drift?.filter((e) => e.type === 'label-removed')).toHaveLength(1);
    const after = await items(table);
    expect(after.filter((i) => i.token === leftovers[0]!.token)).toEqual([]);
    expect((await reopened.verify('shop')).ok).toBe(true);
  });
});
