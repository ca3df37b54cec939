/**
 * The notification pipeline as the scan wires it, on real protocols: the DynamoDB outbox on
 * dynalite, the real WebClient against the local Slack server, the Slack renderer. Delivery
 * settings are shortened so tests stay fast.
 */
import { createDynamoOutbox } from '../../lambda/adapters/dynamo/outbox.js';
import { slackRenderer } from '../../lambda/adapters/slack/format.js';
import { createSlackClient, createSlackNotifier, staticToken } from '../../lambda/adapters/slack/notifier.js';
import type { DriftEvent, Finding } from '../../lambda/audit/index.js';
import type { NotifyDeps } from '../../lambda/notify/deliver.js';
import type { Notifier } from '../../lambda/notify/ports.js';
import { notifySettingsOf, type DeliverySettings, type SlackConfigSection } from '../../lambda/notify/settings.js';
import type { Clock, Logger } from '../../lambda/ports.js';
import { TEST_TOKEN, type SlackServer } from '../helpers/slack-server.js';
import type { LocalTable } from './dynalite.js';

export const FAST_DELIVERY: Partial<DeliverySettings> = {
  pacingMs: 10,
  retries: 1,
  retryBaseMs: 5,
  retryMaxMs: 20,
  maxRetryAfterMs: 200,
  claimMs: 60_000,
  budgetMs: 20_000,
};

export interface LogLine {
  readonly level: 'debug' | 'info' | 'warn' | 'error';
  readonly message: string;
}

export function recordingLogger(): Logger & { readonly lines: LogLine[] } {
  const lines: LogLine[] = [];
  return {
    lines,
    debug: (message) => lines.push({ level: 'debug', message }),
    info: (message) => lines.push({ level: 'info', message }),
    warn: (message) => lines.push({ level: 'warn', message }),
    error: (message) => lines.push({ level: 'error', message }),
  };
}

/** A clock tests move by hand. */
export function manualClock(start = '2026-03-02T06:00:05.000Z'): Clock & { advance(ms: number): void } {
  let now = new Date(start).getTime();
  return {
    now: () => new Date(now),
    advance: (ms) => {
      now += ms;
    },
  };
}

export interface HarnessOptions {
  readonly slack?: SlackConfigSection;
  readonly delivery?: Partial<DeliverySettings>;
  readonly token?: string;
  readonly timeoutMs?: number;
  /** Wraps the Slack notifier (to simulate a crash mid-delivery). */
  readonly wrap?: (notifier: Notifier) => Notifier;
  readonly clock?: Clock;
}

export function createHarness(
  table: LocalTable,
  server: SlackServer,
  options: HarnessOptions = {},
): NotifyDeps & { readonly logger: ReturnType<typeof recordingLogger> } {
  const clock = options.clock ?? manualClock();
  const notifier = createSlackNotifier({
    client: createSlackClient({ apiUrl: server.url, timeoutMs: options.timeoutMs ?? 2_000 }),
    token: staticToken(options.token ?? TEST_TOKEN),
  });
  return {
    outbox: createDynamoOutbox({ client: table.client, tableName: table.tableName, retentionDays: 30, clock }),
    notifier: options.wrap ? options.wrap(notifier) : notifier,
    render: slackRenderer,
    clock,
    logger: recordingLogger(),
    settings: notifySettingsOf(options.slack ?? { channel: '#security' }, {
      delivery: { ...FAST_DELIVERY, ...options.delivery },
    }),
  };
}

// ---------------------------------------------------------------------------------------------
// Events

export function event(e: Partial<DriftEvent> & Pick<DriftEvent, 'type'>, cluster = 'prod-eu'): DriftEvent {
  return { cluster, namespace: null, key: null, before: null, after: null, policy: null, direction: null, ...e };
}

export const ALLOW_FROM_TEAM_B = { kind: 'NetworkPolicy', namespace: 'payments', name: 'allow-from-team-b' } as const;
export const INVALID_NS = 'namespace `team-b` has `ns=team-bb`, which should be "team-b"';

/** team-b's `ns` label was changed: payments' ingress from it is gone and label-invalid opened. */
export function relabelled(cluster = 'prod-eu'): { events: DriftEvent[]; findings: Finding[] } {
  return {
    events: [
      event({ type: 'label-changed', namespace: 'team-b', key: 'ns', before: 'team-b', after: 'team-bb' }, cluster),
      event({ type: 'selection-lost', namespace: 'team-b', policy: ALLOW_FROM_TEAM_B, direction: 'ingress' }, cluster),
      event({ type: 'finding-opened', namespace: 'team-b', key: 'label-invalid', after: INVALID_NS }, cluster),
    ],
    findings: [
      {
        rule: 'label-invalid',
        severity: 'high',
        cluster,
        namespace: 'team-b',
        policy: null,
        message: INVALID_NS,
        fix: 'kubectl label namespace team-b ns=team-b --overwrite',
      },
    ],
  };
}

/** The same label put back: everything `relabelled` announced is undone. */
export function restored(cluster = 'prod-eu'): DriftEvent[] {
  return [
    event({ type: 'label-changed', namespace: 'team-b', key: 'ns', before: 'team-bb', after: 'team-b' }, cluster),
    event({ type: 'selection-gained', namespace: 'team-b', policy: ALLOW_FROM_TEAM_B, direction: 'ingress' }, cluster),
    event({ type: 'finding-resolved', namespace: 'team-b', key: 'label-invalid', before: INVALID_NS }, cluster),
  ];
}

/** Resolves when `count` calls reached the wrapped method; the wrapped call then never returns (a killed process). */
export function killAt(method: 'before-post' | 'after-post'): {
  wrap: (n: Notifier) => Notifier;
  reached: Promise<void>;
} {
  let reach: () => void = () => undefined;
  const reached = new Promise<void>((resolve) => {
    reach = resolve;
  });
  const never = new Promise<never>(() => undefined);
  return {
    reached,
    wrap: (n) => ({
      ...n,
      post: async (request) => {
        if (method === 'after-post') await n.post(request);
        reach();
        return never;
      },
    }),
  };
}
