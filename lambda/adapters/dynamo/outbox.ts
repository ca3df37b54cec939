/**
 * The Outbox port on DynamoDB, in the history store's single table (docs/history.md) under its own
 * key prefixes, so the history's queries never see it:
 *
 *   pk                  sk                               item
 *   OUTBOX#<cluster>    MSG#<runId>#<seq>                a message: payload, delivery status, Slack ts
 *   OUTBOX#<cluster>    RUN#<runId>                      the run's message ids: written last, so a run
 *                                                        with it is completely recorded
 *   OUTBOX#<cluster>    SUBJ#<hash of the subject>       which digest announced a subject, and its state before
 *   OUTBOX-PENDING      <runId>#<cluster>#<seq>          one per undelivered message (a sparse index,
 *                                                        oldest run first); deleted once it is settled
 *   OUTBOX-CHANNELS     <channel as configured>          the channel ID Slack answered with
 *
 * No transactions (dynalite has none): every write is idempotent or conditional. Recording writes
 * the pending markers first, then the messages (`attribute_not_exists`: a message already recorded
 * is never overwritten, whatever its status), then the subjects, then the run item. A marker whose
 * message never got written is dropped after an hour. Delivery claims a message with a
 * conditional update (pending, or a claim that expired), and settles it only while it holds the claim.
 */
import { createHash } from 'node:crypto';
import { gunzipSync, gzipSync } from 'node:zlib';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  BatchGetCommand,
  BatchWriteCommand,
  DeleteCommand,
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { StoreError } from '../../errors.js';
import type {
  Claim,
  DeliveryStatus,
  MessageRole,
  Outbox,
  OutboxMessage,
  OutboxRecording,
  Payload,
  PlannedMessage,
  Settlement,
  SubjectRecord,
} from '../../notify/ports.js';
import type { Clock } from '../../ports.js';
import { PK, SK, TTL_ATTRIBUTE } from './table.js';

export interface DynamoOutboxOptions {
  readonly client: DynamoDBClient;
  readonly tableName: string;
  /** Days delivered messages and thread subjects are kept (the `expiresAt` TTL attribute). */
  readonly retentionDays: number;
  readonly clock: Clock;
  /** Items per query page; small values exercise pagination. */
  readonly pageSize?: number;
  /** How old a pending marker without its message must be before it is dropped. Default 1 hour. */
  readonly orphanAfterMs?: number;
}

export const PENDING_PK = 'OUTBOX-PENDING';
export const CHANNELS_PK = 'OUTBOX-CHANNELS';

const pad = (n: number): string => String(n).padStart(4, '0');

export const outboxKeys = {
  cluster: (cluster: string): string => `OUTBOX#${cluster}`,
  message: (id: string): string => `MSG#${id}`,
  run: (runId: string): string => `RUN#${runId}`,
  subject: (key: string): string => `SUBJ#${createHash('sha256').update(key).digest('hex').slice(0, 32)}`,
  pending: (runId: string, cluster: string, seq: number): string => `${runId}#${cluster}#${pad(seq)}`,
};

type Item = Record<string, unknown>;

const GZIP_ABOVE = 32 * 1024;

function encodeJson(name: string, value: unknown): Item {
  const json = JSON.stringify(value);
  if (json.length <= GZIP_ABOVE) return { [name]: json };
  const gz = gzipSync(Buffer.from(json, 'utf8'));
  return { [`${name}Gz`]: new Uint8Array(gz.buffer, gz.byteOffset, gz.length) };
}

function decodeJson<T>(item: Item, name: string): T | null {
  const text = item[name];
  if (typeof text === 'string') return JSON.parse(text) as T;
  const gz = item[`${name}Gz`];
  if (gz instanceof Uint8Array) return JSON.parse(gunzipSync(gz).toString('utf8')) as T;
  return null;
}

const str = (v: unknown): string | null => (typeof v === 'string' ? v : null);

function messageOf(item: Item): OutboxMessage {
  const resolved = item.resolved instanceof Set ? [...(item.resolved as Set<string>)].sort() : [];
  const groups = decodeJson<Record<string, string>>(item, 'groups');
  const errorCode = str(item.errorCode);
  return {
    cluster: String(item.cluster),
    runId: String(item.runId),
    seq: Number(item.seq),
    id: String(item.id),
    role: item.role as MessageRole,
    channel: String(item.channel),
    parent: str(item.parent),
    payload: decodeJson<Payload>(item, 'payload'),
    ...(groups === null ? {} : { groups }),
    createdAt: String(item.createdAt),
    status: item.status as DeliveryStatus,
    attempts: typeof item.attempts === 'number' ? item.attempts : 0,
    firstAttemptAt: str(item.firstAttemptAt),
    inDoubt: item.inDoubt === true,
    postedChannel: str(item.postedChannel),
    ts: str(item.ts),
    deliveredAt: str(item.deliveredAt),
    error: errorCode === null ? null : { code: errorCode, message: str(item.errorMessage) ?? '' },
    resolved,
  };
}

function subjectOf(item: Item): SubjectRecord {
  return {
    key: String(item.key),
    baseline: str(item.baseline),
    digest: String(item.digest),
    channel: String(item.channel),
    runId: String(item.runId),
    resolvedRunId: str(item.resolvedRunId),
    tracked: item.tracked !== false,
  };
}

export function createDynamoOutbox(options: DynamoOutboxOptions): Outbox {
  const doc = DynamoDBDocumentClient.from(options.client, {
    marshallOptions: { removeUndefinedValues: true, convertClassInstanceToMap: false },
  });
  const table = options.tableName;
  const orphanAfterMs = options.orphanAfterMs ?? 3_600_000;
  const expiry = (now: Date): number => Math.floor(now.getTime() / 1000) + options.retentionDays * 86_400;

  async function call<T>(what: string, send: () => Promise<T>): Promise<T> {
    try {
      return await send();
    } catch (e) {
      if (e instanceof StoreError) throw e;
      throw new StoreError(`outbox: ${what} failed: ${e instanceof Error ? e.message || e.name : String(e)}`, {
        cause: e,
      });
    }
  }

  /** Runs a conditional write; false when its condition did not hold. */
  async function conditional(what: string, send: () => Promise<unknown>): Promise<boolean> {
    try {
      await send();
      return true;
    } catch (e) {
      if (e instanceof Error && e.name === 'ConditionalCheckFailedException') return false;
      throw new StoreError(`outbox: ${what} failed: ${e instanceof Error ? e.message || e.name : String(e)}`, {
        cause: e,
      });
    }
  }

  async function batchWrite(what: string, requests: readonly Item[]): Promise<void> {
    for (let i = 0; i < requests.length; i += 25) {
      let pending = requests.slice(i, i + 25);
      for (let attempt = 0; pending.length > 0; attempt++) {
        if (attempt >= 10) throw new StoreError(`outbox: ${what} failed: the table kept throttling writes`);
        if (attempt > 0) await sleep(Math.min(2_000, 25 * 2 ** attempt));
        const out = await call(what, () => doc.send(new BatchWriteCommand({ RequestItems: { [table]: pending } })));
        pending = out.UnprocessedItems?.[table] ?? [];
      }
    }
  }

  async function batchGet(what: string, keys: readonly Item[]): Promise<Item[]> {
    const out: Item[] = [];
    for (let i = 0; i < keys.length; i += 100) {
      let pending = keys.slice(i, i + 100);
      for (let attempt = 0; pending.length > 0; attempt++) {
        if (attempt >= 10) throw new StoreError(`outbox: ${what} failed: the table kept throttling reads`);
        if (attempt > 0) await sleep(Math.min(2_000, 25 * 2 ** attempt));
        const page = await call(what, () =>
          doc.send(new BatchGetCommand({ RequestItems: { [table]: { Keys: pending, ConsistentRead: true } } })),
        );
        out.push(...((page.Responses?.[table] ?? []) as Item[]));
        pending = (page.UnprocessedKeys?.[table]?.Keys ?? []) as Item[];
      }
    }
    return out;
  }

  async function queryAll(what: string, pk: string, prefix?: string): Promise<Item[]> {
    const out: Item[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const page = await call(what, () =>
        doc.send(
          new QueryCommand({
            TableName: table,
            KeyConditionExpression: prefix === undefined ? '#pk = :pk' : '#pk = :pk AND begins_with(#sk, :prefix)',
            ExpressionAttributeNames: prefix === undefined ? { '#pk': PK } : { '#pk': PK, '#sk': SK },
            ExpressionAttributeValues: prefix === undefined ? { ':pk': pk } : { ':pk': pk, ':prefix': prefix },
            ConsistentRead: true,
            ExclusiveStartKey: start,
            ...(options.pageSize ? { Limit: options.pageSize } : {}),
          }),
        ),
      );
      out.push(...((page.Items ?? []) as Item[]));
      start = page.LastEvaluatedKey;
    } while (start !== undefined);
    return out;
  }

  const messageKey = (cluster: string, id: string): Item => ({
    [PK]: outboxKeys.cluster(cluster),
    [SK]: outboxKeys.message(id),
  });
  const pendingKey = (m: Pick<OutboxMessage, 'runId' | 'cluster' | 'seq'>): Item => ({
    [PK]: PENDING_PK,
    [SK]: outboxKeys.pending(m.runId, m.cluster, m.seq),
  });

  async function messages(cluster: string, ids: readonly string[]): Promise<Map<string, OutboxMessage>> {
    const items = await batchGet(
      `reading messages of ${cluster}`,
      ids.map((id) => messageKey(cluster, id)),
    );
    return new Map(items.map((item) => [String(item.id), messageOf(item)]));
  }

  async function recordedRun(cluster: string, runId: string): Promise<OutboxMessage[] | null> {
    const run = await call(`reading run ${runId} of ${cluster}`, () =>
      doc.send(
        new GetCommand({
          TableName: table,
          Key: { [PK]: outboxKeys.cluster(cluster), [SK]: outboxKeys.run(runId) },
          ConsistentRead: true,
        }),
      ),
    );
    if (run.Item === undefined) return null;
    const ids = Array.isArray(run.Item.ids) ? (run.Item.ids as string[]) : [];
    const found = await messages(cluster, ids);
    return ids.flatMap((id) => {
      const m = found.get(id);
      return m === undefined ? [] : [m];
    });
  }

  function messageItem(cluster: string, runId: string, m: PlannedMessage, now: Date): Item {
    const id = `${runId}#${pad(m.seq)}`;
    return {
      [PK]: outboxKeys.cluster(cluster),
      [SK]: outboxKeys.message(id),
      cluster,
      runId,
      seq: m.seq,
      id,
      role: m.role,
      channel: m.channel,
      ...(m.parent === null ? {} : { parent: m.parent }),
      ...(m.payload === null ? {} : encodeJson('payload', m.payload)),
      ...(m.groups === undefined ? {} : encodeJson('groups', m.groups)),
      status: 'pending',
      attempts: 0,
      inDoubt: false,
      createdAt: now.toISOString(),
      [TTL_ATTRIBUTE]: expiry(now),
    };
  }

  async function record(recording: OutboxRecording): Promise<OutboxMessage[]> {
    const { cluster, runId } = recording;
    const now = options.clock.now();
    const at = now.toISOString();
    // 1. The pending markers: a message is never without one before it is settled.
    await batchWrite(
      `recording the pending messages of ${cluster}`,
      recording.messages.map((m) => ({
        PutRequest: {
          Item: { ...pendingKey({ runId, cluster, seq: m.seq }), cluster, id: `${runId}#${pad(m.seq)}`, at },
        },
      })),
    );
    // 2. The messages, each only once.
    for (const m of recording.messages) {
      await conditional(`recording message ${m.seq} of ${cluster}`, () =>
        doc.send(
          new PutCommand({
            TableName: table,
            Item: messageItem(cluster, runId, m, now),
            ConditionExpression: 'attribute_not_exists(#pk)',
            ExpressionAttributeNames: { '#pk': PK },
          }),
        ),
      );
    }
    // 3. What the digests announced, and what this run resolved.
    await batchWrite(
      `recording the subjects of ${cluster}`,
      dedupe(recording.subjects).map((s) => ({
        PutRequest: {
          Item: {
            [PK]: outboxKeys.cluster(cluster),
            [SK]: outboxKeys.subject(s.key),
            key: s.key,
            ...(s.baseline === null ? {} : { baseline: s.baseline }),
            digest: s.digest,
            channel: s.channel,
            runId: s.runId,
            tracked: s.tracked,
            [TTL_ATTRIBUTE]: expiry(now),
          },
        },
      })),
    );
    for (const r of recording.resolved) {
      if (r.keys.length === 0) continue;
      await conditional(`marking what run ${runId} resolved`, () =>
        doc.send(
          new UpdateCommand({
            TableName: table,
            Key: messageKey(cluster, r.digest),
            UpdateExpression: 'ADD #resolved :keys',
            ConditionExpression: 'attribute_exists(#pk)',
            ExpressionAttributeNames: { '#resolved': 'resolved', '#pk': PK },
            ExpressionAttributeValues: { ':keys': new Set(r.keys) },
          }),
        ),
      );
      for (const key of r.keys) {
        await conditional(`marking a subject of ${cluster} resolved`, () =>
          doc.send(
            new UpdateCommand({
              TableName: table,
              Key: { [PK]: outboxKeys.cluster(cluster), [SK]: outboxKeys.subject(key) },
              UpdateExpression: 'SET #resolvedRunId = :runId',
              ConditionExpression: 'attribute_exists(#pk)',
              ExpressionAttributeNames: { '#resolvedRunId': 'resolvedRunId', '#pk': PK },
              ExpressionAttributeValues: { ':runId': runId },
            }),
          ),
        );
      }
    }
    // 4. The run: completely recorded.
    const ids = recording.messages.map((m) => `${runId}#${pad(m.seq)}`);
    await conditional(`recording run ${runId} of ${cluster}`, () =>
      doc.send(
        new PutCommand({
          TableName: table,
          Item: {
            [PK]: outboxKeys.cluster(cluster),
            [SK]: outboxKeys.run(runId),
            cluster,
            runId,
            ids,
            recordedAt: at,
            [TTL_ATTRIBUTE]: expiry(now),
          },
          ConditionExpression: 'attribute_not_exists(#pk)',
          ExpressionAttributeNames: { '#pk': PK },
        }),
      ),
    );
    return (await recordedRun(cluster, runId)) ?? [];
  }

  async function subjects(cluster: string, keys: readonly string[]): Promise<Map<string, SubjectRecord>> {
    const unique = [...new Set(keys)];
    const items = await batchGet(
      `reading the thread subjects of ${cluster}`,
      unique.map((key) => ({ [PK]: outboxKeys.cluster(cluster), [SK]: outboxKeys.subject(key) })),
    );
    return new Map(items.map((item) => [String(item.key), subjectOf(item)]));
  }

  async function pending(clusters?: readonly string[]): Promise<OutboxMessage[]> {
    const wanted = clusters === undefined ? null : new Set(clusters);
    const markers = (await queryAll('listing undelivered messages', PENDING_PK)).filter(
      (m) => wanted === null || wanted.has(String(m.cluster)),
    );
    const byCluster = new Map<string, Item[]>();
    for (const m of markers) {
      const cluster = String(m.cluster);
      let list = byCluster.get(cluster);
      if (list === undefined) byCluster.set(cluster, (list = []));
      list.push(m);
    }
    const found = new Map<Item, OutboxMessage | undefined>();
    for (const [cluster, list] of byCluster) {
      const got = await messages(
        cluster,
        list.map((m) => String(m.id)),
      );
      for (const m of list) found.set(m, got.get(String(m.id)));
    }
    const now = options.clock.now().getTime();
    const out: OutboxMessage[] = [];
    const stale: Item[] = [];
    for (const marker of markers) {
      const message = found.get(marker);
      if (message === undefined) {
        // Its message was never written (a crash while recording): the run's replay writes both again.
        const at = Date.parse(String(marker.at));
        if (!Number.isNaN(at) && now - at > orphanAfterMs) stale.push(marker);
        continue;
      }
      if (message.status === 'pending' || message.status === 'sending') out.push(message);
      else stale.push(marker); // settled, but the marker's deletion did not happen
    }
    if (stale.length > 0) {
      await batchWrite(
        'dropping settled pending markers',
        stale.map((m) => ({ DeleteRequest: { Key: { [PK]: m[PK], [SK]: m[SK] } } })),
      );
    }
    return out;
  }

  async function get(cluster: string, id: string): Promise<OutboxMessage | null> {
    const out = await call(`reading message ${id} of ${cluster}`, () =>
      doc.send(new GetCommand({ TableName: table, Key: messageKey(cluster, id), ConsistentRead: true })),
    );
    return out.Item === undefined ? null : messageOf(out.Item);
  }

  async function claim(
    message: OutboxMessage,
    claimOptions: { readonly token: string; readonly until: Date; readonly now: Date },
  ): Promise<Claim | null> {
    try {
      const out = await doc.send(
        new UpdateCommand({
          TableName: table,
          Key: messageKey(message.cluster, message.id),
          UpdateExpression:
            'SET #status = :sending, #claimToken = :token, #claimUntil = :until, #attempts = if_not_exists(#attempts, :zero) + :one, #first = if_not_exists(#first, :now)',
          ConditionExpression: '#status = :pending OR (#status = :sending AND #claimUntil < :nowMs)',
          ExpressionAttributeNames: {
            '#status': 'status',
            '#claimToken': 'claimToken',
            '#claimUntil': 'claimUntil',
            '#attempts': 'attempts',
            '#first': 'firstAttemptAt',
          },
          ExpressionAttributeValues: {
            ':sending': 'sending',
            ':pending': 'pending',
            ':token': claimOptions.token,
            ':until': claimOptions.until.getTime(),
            ':nowMs': claimOptions.now.getTime(),
            ':now': claimOptions.now.toISOString(),
            ':zero': 0,
            ':one': 1,
          },
          ReturnValues: 'ALL_OLD',
        }),
      );
      const old = messageOf(out.Attributes as Item);
      return {
        token: claimOptions.token,
        // An abandoned claim (a crash mid-post) or an ambiguous failure: the post may have landed.
        inDoubt: old.status === 'sending' || old.inDoubt,
        message: {
          ...old,
          status: 'sending',
          attempts: old.attempts + 1,
          firstAttemptAt: old.firstAttemptAt ?? claimOptions.now.toISOString(),
        },
      };
    } catch (e) {
      if (e instanceof Error && e.name === 'ConditionalCheckFailedException') return null;
      throw new StoreError(
        `outbox: claiming message ${message.id} of ${message.cluster} failed: ${e instanceof Error ? e.message : String(e)}`,
        {
          cause: e,
        },
      );
    }
  }

  async function settle(c: Claim, settlement: Settlement, now: Date): Promise<boolean> {
    const m = c.message;
    const names: Record<string, string> = {
      '#status': 'status',
      '#claimToken': 'claimToken',
      '#claimUntil': 'claimUntil',
    };
    const values: Record<string, unknown> = { ':status': settlement.status, ':token': c.token };
    const sets = ['#status = :status'];
    const removes = ['#claimToken', '#claimUntil'];
    if (settlement.status === 'delivered') {
      Object.assign(names, { '#posted': 'postedChannel', '#ts': 'ts', '#at': 'deliveredAt', '#doubt': 'inDoubt' });
      Object.assign(values, {
        ':posted': settlement.posted.channel,
        ':ts': settlement.posted.ts,
        ':at': now.toISOString(),
        ':false': false,
      });
      sets.push('#posted = :posted', '#ts = :ts', '#at = :at', '#doubt = :false');
    } else {
      Object.assign(names, { '#code': 'errorCode', '#message': 'errorMessage' });
      Object.assign(values, { ':code': settlement.error.code, ':message': settlement.error.message.slice(0, 2_000) });
      sets.push('#code = :code', '#message = :message');
      if (settlement.status === 'pending') {
        names['#doubt'] = 'inDoubt';
        values[':doubt'] = settlement.inDoubt;
        sets.push('#doubt = :doubt');
      }
    }
    const held = await conditional(`settling message ${m.id} of ${m.cluster}`, () =>
      doc.send(
        new UpdateCommand({
          TableName: table,
          Key: messageKey(m.cluster, m.id),
          UpdateExpression: `SET ${sets.join(', ')} REMOVE ${removes.join(', ')}`,
          ConditionExpression: '#claimToken = :token',
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: values,
        }),
      ),
    );
    if (held && settlement.status !== 'pending') {
      // Best effort: a marker left behind is dropped by the next `pending`.
      await call('dropping a pending marker', () =>
        doc.send(new DeleteCommand({ TableName: table, Key: pendingKey(m) })),
      ).catch(() => undefined);
    }
    return held;
  }

  async function channelId(channel: string): Promise<string | null> {
    const out = await call(`reading the ID of ${channel}`, () =>
      doc.send(new GetCommand({ TableName: table, Key: { [PK]: CHANNELS_PK, [SK]: channel } })),
    );
    return str(out.Item?.channelId);
  }

  async function rememberChannel(channel: string, id: string): Promise<void> {
    await call(`remembering the ID of ${channel}`, () =>
      doc.send(new PutCommand({ TableName: table, Item: { [PK]: CHANNELS_PK, [SK]: channel, channelId: id } })),
    );
  }

  return { recordedRun, subjects, record, pending, get, claim, settle, channelId, rememberChannel };
}

/** The last record of each subject key (a key announced in two digests of one run keeps the last). */
function dedupe(subjects: readonly SubjectRecord[]): SubjectRecord[] {
  return [...new Map(subjects.map((s) => [s.key, s])).values()];
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
