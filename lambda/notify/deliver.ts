/**
 * Notifying a run, once: plan its messages, record them in the outbox, then deliver whatever is
 * undelivered (this run's messages and any an earlier run left).
 *
 * Exactly once, step by step:
 *   - a run's messages have ids derived from the cluster, the run and their place in the plan, and
 *     are recorded with conditional writes: a retried or replayed run records nothing new;
 *   - a message is claimed (conditional update) before it is posted and settled with the `ts`
 *     Slack answered while the claim is held: two deliveries never post the same message;
 *   - a post that may have landed without an answer (a timeout, a 5xx, a crash mid-post leaving a
 *     claim that expires) is in doubt: before posting it again the delivery looks for it in the
 *     channel (the message metadata carries its id) and, when found, settles it with that `ts`;
 *   - what cannot be delivered now (rate limits beyond the wait budget, 5xx, network, the time
 *     budget) stays pending for the next run; permanent errors (wrong channel, revoked token) are
 *     recorded on the message, logged once with what to do, and never fail the scan.
 * Posting keeps about `pacingMs` between messages to one channel.
 */
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import type { DriftEvent, Finding } from '../audit/index.js';
import { NotifyError, type NotifyScope } from '../errors.js';
import type { Clock, Logger } from '../ports.js';
import { parentStatus, subjectOf } from './changes.js';
import { planRun, type PlannedRun, type RunToNotify } from './plan.js';
import type {
  Claim,
  DeliveryError,
  DeliveryStatus,
  MessageRole,
  Notifier,
  Outbox,
  OutboxMessage,
  Payload,
  Posted,
  Renderer,
  Settlement,
} from './ports.js';
import { hasDestination, type NotifySettings } from './settings.js';

export type { RunToNotify } from './plan.js';

export interface NotifyDeps {
  readonly outbox: Outbox;
  /** null: nothing is posted (dry runs). */
  readonly notifier: Notifier | null;
  readonly render: Renderer;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly settings: NotifySettings;
  /** How to wait (tests may pass a faster one). */
  readonly sleep?: (ms: number) => Promise<void>;
  /** Shared by deliveries that run at once, so pacing holds across them. */
  readonly pacer?: Pacer;
}

/** One message's state, as `scan --format json` reports it. */
export interface MessageState {
  readonly id: string;
  readonly role: MessageRole;
  readonly channel: string;
  readonly status: DeliveryStatus;
  readonly ts: string | null;
  readonly attempts: number;
  readonly error: DeliveryError | null;
}

/**
 * - `recorded`: planned and recorded by this call;
 * - `replayed`: recorded by an earlier attempt of the same run (nothing new was recorded);
 * - `nothing`: no change to announce or resolve;
 * - `dry-run`: planned and printed, nothing recorded or posted;
 * - `failed`: the outbox could not be read or written (the run's drift is still in the history).
 */
export type NotifyOutcome = 'recorded' | 'replayed' | 'nothing' | 'dry-run' | 'failed';

export interface NotifyRunResult {
  readonly cluster: string;
  readonly runId: string;
  readonly outcome: NotifyOutcome;
  readonly messages: readonly MessageState[];
  /** Changes no route matched, with no default channel: not sent. */
  readonly unrouted: number;
  readonly error: string | null;
}

/** A problem a delivery met, logged once. */
export interface DeliveryProblem {
  readonly code: string;
  readonly scope: NotifyScope;
  readonly channel: string;
  /** `permanent`: the messages are recorded as failed; the others stay pending for the next run. */
  readonly reason: NotifyError['reason'];
  readonly message: string;
  readonly messages: number;
}

export interface DeliveryReport {
  /** Messages this delivery settled as delivered (posts and updates). */
  readonly delivered: number;
  /** Of which found already posted (a post in doubt) rather than posted again. */
  readonly reconciled: number;
  readonly failed: number;
  readonly expired: number;
  /** Left for the next run. */
  readonly pending: number;
  readonly problems: readonly DeliveryProblem[];
  readonly elapsedMs: number;
  /** True when the time budget ran out before every message was tried. */
  readonly outOfTime: boolean;
}

/** What a dry run would send: one Slack Web API call each. */
export interface DryRunCall {
  readonly method: 'chat.postMessage' | 'chat.update';
  readonly cluster: string;
  readonly runId: string;
  readonly id: string;
  readonly role: MessageRole;
  readonly channel: string;
  /** A thread reply: the id of the message whose thread it goes in; an update: the message it updates. */
  readonly parent: string | null;
  readonly text: string;
  readonly blocks: Payload['blocks'];
}

export interface NotifyScanResult {
  readonly runs: readonly NotifyRunResult[];
  readonly delivery: DeliveryReport | null;
  readonly dryRun: readonly DryRunCall[];
}

export interface NotifyOptions {
  /** Plan and return the calls that would be made; record and post nothing. */
  readonly dryRun?: boolean;
}

// ---------------------------------------------------------------------------------------------
// Entry points

/**
 * Notifies one cluster's committed run: records its messages (once), then delivers what is
 * undelivered for that cluster. Never throws: failures are in the result and the log.
 */
export async function notifyRun(
  deps: NotifyDeps,
  run: RunToNotify,
  options: NotifyOptions = {},
): Promise<NotifyRunResult & { readonly delivery: DeliveryReport | null; readonly dryRun: readonly DryRunCall[] }> {
  const result = await notifyScan(deps, [run], options, [run.cluster]);
  return { ...result.runs[0]!, delivery: result.delivery, dryRun: result.dryRun };
}

/**
 * Notifies a whole scan: records every cluster's run, then delivers everything undelivered (of
 * every cluster, leftovers of earlier runs included) in one paced delivery. Never throws.
 */
export async function notifyScan(
  deps: NotifyDeps,
  runs: readonly RunToNotify[],
  options: NotifyOptions = {},
  deliverClusters?: readonly string[],
): Promise<NotifyScanResult> {
  if (!hasDestination(deps.settings)) return { runs: [], delivery: null, dryRun: [] };
  const dry = options.dryRun === true;
  const recorded: { result: NotifyRunResult; ids: string[] | null }[] = [];
  const calls: DryRunCall[] = [];
  for (const run of runs) {
    const r = await recordRun(deps, run, dry);
    recorded.push({ result: r.result, ids: r.ids });
    calls.push(...r.calls);
  }
  if (dry || deps.notifier === null) return { runs: recorded.map((r) => r.result), delivery: null, dryRun: calls };

  const delivery = await deliverPending(deps, deliverClusters === undefined ? {} : { clusters: deliverClusters });
  const final: NotifyRunResult[] = [];
  for (const { result, ids } of recorded) {
    if (ids === null || ids.length === 0) {
      final.push(result);
      continue;
    }
    try {
      const messages = (await deps.outbox.recordedRun(result.cluster, result.runId)) ?? [];
      final.push({ ...result, messages: messages.map(stateOf) });
    } catch {
      final.push(result);
    }
  }
  return { runs: final, delivery, dryRun: [] };
}

/** What a scan hands over per cluster (structurally the scan's ClusterRun). */
export interface ScannedCluster {
  readonly result: { readonly cluster: string; readonly findings: readonly Finding[] };
  readonly drift: readonly DriftEvent[] | null;
  readonly recording: { readonly status: string; readonly run?: { readonly seq: number } };
}

/** The clusters of a scan whose runs were recorded (or replayed) with their drift: what to notify. */
export function runsToNotify(runId: string, clusters: readonly ScannedCluster[]): RunToNotify[] {
  const out: RunToNotify[] = [];
  for (const c of clusters) {
    if (c.drift === null || (c.recording.status !== 'recorded' && c.recording.status !== 'replayed')) continue;
    out.push({
      cluster: c.result.cluster,
      runId,
      events: c.drift,
      findings: c.result.findings,
      firstRun: c.recording.run?.seq === 1,
    });
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Recording

export function stateOf(m: OutboxMessage): MessageState {
  return {
    id: m.id,
    role: m.role,
    channel: m.channel,
    status: m.status,
    ts: m.ts,
    attempts: m.attempts,
    error: m.error,
  };
}

async function recordRun(
  deps: NotifyDeps,
  run: RunToNotify,
  dry: boolean,
): Promise<{ result: NotifyRunResult; ids: string[] | null; calls: DryRunCall[] }> {
  const base = { cluster: run.cluster, runId: run.runId, unrouted: 0, error: null };
  try {
    if (!dry) {
      const existing = await deps.outbox.recordedRun(run.cluster, run.runId);
      if (existing !== null) {
        return {
          result: { ...base, outcome: 'replayed', messages: existing.map(stateOf) },
          ids: existing.map((m) => m.id),
          calls: [],
        };
      }
    }
    const subjects =
      run.events.length === 0
        ? new Map()
        : await deps.outbox.subjects(
            run.cluster,
            run.events.map((e) => subjectOf(e).key),
          );
    const plan = planRun(run, subjects, deps.settings, deps.render);
    if (plan.unrouted.length > 0) {
      deps.logger.warn(
        `slack: ${plan.unrouted.length} change(s) of ${run.cluster} match no route and there is no default channel: not sent (set notify.slack.channel or add a catch-all route)`,
        { cluster: run.cluster, runId: run.runId },
      );
    }
    const unrouted = plan.unrouted.length;
    if (plan.messages.length === 0) {
      return { result: { ...base, unrouted, outcome: 'nothing', messages: [] }, ids: [], calls: [] };
    }
    if (dry) {
      return {
        result: { ...base, unrouted, outcome: 'dry-run', messages: [] },
        ids: null,
        calls: await dryRunCalls(deps, plan),
      };
    }
    const messages = await deps.outbox.record({
      cluster: run.cluster,
      runId: run.runId,
      messages: plan.messages,
      subjects: plan.subjects,
      resolved: plan.resolved,
    });
    return {
      result: { ...base, unrouted, outcome: 'recorded', messages: messages.map(stateOf) },
      ids: messages.map((m) => m.id),
      calls: [],
    };
  } catch (e) {
    const error = e instanceof Error ? e.message : String(e);
    deps.logger.error(`slack: the notifications of ${run.cluster} (run ${run.runId}) were not recorded: ${error}`, {
      cluster: run.cluster,
      runId: run.runId,
    });
    return { result: { ...base, outcome: 'failed', messages: [], error }, ids: null, calls: [] };
  }
}

async function dryRunCalls(deps: NotifyDeps, plan: PlannedRun): Promise<DryRunCall[]> {
  const calls: DryRunCall[] = [];
  for (const m of plan.messages) {
    const id = `${plan.runId}#${String(m.seq).padStart(4, '0')}`;
    const common = { cluster: plan.cluster, runId: plan.runId, id, role: m.role, channel: m.channel, parent: m.parent };
    if (m.payload !== null) {
      calls.push({ method: 'chat.postMessage', ...common, text: m.payload.text, blocks: m.payload.blocks });
      continue;
    }
    // A status update: the digest it updates, as recorded, with what this run resolves added.
    const parent = m.parent === null ? null : await deps.outbox.get(plan.cluster, m.parent);
    if (parent?.payload == null) continue;
    const resolvedNow = plan.resolved.find((r) => r.digest === m.parent)?.keys ?? [];
    const payload = deps.render.withStatus(
      parent.payload,
      parentStatus(parent.groups ?? {}, [...parent.resolved, ...resolvedNow], plan.runId),
    );
    calls.push({ method: 'chat.update', ...common, text: payload.text, blocks: payload.blocks });
  }
  return calls;
}

// ---------------------------------------------------------------------------------------------
// Pacing

/** Keeps time between calls to one channel; `hold` pushes the next call back (a Retry-After). */
export interface Pacer {
  turn(channel: string): Promise<void>;
  hold(channel: string, ms: number): void;
}

export function createPacer(intervalMs: number, sleep: (ms: number) => Promise<void> = defaultSleep): Pacer {
  const next = new Map<string, number>();
  const queues = new Map<string, Promise<void>>();
  return {
    turn(channel: string): Promise<void> {
      const mine = (queues.get(channel) ?? Promise.resolve()).then(async () => {
        const wait = (next.get(channel) ?? 0) - performance.now();
        if (wait > 0) await sleep(wait);
        next.set(channel, performance.now() + intervalMs);
      });
      queues.set(
        channel,
        mine.catch(() => undefined),
      );
      return mine;
    },
    hold(channel: string, ms: number): void {
      next.set(channel, Math.max(next.get(channel) ?? 0, performance.now() + ms));
    },
  };
}

const defaultSleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

// ---------------------------------------------------------------------------------------------
// Delivery

export interface DeliverOptions {
  /** Only these clusters' messages. */
  readonly clusters?: readonly string[];
}

/** Delivers every undelivered message (of some clusters), oldest run first, paced per channel. Never throws. */
export async function deliverPending(deps: NotifyDeps, options: DeliverOptions = {}): Promise<DeliveryReport> {
  const started = performance.now();
  const settings = deps.settings.delivery;
  const deadline = started + settings.budgetMs;
  const sleep = deps.sleep ?? defaultSleep;
  const pacer = deps.pacer ?? createPacer(settings.pacingMs, sleep);
  const holder = randomUUID();
  const counts = { delivered: 0, reconciled: 0, failed: 0, expired: 0, pending: 0 };
  const problems = new Map<string, DeliveryProblem>();
  let outOfTime = false;

  const problem = (channel: string, error: NotifyError): void => {
    const key = `${error.serviceCode}|${error.scope === 'workspace' ? '*' : channel}`;
    const seen = problems.get(key);
    if (seen !== undefined) {
      problems.set(key, { ...seen, messages: seen.messages + 1 });
      return;
    }
    problems.set(key, {
      code: error.serviceCode,
      scope: error.scope,
      channel,
      reason: error.reason,
      message: error.message,
      messages: 1,
    });
    const fields = { code: error.serviceCode, channel };
    if (error.reason === 'permanent') deps.logger.error(`${error.message} (the message is recorded as failed)`, fields);
    else if (error.reason === 'unsupported') deps.logger.warn(error.message, fields);
    else deps.logger.warn(`${error.message}: left for the next run`, fields);
  };

  let list: OutboxMessage[];
  try {
    list = deps.notifier === null ? [] : await deps.outbox.pending(options.clusters);
  } catch (e) {
    const message = e instanceof Error ? e.message : String(e);
    deps.logger.error(`slack: cannot read the outbox: ${message}`);
    return { ...counts, problems: [], elapsedMs: Math.round(performance.now() - started), outOfTime };
  }
  const notifier = deps.notifier;
  if (notifier === null || list.length === 0) {
    return { ...counts, problems: [], elapsedMs: Math.round(performance.now() - started), outOfTime };
  }

  /** Why everything (workspace) or a channel stopped; permanent stops fail what is left, the others leave it. */
  let stopAll: NotifyError | null = null;
  const stopped = new Map<string, NotifyError>();
  const lookupUnsupported = new Set<string>();
  const rememberedChannels = new Set<string>();

  const stop = (channel: string, error: NotifyError): void => {
    if (error.scope === 'workspace') stopAll ??= error;
    else if (error.scope === 'channel' && !stopped.has(channel)) stopped.set(channel, error);
  };

  const claimOf = async (m: OutboxMessage): Promise<Claim | null> => {
    const now = deps.clock.now();
    return deps.outbox.claim(m, { token: `${holder}:${m.id}`, until: new Date(now.getTime() + settings.claimMs), now });
  };

  const settle = async (claim: Claim, settlement: Settlement): Promise<void> => {
    const held = await deps.outbox.settle(claim, settlement, deps.clock.now());
    if (!held) {
      deps.logger.warn(
        `slack: message ${claim.message.id} of ${claim.message.cluster} was claimed by another delivery meanwhile`,
      );
      return;
    }
    if (settlement.status === 'pending') counts.pending++;
    else if (settlement.status === 'delivered') counts.delivered++;
    else counts[settlement.status]++;
  };

  const errorOf = (e: NotifyError): DeliveryError => ({ code: e.serviceCode, message: e.message });

  /** Looks for a post in doubt: where it landed, 'absent', or 'unknown' (cannot tell: do not post again now). */
  const lookup = async (
    claim: Claim,
    channel: string,
    threadTs: string | null,
  ): Promise<Posted | 'absent' | 'unsupported' | 'unknown'> => {
    const m = claim.message;
    if (lookupUnsupported.has(m.channel)) return 'unsupported';
    let where = channel;
    if (threadTs === null && !isChannelId(where)) where = (await deps.outbox.channelId(m.channel)) ?? where;
    try {
      const found = await notifier.find({
        channel: where,
        threadTs,
        marker: markerOf(m),
        since: m.firstAttemptAt ?? m.createdAt,
      });
      return found ?? 'absent';
    } catch (e) {
      const error = asNotifyError(e);
      if (error.reason === 'unsupported') {
        lookupUnsupported.add(m.channel);
        problem(m.channel, error);
        return 'unsupported';
      }
      problem(m.channel, error);
      stop(m.channel, error);
      return 'unknown';
    }
  };

  const deliverOne = async (m: OutboxMessage): Promise<void> => {
    const claim = await claimOf(m);
    if (claim === null) return; // another delivery has it, or it is settled
    const message = claim.message;

    let channel = message.channel;
    let threadTs: string | null = null;
    let target: Posted | null = null;
    let payload = message.payload;
    if (message.parent !== null) {
      const parent = await deps.outbox.get(message.cluster, message.parent);
      if (parent === null || parent.status === 'failed' || parent.status === 'expired') {
        await settle(claim, {
          status: 'failed',
          error: {
            code: 'parent-undelivered',
            message: `its digest ${message.parent} was not delivered (${parent?.error?.code ?? parent?.status ?? 'missing'})`,
          },
        });
        return;
      }
      if (parent.status !== 'delivered' || parent.ts === null || parent.postedChannel === null) {
        await settle(claim, {
          status: 'pending',
          error: { code: 'waiting-for-parent', message: `its digest ${message.parent} is not delivered yet` },
          inDoubt: claim.inDoubt,
        });
        return;
      }
      channel = parent.postedChannel;
      if (message.role === 'status') {
        if (parent.payload === null) {
          await settle(claim, {
            status: 'failed',
            error: { code: 'parent-unreadable', message: 'its digest has no payload' },
          });
          return;
        }
        target = { channel: parent.postedChannel, ts: parent.ts };
        payload = deps.render.withStatus(
          parent.payload,
          parentStatus(parent.groups ?? {}, parent.resolved, message.runId),
        );
      } else {
        threadTs = parent.ts;
      }
    }
    if (payload === null) {
      await settle(claim, { status: 'failed', error: { code: 'no-payload', message: 'nothing to post' } });
      return;
    }

    let inDoubt = claim.inDoubt;
    if (inDoubt && target === null) {
      const found = await lookup(claim, channel, threadTs);
      if (found === 'unknown') {
        await settle(claim, {
          status: 'pending',
          error: { code: 'lookup-failed', message: 'could not tell whether it was posted' },
          inDoubt,
        });
        return;
      }
      if (found !== 'absent' && found !== 'unsupported') {
        counts.reconciled++;
        await settle(claim, { status: 'delivered', posted: found });
        return;
      }
      if (found === 'absent') inDoubt = false;
    }

    let retries = 0;
    let waits = 0;
    for (;;) {
      if (performance.now() > deadline) {
        outOfTime = true;
        await settle(claim, {
          status: 'pending',
          error: { code: 'out-of-time', message: 'the delivery ran out of time' },
          inDoubt,
        });
        return;
      }
      await pacer.turn(message.channel);
      // Slack counts a message when it arrives: the interval runs from the end of this call too.
      const paced = <T>(p: Promise<T>): Promise<T> => p.finally(() => pacer.hold(message.channel, settings.pacingMs));
      try {
        if (target !== null) {
          await paced(notifier.update(target, payload));
          await settle(claim, { status: 'delivered', posted: target });
        } else {
          const posted = await paced(notifier.post({ channel, threadTs, payload, marker: markerOf(message) }));
          await settle(claim, { status: 'delivered', posted });
          if (
            message.role === 'digest' &&
            posted.channel !== message.channel &&
            !rememberedChannels.has(message.channel)
          ) {
            rememberedChannels.add(message.channel);
            await deps.outbox.rememberChannel(message.channel, posted.channel).catch(() => undefined);
          }
        }
        return;
      } catch (e) {
        const error = asNotifyError(e);
        if (error.reason === 'rate-limited') {
          const wait = error.retryAfterMs ?? 1_000;
          pacer.hold(message.channel, wait);
          if (wait <= settings.maxRetryAfterMs && waits < 3 && performance.now() + wait < deadline) {
            waits++;
            continue;
          }
          problem(message.channel, error);
          stop(message.channel, error);
          await settle(claim, { status: 'pending', error: errorOf(error), inDoubt });
          return;
        }
        if (error.reason === 'transient' || error.reason === 'unsupported') {
          if (error.ambiguous) inDoubt = true;
          if (retries < settings.retries) {
            retries++;
            await sleep(Math.min(settings.retryMaxMs, settings.retryBaseMs * 2 ** (retries - 1)));
            if (inDoubt && target === null) {
              const found = await lookup(claim, channel, threadTs);
              if (found === 'unknown') {
                await settle(claim, { status: 'pending', error: errorOf(error), inDoubt });
                return;
              }
              if (found !== 'absent' && found !== 'unsupported') {
                counts.reconciled++;
                await settle(claim, { status: 'delivered', posted: found });
                return;
              }
              if (found === 'absent') inDoubt = false;
            }
            continue;
          }
          problem(message.channel, error);
          stop(message.channel, error);
          await settle(claim, { status: 'pending', error: errorOf(error), inDoubt });
          return;
        }
        problem(message.channel, error);
        stop(message.channel, error);
        await settle(claim, { status: 'failed', error: errorOf(error) });
        return;
      }
    }
  };

  /** What is left behind a stop: failed with the same error when it is permanent, else left pending. */
  const leave = async (m: OutboxMessage, why: NotifyError): Promise<void> => {
    if (why.reason !== 'permanent') {
      counts.pending++;
      return;
    }
    const claim = await claimOf(m);
    if (claim === null) return;
    problem(m.channel, why);
    await settle(claim, { status: 'failed', error: errorOf(why) });
  };

  // Stale messages are dropped; the rest are queued by channel, in order.
  const queues = new Map<string, OutboxMessage[]>();
  const nowMs = deps.clock.now().getTime();
  let staleCount = 0;
  for (const m of list) {
    if (nowMs - Date.parse(m.createdAt) > settings.staleAfterMs) {
      const claim = await claimOf(m).catch(() => null);
      if (claim === null) continue;
      staleCount++;
      await settle(claim, {
        status: 'expired',
        error: {
          code: 'stale',
          message: `undelivered for more than ${Math.round(settings.staleAfterMs / 3_600_000)} h`,
        },
      }).catch(() => undefined);
      continue;
    }
    let q = queues.get(m.channel);
    if (q === undefined) queues.set(m.channel, (q = []));
    q.push(m);
  }
  if (staleCount > 0)
    deps.logger.warn(`slack: ${staleCount} message(s) undelivered for too long were dropped as stale`);

  const channels = [...queues.keys()];
  let nextChannel = 0;
  const worker = async (): Promise<void> => {
    while (nextChannel < channels.length) {
      const channel = channels[nextChannel++]!;
      for (const m of queues.get(channel)!) {
        try {
          const why = stopAll ?? stopped.get(channel) ?? null;
          if (why !== null) {
            await leave(m, why);
            continue;
          }
          if (performance.now() > deadline) {
            outOfTime = true;
            counts.pending++;
            continue;
          }
          await deliverOne(m);
        } catch (e) {
          // The outbox failed: the message keeps its claim and is taken up again once the claim expires.
          const message = e instanceof Error ? e.message : String(e);
          deps.logger.error(`slack: delivering ${m.id} of ${m.cluster} failed: ${message}`);
          stopAll ??= new NotifyError(message, {
            reason: 'transient',
            scope: 'workspace',
            serviceCode: 'outbox-failed',
            cause: e,
          });
          counts.pending++;
        }
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(settings.concurrency, channels.length)) }, worker));

  return {
    ...counts,
    problems: [...problems.values()],
    elapsedMs: Math.round(performance.now() - started),
    outOfTime,
  };
}

function asNotifyError(e: unknown): NotifyError {
  if (e instanceof NotifyError) return e;
  return new NotifyError(`notifier failed: ${e instanceof Error ? e.message : String(e)}`, {
    reason: 'transient',
    scope: 'workspace',
    serviceCode: 'unexpected',
    ambiguous: true,
    cause: e,
  });
}

/** The id carried in a message's metadata: unique across clusters and runs. */
export function markerOf(m: Pick<OutboxMessage, 'cluster' | 'id'>): string {
  return `${m.cluster}|${m.id}`;
}

function isChannelId(channel: string): boolean {
  return /^[CGD][A-Z0-9]{6,}$/.test(channel);
}
