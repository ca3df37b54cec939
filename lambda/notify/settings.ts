/** What notification needs to know, with the defaults the config leaves out. Pure. */
import type { Route } from './routing.js';

export interface DeliverySettings {
  /** The least time between two messages to one channel (Slack: about one a second). */
  readonly pacingMs: number;
  /** Further attempts after a transient failure (5xx, network, timeout), within one delivery. */
  readonly retries: number;
  /** The first pause before a retry; doubled each time, up to `retryMaxMs`. */
  readonly retryBaseMs: number;
  readonly retryMaxMs: number;
  /** The longest `Retry-After` a delivery waits out; a longer one leaves the channel's messages for the next run. */
  readonly maxRetryAfterMs: number;
  /** How long a delivery may hold a message it is posting; a claim older than this was abandoned (a crash). */
  readonly claimMs: number;
  /** The time one delivery may take in all; what is left is delivered by the next run. */
  readonly budgetMs: number;
  /** Channels delivered to at once. */
  readonly concurrency: number;
  /** A message undelivered this long after it was recorded is dropped as stale (status `expired`). */
  readonly staleAfterMs: number;
}

export interface NotifySettings {
  /** The default channel; null: only changes a route matches are sent. */
  readonly channel: string | null;
  readonly routes: readonly Route[];
  /** Announce the findings a cluster's first recorded run opens (its baseline). */
  readonly announceFirstRun: boolean;
  readonly delivery: DeliverySettings;
}

export const DEFAULT_DELIVERY: DeliverySettings = {
  pacingMs: 1_000,
  retries: 2,
  retryBaseMs: 500,
  retryMaxMs: 4_000,
  maxRetryAfterMs: 30_000,
  claimMs: 120_000,
  budgetMs: 300_000,
  concurrency: 4,
  staleAfterMs: 7 * 24 * 3_600_000,
};

/** The `notify.slack` section of the config (as parsed), plus the command line's overrides. */
export interface SlackConfigSection {
  readonly channel?: string;
  readonly routes?: readonly Route[];
  readonly announceFirstRun?: boolean;
  readonly pacingMs?: number;
  readonly retries?: number;
  readonly maxRetryAfterMs?: number;
}

export function notifySettingsOf(
  slack: SlackConfigSection | undefined,
  overrides: { readonly channel?: string; readonly delivery?: Partial<DeliverySettings> } = {},
): NotifySettings {
  return {
    channel: overrides.channel ?? slack?.channel ?? null,
    routes: slack?.routes ?? [],
    announceFirstRun: slack?.announceFirstRun ?? true,
    delivery: {
      ...DEFAULT_DELIVERY,
      ...(slack?.pacingMs === undefined ? {} : { pacingMs: slack.pacingMs }),
      ...(slack?.retries === undefined ? {} : { retries: slack.retries }),
      ...(slack?.maxRetryAfterMs === undefined ? {} : { maxRetryAfterMs: slack.maxRetryAfterMs }),
      ...overrides.delivery,
    },
  };
}

/** True when notifications have somewhere to go. */
export function hasDestination(settings: NotifySettings): boolean {
  return settings.channel !== null || settings.routes.length > 0;
}
