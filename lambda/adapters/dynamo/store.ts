/**
 * The Store port on DynamoDB: the same code against AWS and against the embedded emulator.
 *
 * Writing a run (see docs/history.md):
 *   1. read the cluster's latest run record; a replay of it (or of an older recorded run) returns it;
 *   2. take the cluster's lease: one conditional update of its HEAD item;
 *   3. write what changed (namespace, policy and finding versions; drift events), each item
 *      stamped with the run's seq: nothing that changes costs nothing;
 *   4. put the run record with `attribute_not_exists`: the commit point. Readers only trust items
 *      whose seq is at most the latest run record's, so a run that dies before 4 leaves nothing
 *      anyone reads, and the next run deletes what it left.
 * An unchanged cluster therefore costs two writes a run (lease and record), whatever its size.
 * dynalite has no transactions and no TTL updates; none are needed.
 */
import { randomUUID } from 'node:crypto';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  BatchWriteCommand,
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  UpdateCommand,
  type QueryCommandInput,
} from '@aws-sdk/lib-dynamodb';
import {
  compareFindingsFully,
  comparePolicyObjects,
  findingKey,
  jsonEqual,
  keyFindings,
  labelsEqual,
  policyKey,
  type ClusterState,
  type DriftEvent,
  type Finding,
  type Namespace,
  type ResourceObject,
} from '../../audit/index.js';
import { RunInProgressError, RunOutOfOrderError, StoreError } from '../../errors.js';
import type {
  ChainVerification,
  Clock,
  HistoryEntry,
  HistoryQuery,
  Logger,
  OpenedRun,
  RecordedRun,
  RecordedState,
  RunCommit,
  RunRecord,
  RunSession,
  Store,
  TimeRange,
} from '../../ports.js';
import { hashOf, sha256Hex } from './canonical.js';
import { changesDigest, runHash, verifyChain } from './chain.js';
import {
  dataOf,
  encodeData,
  parseData,
  seqOf,
  skOf,
  type EventsData,
  type FindingData,
  type Item,
  type NamespaceData,
  type PolicyData,
  type RunData,
  type StoredEvent,
} from './items.js';
import {
  CLUSTERS_PK,
  CURRENT_INDEX,
  CURRENT_PK,
  CURRENT_SK,
  HEAD_SK,
  PK,
  SK,
  TIME_INDEX,
  TIME_PK,
  TIME_SK,
  TTL_ATTRIBUTE,
  entityOf,
  keys,
  type VersionPrefix,
} from './table.js';

export interface DynamoStoreOptions {
  readonly client: DynamoDBClient;
  readonly tableName: string;
  /** Days every record is kept after it stops being current (the `expiresAt` TTL attribute). */
  readonly retentionDays: number;
  readonly clock: Clock;
  /** Names this process in leases, e.g. `host:pid`. */
  readonly holder: string;
  /**
   * True when this process is the table's only user (the embedded store, guarded by its directory
   * lock): a lease held by another holder is then left over from a crash and is taken at once.
   */
  readonly exclusive?: boolean;
  /** How long a run may hold its cluster. Default 15 minutes (the Lambda limit). */
  readonly leaseMs?: number;
  /** How long a run waits for another run of the same cluster. Default 60 s. */
  readonly waitMs?: number;
  /** Pause between attempts to take a held lease. Default 250 ms. */
  readonly pollMs?: number;
  /** Items per query page (DynamoDB pages at 1 MB anyway); small values exercise pagination. */
  readonly pageSize?: number;
  /** Batch writes in flight at once. Default 4. */
  readonly writeConcurrency?: number;
  readonly logger?: Logger;
}

const DAY_SECONDS = 86_400;
const MAX_ERRORS = 100;
const MAX_ERROR_LENGTH = 1_000;
/** Events per chunk item stay below this many characters of JSON. */
const EVENTS_CHUNK_CHARS = 200_000;
const NO_TOKEN = '-';

interface Version<T> {
  readonly item: Item;
  readonly seq: number;
  readonly at: string;
  readonly data: T;
}

interface Loaded {
  readonly namespaces: Map<string, Version<NamespaceData>>;
  readonly policies: Map<string, Version<PolicyData>>;
  readonly findings: Map<string, Version<FindingData>>;
  /** Items of runs that never committed (seq above the latest run record). */
  readonly leftovers: Item[];
  /** Committed versions superseded by a later one but still without an expiry. */
  readonly unexpired: Item[];
}

export function createDynamoStore(options: DynamoStoreOptions): Store {
  const doc = DynamoDBDocumentClient.from(options.client, {
    marshallOptions: { removeUndefinedValues: true, convertClassInstanceToMap: false },
  });
  const table = options.tableName;
  const leaseMs = options.leaseMs ?? 15 * 60_000;
  const waitMs = options.waitMs ?? 60_000;
  const pollMs = options.pollMs ?? 250;
  const pageSize = options.pageSize;
  const retentionSeconds = options.retentionDays * DAY_SECONDS;
  const nowMs = (): number => options.clock.now().getTime();
  const expiryOf = (at: string): number => Math.floor(Date.parse(at) / 1000) + retentionSeconds;

  // -------------------------------------------------------------------------------------------
  // Requests (every failure becomes a StoreError naming what was being done)

  async function call<T>(what: string, send: () => Promise<T>): Promise<T> {
    try {
      return await send();
    } catch (e) {
      if (e instanceof StoreError) throw e;
      throw new StoreError(`store: ${what} failed: ${describeError(e)}`, { cause: e });
    }
  }

  async function queryAll(what: string, input: Omit<QueryCommandInput, 'TableName'>): Promise<Item[]> {
    const out: Item[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const page = await call(what, () =>
        doc.send(
          new QueryCommand({
            TableName: table,
            ...input,
            ExclusiveStartKey: start,
            ...(pageSize ? { Limit: pageSize } : {}),
          }),
        ),
      );
      out.push(...((page.Items ?? []) as Item[]));
      start = page.LastEvaluatedKey;
    } while (start !== undefined);
    return out;
  }

  async function batchWrite(what: string, requests: readonly Record<string, unknown>[]): Promise<void> {
    const batches: Record<string, unknown>[][] = [];
    for (let i = 0; i < requests.length; i += 25) batches.push(requests.slice(i, i + 25));
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < batches.length) {
        let pending = batches[next++]!;
        for (let attempt = 0; pending.length > 0; attempt++) {
          if (attempt >= 10) throw new StoreError(`store: ${what} failed: the table kept throttling writes`);
          if (attempt > 0) await sleep(Math.min(2_000, 25 * 2 ** attempt));
          const result = await call(what, () =>
            doc.send(new BatchWriteCommand({ RequestItems: { [table]: pending } })),
          );
          pending = result.UnprocessedItems?.[table] ?? [];
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(options.writeConcurrency ?? 4, batches.length) }, worker));
  }

  // -------------------------------------------------------------------------------------------
  // Reads

  async function latestRun(cluster: string): Promise<RunData | null> {
    const page = await call(`reading the latest run of ${cluster}`, () =>
      doc.send(
        new QueryCommand({
          TableName: table,
          KeyConditionExpression: '#pk = :pk AND begins_with(#sk, :run)',
          ExpressionAttributeNames: { '#pk': PK, '#sk': SK },
          ExpressionAttributeValues: { ':pk': keys.cluster(cluster), ':run': 'RUN#' },
          ScanIndexForward: false,
          Limit: 1,
          ConsistentRead: true,
        }),
      ),
    );
    const item = page.Items?.[0] as Item | undefined;
    return item === undefined ? null : parseData<RunData>(item);
  }

  async function runsByTime(
    cluster: string,
    range: TimeRange,
    newestFirst = false,
    limit?: number,
  ): Promise<RunData[]> {
    const since = range.since ?? '';
    const until = range.until ?? '~';
    const input = {
      IndexName: TIME_INDEX,
      KeyConditionExpression: '#tpk = :tpk AND #tsk BETWEEN :since AND :until',
      ExpressionAttributeNames: { '#tpk': TIME_PK, '#tsk': TIME_SK },
      ExpressionAttributeValues: { ':tpk': keys.runsByTime(cluster), ':since': since, ':until': until },
      ScanIndexForward: !newestFirst,
    };
    if (limit !== undefined) {
      const page = await call(`reading the runs of ${cluster}`, () =>
        doc.send(new QueryCommand({ TableName: table, ...input, Limit: limit })),
      );
      return ((page.Items ?? []) as Item[]).map((item) => parseData<RunData>(item));
    }
    return (await queryAll(`reading the runs of ${cluster}`, input)).map((item) => parseData<RunData>(item));
  }

  async function runAt(cluster: string, at: string): Promise<RunData | null> {
    const runs = await runsByTime(cluster, { since: at, until: at });
    return runs[0] ?? null;
  }

  async function versions(cluster: string, prefix: string): Promise<Item[]> {
    return queryAll(`reading ${cluster}`, {
      KeyConditionExpression: '#pk = :pk AND begins_with(#sk, :prefix)',
      ExpressionAttributeNames: { '#pk': PK, '#sk': SK },
      ExpressionAttributeValues: { ':pk': keys.cluster(cluster), ':prefix': prefix },
      ConsistentRead: true,
    });
  }

  async function eventItems(cluster: string, fromSeq: number, toSeq: number | null): Promise<Item[]> {
    return queryAll(`reading the drift events of ${cluster}`, {
      KeyConditionExpression: '#pk = :pk AND #sk BETWEEN :from AND :to',
      ExpressionAttributeNames: { '#pk': PK, '#sk': SK },
      ExpressionAttributeValues: {
        ':pk': keys.cluster(cluster),
        ':from': keys.eventsFrom(fromSeq),
        ':to': toSeq === null ? 'EVT#~' : keys.eventsTo(toSeq),
      },
      ConsistentRead: true,
    });
  }

  /**
   * Every entity's latest version at or before run `upTo`; items above `head` are leftovers of
   * runs that never committed; committed versions with a committed successor and no expiry are
   * collected so a run can give them one.
   */
  async function load(cluster: string, upTo: number, head: number): Promise<Loaded> {
    const leftovers: Item[] = [];
    const unexpired: Item[] = [];
    const pick = async <T>(prefix: VersionPrefix): Promise<Map<string, Version<T>>> => {
      const latest = new Map<string, Version<T>>();
      const committed = new Map<string, Item>();
      for (const item of await versions(cluster, prefix)) {
        const seq = seqOf(item);
        if (seq > head) {
          leftovers.push(item);
          continue;
        }
        const id = entityOf(skOf(item));
        const before = committed.get(id);
        if (before !== undefined && (before[TTL_ATTRIBUTE] === undefined || before[CURRENT_PK] !== undefined)) {
          unexpired.push(retired(before, expiryOf(String(item.at))));
        }
        committed.set(id, item);
        if (seq <= upTo) latest.set(id, { item, seq, at: String(item.at), data: parseData<T>(item) });
      }
      return latest;
    };
    const [namespaces, policies, findings] = [
      await pick<NamespaceData>('NS#'),
      await pick<PolicyData>('POL#'),
      await pick<FindingData>('FND#'),
    ];
    return { namespaces, policies, findings, leftovers, unexpired };
  }

  /**
   * The current versions only, from the `current` index: what a run diffs against, read in
   * O(cluster) however long the history. The index is eventually consistent and a replaced
   * version leaves it only after its successor committed, so the caller checks the result against
   * the run's state hash (and falls back to `load`); the latest version of an entity wins.
   */
  async function loadCurrent(cluster: string, head: number): Promise<Loaded> {
    const items = await queryAll(`reading the current state of ${cluster}`, {
      IndexName: CURRENT_INDEX,
      KeyConditionExpression: '#cpk = :cpk',
      ExpressionAttributeNames: { '#cpk': CURRENT_PK },
      ExpressionAttributeValues: { ':cpk': keys.current(cluster) },
    });
    const maps: Record<VersionPrefix, Map<string, Version<unknown>>> = {
      'NS#': new Map(),
      'POL#': new Map(),
      'FND#': new Map(),
    };
    for (const item of items) {
      const seq = seqOf(item);
      const sk = skOf(item);
      const map = maps[sk.slice(0, sk.indexOf('#') + 1) as VersionPrefix] as Map<string, Version<unknown>> | undefined;
      if (seq > head || map === undefined) continue;
      const id = entityOf(sk);
      const seen = map.get(id);
      if (seen === undefined || seen.seq < seq)
        map.set(id, { item, seq, at: String(item.at), data: parseData<unknown>(item) });
    }
    return {
      namespaces: maps['NS#'] as Map<string, Version<NamespaceData>>,
      policies: maps['POL#'] as Map<string, Version<PolicyData>>,
      findings: maps['FND#'] as Map<string, Version<FindingData>>,
      leftovers: [],
      unexpired: [],
    };
  }

  function stateOf(cluster: string, loaded: Loaded): ClusterState {
    const namespaces: Namespace[] = [];
    for (const { data } of loaded.namespaces.values())
      if (data.labels !== null) namespaces.push({ name: data.name, labels: data.labels });
    const policies: ResourceObject[] = [];
    for (const { data } of loaded.policies.values()) if (data.object !== null) policies.push(data.object);
    const findings: Finding[] = [];
    for (const { data } of loaded.findings.values()) if (data.state === 'open') findings.push(data.finding);
    return {
      cluster,
      namespaces: namespaces.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)),
      policies: policies.sort(comparePolicyObjects),
      findings: findings.sort(compareFindingsFully),
    };
  }

  async function stateAfter(run: RunData): Promise<{ state: ClusterState | null; loaded: Loaded | null }> {
    if (run.stateHash === null) return { state: null, loaded: null };
    const loaded = await load(run.cluster, run.seq, Number.MAX_SAFE_INTEGER);
    const state = stateOf(run.cluster, loaded);
    if (hashOf(state) !== run.stateHash) {
      options.logger?.warn(
        `the recorded state of ${run.cluster} at run ${run.seq} does not match its hash: run \`labelguard verify\``,
      );
    }
    return { state, loaded };
  }

  async function eventsOf(cluster: string, seq: number): Promise<StoredEvent[]> {
    return (await eventItems(cluster, seq, seq)).flatMap((item) => parseData<EventsData>(item).events);
  }

  async function recorded(run: RunData): Promise<RecordedRun> {
    const { state } = await stateAfter(run);
    return { run: publicRun(run), state, events: (await eventsOf(run.cluster, run.seq)).map(driftEventOf) };
  }

  // -------------------------------------------------------------------------------------------
  // Runs

  async function openRun(cluster: string, runId: string): Promise<OpenedRun> {
    const at = normalizeTime(runId);
    const waitUntil = performance.now() + waitMs; // elapsed time here; lease times are wall-clock (shared)
    let latest = await latestRun(cluster);
    for (;;) {
      const known = await alreadyRecorded(cluster, at, latest);
      if (known !== null) return { kind: 'recorded', recorded: await recorded(known) };

      const token = randomUUID();
      const until = nowMs() + leaseMs;
      const old = await takeLease(cluster, at, token, until, latest);
      if (old !== undefined) {
        // Someone may have committed between our read and the lease: read again.
        const current = await latestRun(cluster);
        if (current !== null && current.seq !== latest?.seq) {
          await release(cluster, token);
          latest = current;
          continue;
        }
        const oldToken = typeof old?.lease === 'string' ? old.lease : null;
        const dirty = oldToken !== null && oldToken !== (latest?.token ?? null);
        return { kind: 'new', session: createSession(cluster, at, token, until, latest, dirty) };
      }
      if (performance.now() > waitUntil) {
        throw new RunInProgressError(
          `another run of ${cluster} is in progress (it holds the cluster's lease); run ${at} waited ${Math.round(waitMs / 1000)} s and was not recorded`,
        );
      }
      await sleep(pollMs);
      latest = await latestRun(cluster);
    }
  }

  /** The recorded run for `at`, null when it is new; throws when it is older than the latest and unrecorded. */
  async function alreadyRecorded(cluster: string, at: string, latest: RunData | null): Promise<RunData | null> {
    if (latest === null || at > latest.runId) return null;
    if (at === latest.runId) return latest;
    const older = await runAt(cluster, at);
    if (older !== null) return older;
    throw new RunOutOfOrderError(
      `run ${at} of ${cluster} is older than its latest recorded run (${latest.runId}) and was not recorded: runs are recorded in time order`,
    );
  }

  /** The old HEAD item (or null when there was none) when the lease was taken; undefined when it is held. */
  async function takeLease(
    cluster: string,
    at: string,
    token: string,
    until: number,
    latest: RunData | null,
  ): Promise<Item | null | undefined> {
    try {
      const result = await doc.send(
        new UpdateCommand({
          TableName: table,
          Key: { [PK]: keys.cluster(cluster), [SK]: HEAD_SK },
          UpdateExpression:
            'SET #lease = :token, #until = :until, #holder = :holder, #runId = :runId, #seenSeq = :seenSeq, #seenHash = :seenHash',
          ConditionExpression: `attribute_not_exists(#lease) OR #until < :now OR #lease = :committed${options.exclusive ? ' OR #holder <> :holder' : ''}`,
          ExpressionAttributeNames: {
            '#lease': 'lease',
            '#until': 'leaseUntil',
            '#holder': 'holder',
            '#runId': 'runId',
            '#seenSeq': 'seenSeq',
            '#seenHash': 'seenHash',
          },
          ExpressionAttributeValues: {
            ':token': token,
            ':until': until,
            ':holder': options.holder,
            ':runId': at,
            ':seenSeq': latest?.seq ?? 0,
            ':seenHash': latest?.hash ?? NO_TOKEN,
            ':now': nowMs(),
            ':committed': latest?.token ?? NO_TOKEN,
          },
          ReturnValues: 'ALL_OLD',
        }),
      );
      return (result.Attributes as Item | undefined) ?? null;
    } catch (e) {
      if (isConditionFailure(e)) return undefined;
      throw new StoreError(`store: taking the lease of ${cluster} failed: ${describeError(e)}`, { cause: e });
    }
  }

  /** Lets the next run take the lease at once; it still sees the token, so it cleans up after us. */
  async function release(cluster: string, token: string): Promise<void> {
    try {
      await doc.send(
        new UpdateCommand({
          TableName: table,
          Key: { [PK]: keys.cluster(cluster), [SK]: HEAD_SK },
          UpdateExpression: 'SET #until = :zero',
          ConditionExpression: '#lease = :token',
          ExpressionAttributeNames: { '#lease': 'lease', '#until': 'leaseUntil' },
          ExpressionAttributeValues: { ':zero': 0, ':token': token },
        }),
      );
    } catch (e) {
      options.logger?.warn(`could not release the lease of ${cluster}: ${describeError(e)}`);
    }
  }

  function createSession(
    cluster: string,
    at: string,
    token: string,
    leaseUntil: number,
    previous: RunData | null,
    dirty: boolean,
  ): RunSession {
    let loaded: Promise<Loaded> | null = null;
    let baseline: Promise<ClusterState | null> | null = null;
    let done = false;
    // The state a run checks with isUnchanged is the one it commits: hash it once (it can be large).
    let lastHashed: { readonly state: ClusterState | null; readonly hash: string | null } | undefined;
    const hashState = (state: ClusterState | null): string | null => {
      if (lastHashed?.state !== state) lastHashed = { state, hash: state === null ? null : hashOf(state) };
      return lastHashed.hash;
    };
    const head = previous?.seq ?? 0;
    const loadBase = (): Promise<Loaded> =>
      (loaded ??= (async () => {
        // After a clean run, the current-state index; after an unfinished one, everything (to clean up).
        if (!dirty && previous !== null && previous.stateHash !== null) {
          // An optimization only: any doubt (lag, a failed retirement, a table without the index) reads everything.
          const current = await loadCurrent(cluster, head).catch(() => null);
          if (current !== null && hashOf(stateOf(cluster, current)) === previous.stateHash) return current;
        }
        return load(cluster, head, head);
      })());

    return {
      cluster,
      runId: at,
      previous: previous === null ? null : publicRun(previous),
      isUnchanged: (state) => !dirty && previous !== null && hashState(state) === previous.stateHash,
      baseline: () =>
        (baseline ??= (async () => {
          if (previous === null || previous.stateHash === null) {
            await loadBase();
            return null;
          }
          const state = stateOf(cluster, await loadBase());
          if (hashOf(state) !== previous.stateHash) {
            options.logger?.warn(
              `the recorded state of ${cluster} does not match run ${previous.seq}'s hash: run \`labelguard verify\``,
            );
          }
          return state;
        })()),
      async commit(run: RunCommit): Promise<RunRecord> {
        if (done) throw new StoreError(`run ${at} of ${cluster} is already finished`);
        done = true;
        const seq = (previous?.seq ?? 0) + 1;
        const stateHash = hashState(run.state);
        const unchanged = !dirty && previous !== null && stateHash === previous.stateHash && run.events.length === 0;
        const base = unchanged ? null : await loadBase();
        const plan = base === null ? emptyPlan() : planChanges(cluster, at, seq, token, base, run, previous);

        if (base !== null && base.leftovers.length > 0) {
          await batchWrite(
            `cleaning up after an unfinished run of ${cluster}`,
            base.leftovers.map((item) => ({ DeleteRequest: { Key: { [PK]: item[PK], [SK]: item[SK] } } })),
          );
        }
        if (previous === null) {
          await call(`registering ${cluster}`, () =>
            doc.send(new PutCommand({ TableName: table, Item: { [PK]: CLUSTERS_PK, [SK]: cluster, firstRunId: at } })),
          );
        }
        await batchWrite(
          `recording the changes of ${cluster}`,
          plan.items.map((item) => ({ PutRequest: { Item: item } })),
        );

        const { facts } = run;
        const content: Omit<RunData, 'hash'> = {
          cluster,
          seq,
          runId: at,
          startedAt: facts.startedAt,
          finishedAt: facts.finishedAt,
          status: facts.status,
          errors: capErrors(facts.errors),
          reads: facts.reads,
          counts: facts.counts,
          configHash: facts.configHash,
          toolVersion: facts.toolVersion,
          selection: facts.selection,
          retentionDays: options.retentionDays,
          expiresAt: expiryOf(at),
          stateHash,
          changes: { ...plan.counts, digest: changesDigest(plan.digestInput) },
          prevHash: previous?.hash ?? null,
          prevRunId: previous?.runId ?? null,
          token,
        };
        const data: RunData = { ...content, hash: runHash(content) };
        if (nowMs() > leaseUntil - Math.min(60_000, leaseMs / 10)) {
          throw new StoreError(
            `run ${at} of ${cluster} outlived its lease (${Math.round(leaseMs / 1000)} s) and was not recorded`,
          );
        }
        try {
          await doc.send(
            new PutCommand({
              TableName: table,
              Item: {
                [PK]: keys.cluster(cluster),
                [SK]: keys.run(seq),
                [TIME_PK]: keys.runsByTime(cluster),
                [TIME_SK]: at,
                seq,
                at,
                token,
                ...encodeData(JSON.stringify(data), `the run record of ${cluster}`),
                [TTL_ATTRIBUTE]: data.expiresAt,
              },
              ConditionExpression: 'attribute_not_exists(#pk)',
              ExpressionAttributeNames: { '#pk': PK },
            }),
          );
        } catch (e) {
          if (isConditionFailure(e)) {
            throw new StoreError(
              `run ${seq} of ${cluster} was recorded by another run meanwhile; run ${at} was not recorded`,
              { cause: e },
            );
          }
          throw new StoreError(`store: recording run ${at} of ${cluster} failed: ${describeError(e)}`, { cause: e });
        }

        // After the commit, best effort: superseded versions start to expire. A failure here only
        // keeps them longer; the next run that reads them gives them their expiry.
        const expiring = [...plan.superseded, ...(base?.unexpired ?? [])];
        if (expiring.length > 0) {
          try {
            await batchWrite(
              `setting the expiry of superseded versions of ${cluster}`,
              expiring.map((item) => ({ PutRequest: { Item: item } })),
            );
          } catch (e) {
            options.logger?.warn(describeError(e));
          }
        }
        return publicRun(data);
      },
      async abandon(): Promise<void> {
        if (done) return;
        done = true;
        await release(cluster, token);
      },
    };
  }

  function planChanges(
    cluster: string,
    at: string,
    seq: number,
    token: string,
    base: Loaded,
    run: RunCommit,
    previous: RunData | null,
  ): Plan {
    const plan = emptyPlan();
    const expiresAt = expiryOf(at);
    /** A version: `expires` for one that stands for an absence (deleted, resolved, events); else it is current. */
    const put = (sk: string, value: unknown, what: string, expires: boolean): void => {
      const json = JSON.stringify(value);
      plan.items.push({
        [PK]: keys.cluster(cluster),
        [SK]: sk,
        seq,
        at,
        token,
        ...encodeData(json, what),
        ...(expires ? { [TTL_ATTRIBUTE]: expiresAt } : { [CURRENT_PK]: keys.current(cluster), [CURRENT_SK]: sk }),
      });
      plan.digestInput.push([sk, json]);
    };
    const supersede = (version: Version<unknown>): void => {
      if (version.item[TTL_ATTRIBUTE] === undefined || version.item[CURRENT_PK] !== undefined) {
        plan.superseded.push(retired(version.item, expiresAt));
      }
    };
    const state = run.state;

    // Namespaces
    const nextNamespaces = new Map((state?.namespaces ?? []).map((n) => [n.name, n]));
    for (const [name, ns] of nextNamespaces) {
      const current = base.namespaces.get(name);
      if (current !== undefined && current.data.labels !== null && labelsEqual(current.data.labels, ns.labels))
        continue;
      put(keys.namespace(name, seq), { name, labels: ns.labels } satisfies NamespaceData, `namespace ${name}`, false);
      plan.counts.namespaces++;
      if (current !== undefined) supersede(current);
    }
    for (const [name, current] of base.namespaces) {
      if (current.data.labels === null || nextNamespaces.has(name)) continue;
      put(keys.namespace(name, seq), { name, labels: null } satisfies NamespaceData, `namespace ${name}`, true);
      plan.counts.namespaces++;
      supersede(current);
    }

    // Policy objects
    const nextPolicies = new Map<string, ResourceObject>();
    for (const p of state?.policies ?? []) {
      let key = policyKey(p);
      for (let n = 2; nextPolicies.has(key); n++) key = `${policyKey(p)}~${n}`;
      nextPolicies.set(key, p);
    }
    for (const [key, object] of nextPolicies) {
      const current = base.policies.get(key);
      if (current !== undefined && current.data.object !== null && jsonEqual(current.data.object, object)) continue;
      put(keys.policy(key, seq), { key, object } satisfies PolicyData, `policy ${key}`, false);
      plan.counts.policies++;
      if (current !== undefined) supersede(current);
    }
    for (const [key, current] of base.policies) {
      if (current.data.object === null || nextPolicies.has(key)) continue;
      put(keys.policy(key, seq), { key, object: null } satisfies PolicyData, `policy ${key}`, true);
      plan.counts.policies++;
      supersede(current);
    }

    // Findings
    const firstSeen = new Map<string, string>();
    const nextFindings = keyFindings(state?.findings ?? []);
    const nextIds = new Set<string>();
    for (const [key, finding] of nextFindings) {
      const id = findingId(key);
      nextIds.add(id);
      const current = base.findings.get(id);
      const open = current !== undefined && current.data.state === 'open' ? current : undefined;
      if (open !== undefined && jsonEqual(open.data.finding, finding)) continue;
      const data: FindingData = {
        key,
        state: 'open',
        finding,
        openedSeq: open?.data.openedSeq ?? seq,
        openedAt: open?.data.openedAt ?? at,
      };
      put(keys.finding(id, seq), data, `finding ${finding.rule}`, false);
      plan.counts.findings++;
      if (current !== undefined) supersede(current);
    }
    for (const [id, current] of base.findings) {
      if (current.data.state !== 'open') continue;
      firstSeen.set(findingKey(current.data.finding), current.data.openedAt);
      if (nextIds.has(id)) continue;
      const data: FindingData = { ...current.data, state: 'resolved', lastSeenAt: previous?.runId ?? at };
      put(keys.finding(id, seq), data, `finding ${current.data.finding.rule}`, true);
      plan.counts.findings++;
      supersede(current);
    }

    // Drift events, in chunks
    const stored: StoredEvent[] = run.events.map((e) => annotate(e, at, previous?.runId ?? null, firstSeen));
    let chunk: StoredEvent[] = [];
    let chars = 0;
    let index = 0;
    const flush = (): void => {
      if (chunk.length === 0) return;
      put(keys.events(seq, index++), { events: chunk } satisfies EventsData, `drift events of ${cluster}`, true);
      chunk = [];
      chars = 0;
    };
    for (const e of stored) {
      const size = JSON.stringify(e).length + 1;
      if (chars + size > EVENTS_CHUNK_CHARS) flush();
      chunk.push(e);
      chars += size;
    }
    flush();
    plan.counts.events = stored.length;
    return plan;
  }

  // -------------------------------------------------------------------------------------------
  // Queries

  async function clusters(): Promise<string[]> {
    const items = await queryAll('listing clusters', {
      KeyConditionExpression: '#pk = :pk',
      ExpressionAttributeNames: { '#pk': PK },
      ExpressionAttributeValues: { ':pk': CLUSTERS_PK },
    });
    return items.map(skOf).sort();
  }

  async function stateAt(cluster: string, at: string): Promise<RecordedState | null> {
    const [run] = await runsByTime(cluster, { until: normalizeTime(at) }, true, 1);
    if (run === undefined) return null;
    const { state, loaded } = await stateAfter(run);
    const firstSeen = new Map<string, string>();
    for (const { data } of loaded?.findings.values() ?? [])
      if (data.state === 'open') firstSeen.set(data.key, data.openedAt);
    return { run: publicRun(run), state, firstSeen };
  }

  async function runs(cluster: string, range: TimeRange = {}): Promise<RunRecord[]> {
    return (await runsByTime(cluster, normalizeRange(range))).map(publicRun);
  }

  async function history(query: HistoryQuery): Promise<HistoryEntry[]> {
    const { cluster } = query;
    const inRange = await runsByTime(cluster, normalizeRange(query));
    if (inRange.length === 0) return [];
    const bySeq = new Map(inRange.map((r) => [r.seq, r]));
    const low = inRange[0]!.seq;
    const high = inRange.at(-1)!.seq;
    const entries: (HistoryEntry & { readonly rank: number })[] = [];
    const blank = { namespace: null, key: null, before: null, after: null, policy: null, direction: null } as const;

    if (query.namespace === undefined) {
      for (const r of inRange) {
        entries.push({
          ...blank,
          rank: 0,
          at: r.runId,
          run: r.seq,
          type: 'run',
          cluster,
          status: r.status,
          counts: r.counts,
        });
      }
    }
    const versionCount = new Map<string, number>();
    for (const item of await versions(cluster, query.namespace === undefined ? 'NS#' : `NS#${query.namespace}#`)) {
      const seq = seqOf(item);
      if (seq > high) continue;
      const id = entityOf(skOf(item));
      const version = (versionCount.get(id) ?? 0) + 1;
      versionCount.set(id, version);
      const run = bySeq.get(seq);
      if (seq < low || run === undefined) continue;
      const data = parseData<NamespaceData>(item);
      entries.push({
        ...blank,
        rank: 1,
        at: run.runId,
        run: seq,
        type: 'labels',
        cluster,
        namespace: data.name,
        labels: data.labels,
        version,
      });
    }
    let order = 2;
    for (const item of await eventItems(cluster, low, high)) {
      const seq = seqOf(item);
      const run = bySeq.get(seq);
      if (run === undefined) continue;
      for (const e of parseData<EventsData>(item).events) {
        if (query.namespace !== undefined && e.namespace !== query.namespace) continue;
        entries.push({ ...e, rank: order++, at: run.runId, run: seq });
      }
    }
    return entries.sort((a, b) => a.run - b.run || a.rank - b.rank).map(({ rank: _rank, ...entry }) => entry);
  }

  async function verify(cluster: string): Promise<ChainVerification> {
    const runItems = await versions(cluster, 'RUN#');
    const runsFound = runItems.map((item) => ({ keySeq: Number(skOf(item).slice(4)), data: parseRun(item) }));
    const head = runsFound.reduce((max, r) => Math.max(max, r.keySeq), 0);
    const changes = new Map<number, [string, string][]>();
    for (const prefix of ['NS#', 'POL#', 'FND#', 'EVT#']) {
      for (const item of await versions(cluster, prefix)) {
        const seq = seqOf(item);
        if (seq > head) continue; // an unfinished run's leftovers: never read, cleaned by the next run
        let list = changes.get(seq);
        if (list === undefined) changes.set(seq, (list = []));
        list.push([skOf(item), dataOf(item)]);
      }
    }
    const headItem = await call(`reading the lease of ${cluster}`, () =>
      doc.send(
        new GetCommand({ TableName: table, Key: { [PK]: keys.cluster(cluster), [SK]: HEAD_SK }, ConsistentRead: true }),
      ),
    );
    const seenSeq: unknown = headItem.Item?.seenSeq;
    const seenHash: unknown = headItem.Item?.seenHash;
    return verifyChain({
      cluster,
      runs: runsFound,
      changes,
      seen: typeof seenSeq === 'number' && typeof seenHash === 'string' ? { seq: seenSeq, hash: seenHash } : null,
      now: Math.floor(nowMs() / 1000),
    });
  }

  return { openRun, clusters, stateAt, runs, history, verify };
}

interface Plan {
  readonly items: Item[];
  readonly digestInput: [string, string][];
  readonly superseded: Item[];
  readonly counts: { namespaces: number; policies: number; findings: number; events: number };
}

function emptyPlan(): Plan {
  return { items: [], digestInput: [], superseded: [], counts: { namespaces: 0, policies: 0, findings: 0, events: 0 } };
}

/** A replaced version: it expires with the retention after its successor, and leaves the current-state index. */
function retired(item: Item, expiresAt: number): Item {
  const { [CURRENT_PK]: _pk, [CURRENT_SK]: _sk, ...rest } = item;
  return { ...rest, [TTL_ATTRIBUTE]: item[TTL_ATTRIBUTE] ?? expiresAt };
}

/** A finding's item id: a hash of its identity (messages may be long; sort keys stay short). */
function findingId(key: string): string {
  return sha256Hex(key).slice(0, 32);
}

function annotate(
  e: DriftEvent,
  at: string,
  previousRunId: string | null,
  firstSeen: ReadonlyMap<string, string>,
): StoredEvent {
  if (e.type === 'finding-opened') return { ...e, firstSeen: at };
  if (e.type !== 'finding-resolved') return e;
  const key = JSON.stringify([
    e.key,
    e.namespace,
    e.policy?.kind ?? null,
    e.policy?.namespace ?? null,
    e.policy?.name ?? null,
    e.before,
  ]);
  const first = firstSeen.get(key);
  return {
    ...e,
    ...(first === undefined ? {} : { firstSeen: first }),
    ...(previousRunId === null ? {} : { lastSeen: previousRunId }),
  };
}

function driftEventOf(e: StoredEvent): DriftEvent {
  return {
    type: e.type,
    cluster: e.cluster,
    namespace: e.namespace,
    key: e.key,
    before: e.before,
    after: e.after,
    policy: e.policy,
    direction: e.direction,
  };
}

function publicRun(data: RunData): RunRecord {
  const { token: _token, ...run } = data;
  return run;
}

function parseRun(item: Item): RunData {
  try {
    return parseData<RunData>(item);
  } catch {
    // An unreadable record is an altered one: verification reports its hash as wrong.
    return { hash: 'unreadable' } as RunData;
  }
}

function capErrors(errors: readonly string[]): string[] {
  const kept = errors
    .slice(0, MAX_ERRORS)
    .map((e) => (e.length > MAX_ERROR_LENGTH ? `${e.slice(0, MAX_ERROR_LENGTH)}…` : e));
  if (errors.length > MAX_ERRORS) kept.push(`… and ${errors.length - MAX_ERRORS} more`);
  return kept;
}

/** ISO 8601 with milliseconds and `Z`: comparable as text. */
export function normalizeTime(text: string): string {
  const t = Date.parse(text);
  if (Number.isNaN(t)) throw new StoreError(`not a date-time: ${JSON.stringify(text)}`, { code: 'store-invalid-time' });
  return new Date(t).toISOString();
}

function normalizeRange(range: TimeRange): TimeRange {
  return {
    ...(range.since === undefined ? {} : { since: normalizeTime(range.since) }),
    ...(range.until === undefined ? {} : { until: normalizeTime(range.until) }),
  };
}

function isConditionFailure(e: unknown): boolean {
  return e instanceof Error && e.name === 'ConditionalCheckFailedException';
}

function describeError(e: unknown): string {
  if (e instanceof Error) {
    const code = (e as { code?: unknown }).code;
    return e.message || (typeof code === 'string' ? code : e.name);
  }
  return String(e);
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
