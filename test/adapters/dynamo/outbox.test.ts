import { QueryCommand } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDynamoOutbox, PENDING_PK } from '../../../lambda/adapters/dynamo/outbox.js';
import type { Outbox, OutboxRecording, PlannedMessage } from '../../../lambda/notify/ports.js';
import type { Clock } from '../../../lambda/ports.js';
import { startLocalTable, type LocalTable } from '../../notify/dynalite.js';

let table: LocalTable;
let now = new Date('2026-03-02T06:00:05.000Z');
const clock: Clock = { now: () => now };

beforeAll(async () => {
  table = await startLocalTable();
});

afterAll(async () => {
  await table.close();
});

let n = 0;
/** A fresh outbox over the shared table, for a cluster of its own. */
function fresh(): { outbox: Outbox; cluster: string } {
  n++;
  return {
    outbox: createDynamoOutbox({
      client: table.client,
      tableName: table.tableName,
      retentionDays: 30,
      clock,
      pageSize: 2,
    }),
    cluster: `cluster-${n}`,
  };
}

const RUN = '2026-03-02T06:00:00.000Z';
const payload = (text: string): PlannedMessage['payload'] => ({
  text,
  blocks: [{ type: 'section', text: { type: 'mrkdwn', text } }],
});

function recording(cluster: string, runId = RUN): OutboxRecording {
  return {
    cluster,
    runId,
    messages: [
      {
        seq: 1,
        role: 'digest',
        channel: '#security',
        parent: null,
        payload: payload('digest'),
        groups: { '["label","team-b","ns"]': 'team-b' },
      },
      { seq: 2, role: 'followup', channel: '#security', parent: `${runId}#0001`, payload: payload('more') },
    ],
    subjects: [
      {
        key: '["label","team-b","ns"]',
        baseline: 'team-b',
        digest: `${runId}#0001`,
        channel: '#security',
        runId,
        resolvedRunId: null,
        tracked: true,
      },
    ],
    resolved: [],
  };
}

describe('the DynamoDB outbox (against dynalite)', () => {
  it('records a run once: a second recording keeps the first, whatever its status', async () => {
    const { outbox, cluster } = fresh();
    expect(await outbox.recordedRun(cluster, RUN)).toBeNull();
    const first = await outbox.record(recording(cluster));
    expect(first.map((m) => [m.id, m.role, m.status, m.parent])).toEqual([
      [`${RUN}#0001`, 'digest', 'pending', null],
      [`${RUN}#0002`, 'followup', 'pending', `${RUN}#0001`],
    ]);
    expect(first[0]?.payload).toEqual(payload('digest'));
    expect(first[0]?.groups).toEqual({ '["label","team-b","ns"]': 'team-b' });

    const claim = await outbox.claim(first[0]!, { token: 't', until: new Date(now.getTime() + 60_000), now });
    await outbox.settle(claim!, { status: 'delivered', posted: { channel: 'C0SECURITY', ts: '1.000001' } }, now);
    const again = await outbox.record({
      ...recording(cluster),
      messages: recording(cluster).messages.map((m) => ({ ...m, payload: payload('changed') })),
    });
    expect(again[0]).toMatchObject({
      status: 'delivered',
      ts: '1.000001',
      postedChannel: 'C0SECURITY',
      payload: payload('digest'),
    });
    expect(await outbox.recordedRun(cluster, RUN)).toHaveLength(2);
  });

  it('lists undelivered messages oldest run first, and only until they are settled', async () => {
    const { outbox, cluster } = fresh();
    await outbox.record(recording(cluster, '2026-03-02T07:00:00.000Z'));
    await outbox.record(recording(cluster, '2026-03-02T06:00:00.000Z'));
    const pending = await outbox.pending([cluster]);
    expect(pending.map((m) => m.id)).toEqual([
      '2026-03-02T06:00:00.000Z#0001',
      '2026-03-02T06:00:00.000Z#0002',
      '2026-03-02T07:00:00.000Z#0001',
      '2026-03-02T07:00:00.000Z#0002',
    ]);
    for (const m of pending.slice(0, 3)) {
      const c = await outbox.claim(m, { token: 'x', until: new Date(now.getTime() + 1_000), now });
      await outbox.settle(
        c!,
        m.seq === 2
          ? { status: 'failed', error: { code: 'channel_not_found', message: 'gone' } }
          : { status: 'delivered', posted: { channel: 'C1', ts: '1.1' } },
        now,
      );
    }
    expect((await outbox.pending([cluster])).map((m) => m.id)).toEqual(['2026-03-02T07:00:00.000Z#0002']);
    const failed = await outbox.get(cluster, '2026-03-02T06:00:00.000Z#0002');
    expect(failed).toMatchObject({ status: 'failed', error: { code: 'channel_not_found', message: 'gone' } });
  });

  it('lets one delivery claim a message at a time; an abandoned claim is taken over once it expires, in doubt', async () => {
    const { outbox, cluster } = fresh();
    const [m] = await outbox.record(recording(cluster));
    const until = new Date(now.getTime() + 60_000);
    const first = await outbox.claim(m!, { token: 'a', until, now });
    expect(first).toMatchObject({ inDoubt: false, message: { status: 'sending', attempts: 1 } });
    expect(await outbox.claim(m!, { token: 'b', until, now })).toBeNull();

    const later = new Date(until.getTime() + 1);
    const second = await outbox.claim(m!, { token: 'b', until: new Date(later.getTime() + 60_000), now: later });
    expect(second).toMatchObject({ inDoubt: true, message: { attempts: 2, firstAttemptAt: now.toISOString() } });
    // The first delivery lost its claim: its settlement is refused.
    expect(await outbox.settle(first!, { status: 'delivered', posted: { channel: 'C1', ts: '9.9' } }, later)).toBe(
      false,
    );
    expect(await outbox.settle(second!, { status: 'delivered', posted: { channel: 'C1', ts: '1.2' } }, later)).toBe(
      true,
    );
    expect(await outbox.get(cluster, m!.id)).toMatchObject({ status: 'delivered', ts: '1.2', inDoubt: false });
  });

  it('keeps a transient failure pending, remembering whether the post may have landed', async () => {
    const { outbox, cluster } = fresh();
    const [m] = await outbox.record(recording(cluster));
    const c = await outbox.claim(m!, { token: 'a', until: new Date(now.getTime() + 1_000), now });
    await outbox.settle(
      c!,
      { status: 'pending', error: { code: 'timeout', message: 'no answer' }, inDoubt: true },
      now,
    );
    const again = await outbox.claim(m!, { token: 'b', until: new Date(now.getTime() + 1_000), now });
    expect(again).toMatchObject({ inDoubt: true, message: { attempts: 2, error: { code: 'timeout' } } });
  });

  it('keeps thread subjects and marks what a later run resolved on them and on their digest', async () => {
    const { outbox, cluster } = fresh();
    await outbox.record(recording(cluster));
    const key = '["label","team-b","ns"]';
    expect(await outbox.subjects(cluster, [key, 'unknown'])).toEqual(
      new Map([
        [
          key,
          {
            key,
            baseline: 'team-b',
            digest: `${RUN}#0001`,
            channel: '#security',
            runId: RUN,
            resolvedRunId: null,
            tracked: true,
          },
        ],
      ]),
    );
    const later = '2026-03-02T07:00:00.000Z';
    await outbox.record({
      cluster,
      runId: later,
      messages: [{ seq: 1, role: 'status', channel: '#security', parent: `${RUN}#0001`, payload: null }],
      subjects: [],
      resolved: [{ digest: `${RUN}#0001`, keys: [key] }],
    });
    expect((await outbox.subjects(cluster, [key])).get(key)?.resolvedRunId).toBe(later);
    expect((await outbox.get(cluster, `${RUN}#0001`))?.resolved).toEqual([key]);
    expect((await outbox.recordedRun(cluster, later))?.[0]).toMatchObject({
      role: 'status',
      payload: null,
      parent: `${RUN}#0001`,
    });
  });

  it('drops a pending marker whose message was never written, once it is an hour old', async () => {
    const { outbox, cluster } = fresh();
    // A marker without its message, as a crash between writing the markers and the messages leaves it.
    const { PutItemCommand } = await import('@aws-sdk/client-dynamodb');
    await table.client.send(
      new PutItemCommand({
        TableName: table.tableName,
        Item: {
          pk: { S: PENDING_PK },
          sk: { S: `${RUN}#${cluster}#0001` },
          cluster: { S: cluster },
          id: { S: `${RUN}#0001` },
          at: { S: now.toISOString() },
        },
      }),
    );
    expect(await outbox.pending([cluster])).toEqual([]);
    expect(await markers(cluster)).toHaveLength(1);
    now = new Date(now.getTime() + 2 * 3_600_000);
    expect(await outbox.pending([cluster])).toEqual([]);
    expect(await markers(cluster)).toEqual([]);
  });

  it('remembers the channel ID a configured name was posted to', async () => {
    const { outbox } = fresh();
    expect(await outbox.channelId('#security')).toBeNull();
    await outbox.rememberChannel('#security', 'C0SECURITY');
    expect(await outbox.channelId('#security')).toBe('C0SECURITY');
  });

  it('gives recorded items the TTL attribute and never touches the history partitions', async () => {
    const { outbox, cluster } = fresh();
    await outbox.record(recording(cluster));
    const out = await table.client.send(
      new QueryCommand({
        TableName: table.tableName,
        KeyConditionExpression: 'pk = :pk',
        ExpressionAttributeValues: { ':pk': { S: `OUTBOX#${cluster}` } },
      }),
    );
    const items = out.Items ?? [];
    expect(items.map((i) => i.sk?.S?.split('#')[0]).sort()).toEqual(['MSG', 'MSG', 'RUN', 'SUBJ']);
    expect(items.every((i) => i.expiresAt?.N !== undefined)).toBe(true);
    const history = await table.client.send(
      new QueryCommand({
        TableName: table.tableName,
        KeyConditionExpression: 'pk = :pk',
        ExpressionAttributeValues: { ':pk': { S: `C#${cluster}` } },
      }),
    );
    expect(history.Items).toEqual([]);
  });
});

async function markers(cluster: string): Promise<string[]> {
  const out = await table.client.send(
    new QueryCommand({
      TableName: table.tableName,
      KeyConditionExpression: 'pk = :pk',
      ExpressionAttributeValues: { ':pk': { S: PENDING_PK } },
    }),
  );
  return (out.Items ?? []).filter((i) => i.cluster?.S === cluster).map((i) => i.sk?.S ?? '');
}
