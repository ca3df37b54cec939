/**
 * The Notifier port on Slack's Web API, through the official `WebClient`.
 *
 * The client is built with no retries of its own (`retryConfig: { retries: 0 }`), a timeout per
 * request and `rejectRateLimitedCalls`: its default policy retries for about 30 minutes, longer than
 * a Lambda runs, and cannot know whether a timed-out post landed. Retries and rate-limit waits are
 * the delivery's (lambda/notify/deliver.ts): it looks a post in doubt up (message metadata carries
 * the outbox id) before posting again. Every failure becomes a `NotifyError` that says what to do.
 */
import {
  LogLevel,
  WebAPIHTTPError,
  WebAPIPlatformError,
  WebAPIRateLimitedError,
  WebAPIRequestError,
  WebClient,
  type Logger as SlackLogger,
} from '@slack/web-api';
import { LabelguardError, NotifyError, type NotifyFailure, type NotifyScope } from '../../errors.js';
import type { FindRequest, Notifier, Payload, PostRequest, Posted, TokenSource } from '../../notify/ports.js';
import type { Logger } from '../../ports.js';

export const DEFAULT_SLACK_API_URL = 'https://slack.com/api/';
/** The message metadata event type labelguard marks its messages with. */
export const MESSAGE_EVENT_TYPE = 'labelguard_message';

const CHANNEL_ID = /^[CGD][A-Z0-9]{6,}$/;

export interface SlackClientSettings {
  /** The Web API base URL (tests, proxies); default https://slack.com/api/. */
  readonly apiUrl?: string;
  /** Each request's timeout. */
  readonly timeoutMs: number;
  /** Where the client's own log lines go (debug). */
  readonly logger?: Logger;
}

/** A WebClient for labelguard: bounded time per request, no hidden retries, rate limits reported. */
export function createSlackClient(settings: SlackClientSettings): WebClient {
  const apiUrl = settings.apiUrl ?? DEFAULT_SLACK_API_URL;
  return new WebClient(undefined, {
    slackApiUrl: apiUrl.endsWith('/') ? apiUrl : `${apiUrl}/`,
    timeout: settings.timeoutMs,
    retryConfig: { retries: 0 },
    rejectRateLimitedCalls: true,
    logger: slackLogger(settings.logger),
    logLevel: LogLevel.DEBUG,
  });
}

/** A token given once (the CLI's `SLACK_BOT_TOKEN`). */
export function staticToken(token: string): TokenSource {
  return { get: () => Promise.resolve(token), invalidate: () => undefined };
}

export interface SlackNotifierOptions {
  readonly client: WebClient;
  readonly token: TokenSource;
  /** Pages of history (200 messages each) searched for a post in doubt. Default 3. */
  readonly findPages?: number;
}

interface MessageLike {
  readonly ts?: string;
  readonly metadata?: { readonly event_type?: string; readonly event_payload?: Record<string, unknown> };
}

export function createSlackNotifier(options: SlackNotifierOptions): Notifier {
  const { client } = options;
  const findPages = options.findPages ?? 3;

  async function token(): Promise<string> {
    try {
      return await options.token.get();
    } catch (e) {
      throw new NotifyError(`Slack: no token: ${e instanceof Error ? e.message : String(e)}`, {
        reason: 'transient',
        scope: 'workspace',
        serviceCode: e instanceof LabelguardError ? e.code : 'token-unavailable',
        cause: e,
      });
    }
  }

  /** Calls with the token; a rejected token is fetched again once (a rotated secret) before the call fails. */
  async function withToken<T>(what: string, channel: string, call: (token: string) => Promise<T>): Promise<T> {
    const first = await token();
    try {
      return await call(first);
    } catch (e) {
      const failure = slackFailure(e, what, channel);
      if (!TOKEN_CODES.has(failure.serviceCode)) throw failure;
      options.token.invalidate();
      const second = await token();
      if (second === first) throw failure;
      try {
        return await call(second);
      } catch (again) {
        throw slackFailure(again, what, channel);
      }
    }
  }

  /** Channel names → IDs (history needs an ID): listed once per notifier; needs channels:read (groups:read for private ones). */
  let names: Promise<Map<string, string>> | null = null;
  async function channelIdOf(channel: string): Promise<string> {
    if (CHANNEL_ID.test(channel)) return channel;
    names ??= (async () => {
      const out = new Map<string, string>();
      let cursor: string | undefined;
      for (let page = 0; page < 20; page++) {
        const result = await withToken('listing channels for', channel, (t) =>
          client.conversations.list({
            token: t,
            types: 'public_channel,private_channel',
            exclude_archived: true,
            limit: 1000,
            ...(cursor === undefined ? {} : { cursor }),
          }),
        );
        for (const c of result.channels ?? []) if (c.id && c.name) out.set(c.name, c.id);
        cursor = result.response_metadata?.next_cursor;
        if (!cursor) break;
      }
      return out;
    })();
    let found: string | undefined;
    try {
      found = (await names).get(channel.replace(/^#/, ''));
    } catch (e) {
      names = null;
      const error = e instanceof NotifyError ? e : slackFailure(e, 'listing channels for', channel);
      if (!LOOKUP_UNSUPPORTED.has(error.serviceCode)) throw error;
      throw new NotifyError(
        `Slack: cannot find the ID of ${channel} (${error.serviceCode}): configure the channel by ID (C0123ABCD) or grant the app channels:read, so a post in doubt is never posted twice`,
        { reason: 'unsupported', scope: 'channel', serviceCode: error.serviceCode, cause: error },
      );
    }
    if (found === undefined) {
      throw new NotifyError(`Slack: no channel ${channel} among those the app can see`, {
        reason: 'unsupported',
        scope: 'channel',
        serviceCode: 'channel_not_found',
      });
    }
    return found;
  }

  return {
    async post(request: PostRequest): Promise<Posted> {
      const result = await withToken('posting', request.channel, (t) =>
        client.chat.postMessage({
          token: t,
          channel: request.channel,
          text: request.payload.text,
          blocks: request.payload.blocks as never,
          ...(request.threadTs === null ? {} : { thread_ts: request.threadTs }),
          metadata: { event_type: MESSAGE_EVENT_TYPE, event_payload: { id: request.marker } },
          unfurl_links: false,
          unfurl_media: false,
        }),
      );
      if (typeof result.ts !== 'string' || typeof result.channel !== 'string') {
        throw new NotifyError('Slack: chat.postMessage answered without channel and ts', {
          reason: 'transient',
          scope: 'workspace',
          serviceCode: 'invalid_response',
          ambiguous: true,
        });
      }
      return { channel: result.channel, ts: result.ts };
    },

    async update(target: Posted, payload: Payload): Promise<void> {
      await withToken('updating a message in', target.channel, (t) =>
        client.chat.update({
          token: t,
          channel: target.channel,
          ts: target.ts,
          text: payload.text,
          blocks: payload.blocks as never,
        }),
      );
    },

    async find(request: FindRequest): Promise<Posted | null> {
      const channel = await channelIdOf(request.channel);
      const since = Date.parse(request.since);
      const oldest = Number.isNaN(since) ? undefined : Math.max(0, since / 1000 - 60).toFixed(6);
      let cursor: string | undefined;
      for (let page = 0; page < findPages; page++) {
        let result: { messages?: MessageLike[]; response_metadata?: { next_cursor?: string } };
        try {
          result = await withToken('reading the history of', request.channel, (t) => {
            const common = {
              token: t,
              channel,
              include_all_metadata: true,
              inclusive: true,
              limit: 200,
              ...(oldest === undefined ? {} : { oldest }),
              ...(cursor === undefined ? {} : { cursor }),
            };
            return request.threadTs === null
              ? client.conversations.history(common)
              : client.conversations.replies({ ...common, ts: request.threadTs });
          });
        } catch (e) {
          if (e instanceof NotifyError && LOOKUP_UNSUPPORTED.has(e.serviceCode)) {
            throw new NotifyError(
              `Slack: cannot look for a message in ${request.channel} (${e.serviceCode}): grant the app channels:history and groups:history so a post in doubt is never posted twice`,
              { reason: 'unsupported', scope: 'channel', serviceCode: e.serviceCode, cause: e },
            );
          }
          throw e;
        }
        for (const m of result.messages ?? []) {
          if (
            m.metadata?.event_type === MESSAGE_EVENT_TYPE &&
            m.metadata.event_payload?.id === request.marker &&
            m.ts
          ) {
            return { channel, ts: m.ts };
          }
        }
        cursor = result.response_metadata?.next_cursor;
        if (!cursor) break;
      }
      return null;
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Errors

/** The app's token is wrong, revoked or lacks a scope: nothing can be posted until someone fixes it. */
const TOKEN_CODES = new Set([
  'invalid_auth',
  'not_authed',
  'account_inactive',
  'token_revoked',
  'token_expired',
  'no_permission',
  'missing_scope',
  'not_allowed_token_type',
  'org_login_required',
  'team_access_not_granted',
  'ekm_access_denied',
  'enterprise_is_restricted',
  'access_denied',
]);

/** The channel cannot take the app's messages. */
const CHANNEL_CODES = new Set([
  'channel_not_found',
  'not_in_channel',
  'is_archived',
  'channel_is_archived',
  'restricted_action',
  'restricted_action_read_only_channel',
  'restricted_action_thread_only_channel',
  'restricted_action_non_threadable_channel',
]);

/** Slack's own trouble: worth trying again (the call may have taken effect). */
const TRANSIENT_CODES = new Set([
  'internal_error',
  'fatal_error',
  'service_unavailable',
  'request_timeout',
  'team_added_to_org',
]);

/** Errors of a history lookup that mean "cannot look", not "not there". */
const LOOKUP_UNSUPPORTED = new Set([
  'missing_scope',
  'not_allowed_token_type',
  'channel_not_found',
  'not_in_channel',
  'no_permission',
]);

/** Not a network error: the request never left (nothing can have been posted). */
const NOT_SENT = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'UND_ERR_CONNECT_TIMEOUT',
]);

/** What someone has to do about a permanent Slack error. */
export function slackAction(code: string, channel: string): string {
  switch (code) {
    case 'channel_not_found':
      return `check the channel ${channel} in notify.slack (channel or routes): it does not exist or the app cannot see it; for a private channel use its ID (C0123ABCD) and invite the app`;
    case 'not_in_channel':
      return `invite the app to ${channel} (/invite @labelguard in the channel)`;
    case 'is_archived':
    case 'channel_is_archived':
      return `${channel} is archived: unarchive it or route to another channel`;
    case 'invalid_auth':
    case 'not_authed':
    case 'token_revoked':
    case 'token_expired':
      return 'the Slack token is invalid or revoked: reinstall the app and update SLACK_BOT_TOKEN (CLI) or the token secret (Lambda)';
    case 'account_inactive':
      return 'the Slack app or its bot user was deactivated: reinstall the app and update the token';
    case 'missing_scope':
    case 'no_permission':
      return 'the Slack app lacks the chat:write scope: add it under OAuth & Permissions and reinstall the app';
    default:
      return CHANNEL_CODES.has(code)
        ? `the app may not post in ${channel}: check the channel's posting permissions`
        : 'see https://docs.slack.dev/reference/methods/chat.postMessage#errors';
  }
}

/** Any error the WebClient throws, as a NotifyError that says how to go on. */
export function slackFailure(e: unknown, what: string, channel: string): NotifyError {
  if (e instanceof NotifyError) return e;
  const fail = (
    reason: NotifyFailure,
    scope: NotifyScope,
    serviceCode: string,
    detail: string,
    extra: { ambiguous?: boolean; retryAfterMs?: number } = {},
  ): NotifyError =>
    new NotifyError(`Slack: ${what} ${channel} failed: ${detail}`, { reason, scope, serviceCode, cause: e, ...extra });

  if (e instanceof WebAPIRateLimitedError) {
    return fail('rate-limited', 'channel', 'ratelimited', `rate limited (retry after ${e.retryAfter} s)`, {
      retryAfterMs: e.retryAfter * 1_000,
    });
  }
  if (e instanceof WebAPIPlatformError) {
    const code = e.data.error;
    if (code === 'ratelimited' || code === 'rate_limited') {
      const after = e.data.response_metadata?.retryAfter ?? 1;
      return fail('rate-limited', 'channel', code, `rate limited (retry after ${after} s)`, {
        retryAfterMs: after * 1_000,
      });
    }
    if (TOKEN_CODES.has(code)) return fail('permanent', 'workspace', code, `${code}: ${slackAction(code, channel)}`);
    if (CHANNEL_CODES.has(code)) return fail('permanent', 'channel', code, `${code}: ${slackAction(code, channel)}`);
    if (TRANSIENT_CODES.has(code))
      return fail('transient', 'workspace', code, `${code} (Slack's side)`, { ambiguous: true });
    return fail('permanent', 'message', code, `${code}: ${slackAction(code, channel)}`);
  }
  if (e instanceof WebAPIHTTPError) {
    const code = `http_${e.statusCode}`;
    if (e.statusCode >= 500) {
      return fail('transient', 'workspace', code, `HTTP ${e.statusCode} ${e.statusMessage}`, { ambiguous: true });
    }
    return fail(
      'transient',
      'workspace',
      code,
      `HTTP ${e.statusCode} ${e.statusMessage}: check notify.slack.apiUrl / SLACK_API_URL`,
    );
  }
  if (e instanceof WebAPIRequestError) {
    const original = e.original as Error & { cause?: { code?: unknown } };
    if (original.name === 'TimeoutError' || original.name === 'AbortError') {
      return fail('transient', 'workspace', 'timeout', 'no answer in time', { ambiguous: true });
    }
    const code = typeof original.cause?.code === 'string' ? original.cause.code : 'network';
    return fail('transient', 'workspace', code, `network error (${code}): ${original.message}`, {
      ambiguous: !NOT_SENT.has(code),
    });
  }
  const message = e instanceof Error ? e.message : String(e);
  if (message.startsWith('Retry header did not contain a valid timeout')) {
    return fail('rate-limited', 'channel', 'ratelimited', 'rate limited (no usable Retry-After)', {
      retryAfterMs: 1_000,
    });
  }
  return fail('transient', 'workspace', 'unexpected', message, { ambiguous: true });
}

function slackLogger(logger: Logger | undefined): SlackLogger {
  let level = LogLevel.DEBUG;
  const line = (...msg: unknown[]): void => logger?.debug(`slack: ${msg.map(String).join(' ')}`);
  return {
    debug: () => undefined,
    info: line,
    warn: line,
    error: line,
    setLevel: (l: LogLevel) => {
      level = l;
    },
    getLevel: () => level,
    setName: () => undefined,
  };
}
