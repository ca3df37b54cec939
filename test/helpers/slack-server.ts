/**
 * A local Slack Web API server for tests and benchmarks, driven by the real `@slack/web-api`
 * WebClient (point its `slackApiUrl` at `server.url`). It answers like Slack:
 *   - `POST /api/<method>` with form-encoded (what the WebClient sends) or JSON bodies, the token
 *     in `Authorization: Bearer` or the body; HTTP 200 with `{ ok: false, error }` for API errors
 *     (`not_authed`, `invalid_auth`, `token_revoked`, `account_inactive`, `missing_scope`,
 *     `channel_not_found`, `not_in_channel`, `is_archived`, `invalid_blocks`, `no_text`,
 *     `msg_too_long`, `message_not_found`, `thread_not_found`, `unknown_method`);
 *   - `chat.postMessage` (channel by ID or name, threads, message metadata), `chat.update` (channel
 *     ID only), `conversations.history` and `conversations.replies` (with `include_all_metadata`,
 *     `oldest`, cursors; `channels:history` / `groups:history` scopes), `conversations.list`
 *     (`channels:read`), `auth.test`;
 *   - Block Kit limits checked as Slack checks them (50 blocks, 3,000 characters a section, 150 a header);
 *   - optionally Slack's pace: a second message to a channel within `minIntervalMs` gets
 *     `429 Too Many Requests` with `Retry-After` (counted in `rateLimited`);
 *   - scripted faults: 429 with Retry-After, any HTTP status (500s), `ok: false` errors, slow
 *     answers (processed first, like Slack, or not), reset connections;
 *   - a record of every call: method, time, parameters (blocks and metadata parsed), token, answer.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';

export interface SlackChannel {
  readonly id: string;
  readonly name: string;
  /** Whether the app's bot is a member (posting elsewhere answers `not_in_channel`). Default true. */
  readonly member?: boolean;
  readonly archived?: boolean;
  readonly private?: boolean;
}

export interface SlackToken {
  readonly scopes: readonly string[];
  readonly state?: 'active' | 'revoked' | 'inactive';
}

export interface SlackServerOptions {
  /** Default: `xoxb-test` with chat:write, channels:history, groups:history, channels:read and groups:read. */
  readonly tokens?: Readonly<Record<string, SlackToken>>;
  /** Default: C0SECURITY (#security), C0PLATFORM (#platform), C0PAYMENTS (#payments). */
  readonly channels?: readonly SlackChannel[];
  /** Answer 429 (Retry-After: `retryAfterSeconds`) to a message posted to a channel within this long of the previous one. */
  readonly minIntervalMs?: number;
  readonly retryAfterSeconds?: number;
  /** Added to every answer. */
  readonly latencyMs?: number;
}

export type FaultKind =
  | { readonly kind: 'rate-limit'; readonly retryAfter: number }
  | { readonly kind: 'status'; readonly status: number; readonly body?: string }
  | { readonly kind: 'error'; readonly error: string }
  /** Answer late; with `process` the call takes effect first (the message is posted), as when Slack is slow. */
  | { readonly kind: 'slow'; readonly delayMs: number; readonly process?: boolean }
  /** Drop the connection; with `process` after the call took effect. */
  | { readonly kind: 'reset'; readonly process?: boolean };

export interface Fault {
  /** The method it applies to (default: any). */
  readonly method?: string;
  /** How many matching calls it applies to (default 1; Infinity for all). */
  readonly times?: number;
  readonly fault: FaultKind;
}

export interface RecordedCall {
  readonly method: string;
  /** When the call arrived (ms, `performance.timeOrigin` based); calls are listed in order of arrival. */
  readonly at: number;
  readonly params: Readonly<Record<string, unknown>>;
  readonly token: string | null;
  readonly status: number;
  readonly response: unknown;
}

export interface StoredMessage {
  readonly channel: string;
  readonly ts: string;
  readonly thread_ts?: string;
  text: string;
  blocks: unknown[];
  readonly metadata?: { event_type: string; event_payload: Record<string, unknown> };
  /** Earlier versions, oldest first (chat.update). */
  readonly edits: { text: string; blocks: unknown[] }[];
  readonly postedAt: number;
}

export interface SlackServer {
  /** The base URL for `slackApiUrl`: `http://127.0.0.1:<port>/api/`. */
  readonly url: string;
  readonly calls: RecordedCall[];
  readonly messages: StoredMessage[];
  /** Posts answered 429 because they came too fast. */
  readonly rateLimited: { channel: string; at: number }[];
  fail(fault: Fault): void;
  /** Replaces a channel (to archive it, remove the bot, ...). */
  setChannel(channel: SlackChannel): void;
  /** Successful chat.postMessage calls. */
  posts(): RecordedCall[];
  /** Top-level messages (not thread replies) of a channel. */
  topLevel(channel: string): StoredMessage[];
  replies(channel: string, threadTs: string): StoredMessage[];
  close(): Promise<void>;
}

export const TEST_TOKEN = 'xoxb-test';

const DEFAULT_CHANNELS: SlackChannel[] = [
  { id: 'C0SECURITY', name: 'security' },
  { id: 'C0PLATFORM', name: 'platform' },
  { id: 'C0PAYMENTS', name: 'payments' },
];

const JSON_FIELDS = new Set(['blocks', 'metadata', 'attachments']);

class SlackApiError extends Error {
  constructor(
    readonly error: string,
    readonly extra: Record<string, unknown> = {},
  ) {
    super(error);
  }
}

export async function startSlackServer(options: SlackServerOptions = {}): Promise<SlackServer> {
  const tokens: Readonly<Record<string, SlackToken>> = options.tokens ?? {
    [TEST_TOKEN]: { scopes: ['chat:write', 'channels:history', 'groups:history', 'channels:read', 'groups:read'] },
  };
  const channels = new Map<string, SlackChannel>((options.channels ?? DEFAULT_CHANNELS).map((c) => [c.id, c]));
  const calls: RecordedCall[] = [];
  const messages: StoredMessage[] = [];
  const rateLimited: { channel: string; at: number }[] = [];
  const faults: { method?: string; left: number; fault: FaultKind }[] = [];
  const lastPost = new Map<string, number>();
  let tsCounter = 0;
  const now = (): number => performance.timeOrigin + performance.now();

  const nextTs = (): string => {
    tsCounter++;
    return `${Math.floor(Date.now() / 1000)}.${String(tsCounter).padStart(6, '0')}`;
  };

  function channelOf(param: unknown, byName: boolean): SlackChannel {
    if (typeof param !== 'string' || param === '') throw new SlackApiError('channel_not_found');
    const byId = channels.get(param);
    if (byId !== undefined) return byId;
    if (byName) {
      const name = param.replace(/^#/, '');
      for (const c of channels.values()) if (c.name === name) return c;
    }
    throw new SlackApiError('channel_not_found');
  }

  function needScope(token: SlackToken, scope: string): void {
    if (!token.scopes.includes(scope)) {
      throw new SlackApiError('missing_scope', { needed: scope, provided: token.scopes.join(',') });
    }
  }

  function checkBlocks(blocks: unknown): unknown[] {
    if (blocks === undefined) return [];
    if (!Array.isArray(blocks)) throw new SlackApiError('invalid_blocks_format');
    const problems: string[] = [];
    if (blocks.length > 50) problems.push('no more than 50 items allowed [json-pointer:/blocks]');
    blocks.forEach((b: unknown, i) => {
      const block = b as { type?: unknown; text?: { type?: unknown; text?: unknown }; elements?: unknown };
      if (typeof block?.type !== 'string') problems.push(`missing required field: type [json-pointer:/blocks/${i}]`);
      const text = block?.text?.text;
      if (block.type === 'section' && (typeof text !== 'string' || text.length === 0 || text.length > 3000)) {
        problems.push(`must be less than 3001 characters [json-pointer:/blocks/${i}/text]`);
      }
      if (
        block.type === 'header' &&
        (typeof text !== 'string' || text.length > 150 || block.text?.type !== 'plain_text')
      ) {
        problems.push(`must be less than 151 characters [json-pointer:/blocks/${i}/text]`);
      }
      if (block.type === 'context' && (!Array.isArray(block.elements) || block.elements.length > 10)) {
        problems.push(`no more than 10 items allowed [json-pointer:/blocks/${i}/elements]`);
      }
    });
    if (problems.length > 0) throw new SlackApiError('invalid_blocks', { errors: problems });
    return blocks as unknown[];
  }

  function checkContent(params: Record<string, unknown>): { text: string; blocks: unknown[] } {
    const text = typeof params.text === 'string' ? params.text : '';
    const blocks = checkBlocks(params.blocks);
    if (text === '' && blocks.length === 0) throw new SlackApiError('no_text');
    if (text.length > 40_000) throw new SlackApiError('msg_too_long');
    return { text, blocks };
  }

  function serialize(m: StoredMessage, withMetadata: boolean): Record<string, unknown> {
    return {
      type: 'message',
      subtype: 'bot_message',
      bot_id: 'B0LABELGUARD',
      ts: m.ts,
      text: m.text,
      blocks: m.blocks,
      ...(m.thread_ts === undefined ? {} : { thread_ts: m.thread_ts }),
      ...(withMetadata && m.metadata !== undefined ? { metadata: m.metadata } : {}),
      ...(m.edits.length > 0 ? { edited: { user: 'B0LABELGUARD', ts: m.ts } } : {}),
    };
  }

  function page<T>(items: readonly T[], params: Record<string, unknown>): { items: T[]; next: string } {
    const limit = Math.max(1, Math.min(1000, Number(params.limit ?? 100) || 100));
    const offset =
      typeof params.cursor === 'string' && params.cursor !== ''
        ? Number(Buffer.from(params.cursor, 'base64').toString())
        : 0;
    const slice = items.slice(offset, offset + limit);
    const next = offset + limit < items.length ? Buffer.from(String(offset + limit)).toString('base64') : '';
    return { items: slice, next };
  }

  const methods: Record<string, (params: Record<string, unknown>, token: SlackToken) => Record<string, unknown>> = {
    'auth.test': () => ({
      url: 'https://labelguard-test.slack.com/',
      team: 'labelguard',
      user: 'labelguard',
      team_id: 'T0TEST',
      user_id: 'U0BOT',
      bot_id: 'B0LABELGUARD',
    }),

    'chat.postMessage': (params, token) => {
      needScope(token, 'chat:write');
      const channel = channelOf(params.channel, true);
      if (channel.archived) throw new SlackApiError('is_archived');
      if (channel.member === false) throw new SlackApiError('not_in_channel');
      const content = checkContent(params);
      let metadata: StoredMessage['metadata'];
      if (params.metadata !== undefined) {
        const m = params.metadata as { event_type?: unknown; event_payload?: unknown };
        if (typeof m?.event_type !== 'string' || typeof m.event_payload !== 'object' || m.event_payload === null) {
          throw new SlackApiError('invalid_metadata_format');
        }
        metadata = { event_type: m.event_type, event_payload: m.event_payload as Record<string, unknown> };
      }
      const threadTs = typeof params.thread_ts === 'string' && params.thread_ts !== '' ? params.thread_ts : undefined;
      if (
        threadTs !== undefined &&
        !messages.some((x) => x.channel === channel.id && x.ts === threadTs && x.thread_ts === undefined)
      ) {
        throw new SlackApiError('thread_not_found');
      }
      if (options.minIntervalMs !== undefined) {
        const last = lastPost.get(channel.id);
        const at = now();
        if (last !== undefined && at - last < options.minIntervalMs) {
          rateLimited.push({ channel: channel.id, at });
          throw new RateLimited(options.retryAfterSeconds ?? 1);
        }
        lastPost.set(channel.id, at);
      }
      const message: StoredMessage = {
        channel: channel.id,
        ts: nextTs(),
        ...(threadTs === undefined ? {} : { thread_ts: threadTs }),
        ...content,
        ...(metadata === undefined ? {} : { metadata }),
        edits: [],
        postedAt: now(),
      };
      messages.push(message);
      return { channel: channel.id, ts: message.ts, message: serialize(message, false) };
    },

    'chat.update': (params, token) => {
      needScope(token, 'chat:write');
      const channel = channelOf(params.channel, false);
      const message = messages.find((m) => m.channel === channel.id && m.ts === params.ts);
      if (message === undefined) throw new SlackApiError('message_not_found');
      const content = checkContent(params);
      message.edits.push({ text: message.text, blocks: message.blocks });
      message.text = content.text;
      message.blocks = content.blocks;
      return { channel: channel.id, ts: message.ts, text: message.text, message: serialize(message, false) };
    },

    'conversations.history': (params, token) => {
      const channel = channelOf(params.channel, false);
      needScope(token, channel.private ? 'groups:history' : 'channels:history');
      if (channel.member === false) throw new SlackApiError('not_in_channel');
      const oldest = Number(params.oldest ?? 0);
      const list = messages
        .filter((m) => m.channel === channel.id && m.thread_ts === undefined && Number(m.ts) >= oldest)
        .reverse();
      const { items, next } = page(list, params);
      return {
        messages: items.map((m) =>
          serialize(m, params.include_all_metadata === true || params.include_all_metadata === 'true'),
        ),
        has_more: next !== '',
        response_metadata: { next_cursor: next },
      };
    },

    'conversations.list': (params, token) => {
      needScope(token, 'channels:read');
      const types = (typeof params.types === 'string' ? params.types : 'public_channel').split(',');
      const list = [...channels.values()].filter(
        (c) =>
          types.includes(c.private ? 'private_channel' : 'public_channel') &&
          (c.private !== true || token.scopes.includes('groups:read')) &&
          !(c.archived && (params.exclude_archived === true || params.exclude_archived === 'true')),
      );
      const { items, next } = page(list, params);
      return {
        channels: items.map((c) => ({
          id: c.id,
          name: c.name,
          is_channel: true,
          is_private: c.private === true,
          is_archived: c.archived === true,
          is_member: c.member !== false,
        })),
        response_metadata: { next_cursor: next },
      };
    },

    'conversations.replies': (params, token) => {
      const channel = channelOf(params.channel, false);
      needScope(token, channel.private ? 'groups:history' : 'channels:history');
      const parent = messages.find((m) => m.channel === channel.id && m.ts === params.ts);
      if (parent === undefined) throw new SlackApiError('thread_not_found');
      const oldest = Number(params.oldest ?? 0);
      const list = [parent, ...messages.filter((m) => m.channel === channel.id && m.thread_ts === parent.ts)].filter(
        (m) => m === parent || Number(m.ts) >= oldest,
      );
      const { items, next } = page(list, params);
      return {
        messages: items.map((m) =>
          serialize(m, params.include_all_metadata === true || params.include_all_metadata === 'true'),
        ),
        has_more: next !== '',
        response_metadata: { next_cursor: next },
      };
    },
  };

  function takeFault(method: string): FaultKind | null {
    const i = faults.findIndex((f) => f.method === undefined || f.method === method);
    if (i < 0) return null;
    const f = faults[i]!;
    if (--f.left <= 0) faults.splice(i, 1);
    return f.fault;
  }

  const server: Server = createServer((req, res) => {
    void handle(req, res).catch((e: unknown) => {
      if (!res.headersSent) {
        res.writeHead(500, { 'content-type': 'text/plain' });
        res.end(String(e));
      }
    });
  });

  async function readBody(req: IncomingMessage): Promise<Record<string, unknown>> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const text = Buffer.concat(chunks).toString('utf8');
    const type = req.headers['content-type'] ?? '';
    if (type.includes('application/json')) return text === '' ? {} : (JSON.parse(text) as Record<string, unknown>);
    const params: Record<string, unknown> = {};
    for (const [key, value] of new URLSearchParams(text)) {
      if (JSON_FIELDS.has(key)) {
        try {
          params[key] = JSON.parse(value);
        } catch {
          params[key] = Symbol.for('invalid-json');
        }
      } else params[key] = value;
    }
    return params;
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const at = now();
    const method = (req.url ?? '').replace(/^\/api\//, '').split('?')[0] ?? '';
    const params = await readBody(req);
    const auth = req.headers.authorization;
    const token = auth?.startsWith('Bearer ') ? auth.slice(7) : typeof params.token === 'string' ? params.token : null;
    const { token: _token, ...recorded } = params;
    // Recorded in order of arrival; the answer is filled in when it is sent (0: none was).
    const entry: { -readonly [K in keyof RecordedCall]: RecordedCall[K] } = {
      method,
      at,
      params: recorded,
      token,
      status: 0,
      response: undefined,
    };
    calls.push(entry);
    const record = (status: number, response: unknown): void => {
      entry.status = status;
      entry.response = response;
    };
    const send = (status: number, body: unknown, headers: Record<string, string> = {}): void => {
      record(status, body);
      const text = typeof body === 'string' ? body : JSON.stringify(body);
      res.writeHead(status, {
        'content-type': typeof body === 'string' ? 'text/plain' : 'application/json; charset=utf-8',
        ...headers,
      });
      res.end(text);
    };
    const answer = (): { status: number; body: Record<string, unknown>; headers: Record<string, string> } => {
      try {
        const fn = methods[method];
        if (fn === undefined) throw new SlackApiError('unknown_method');
        if (token === null) throw new SlackApiError('not_authed');
        const t = tokens[token];
        if (t === undefined) throw new SlackApiError('invalid_auth');
        if (t.state === 'revoked') throw new SlackApiError('token_revoked');
        if (t.state === 'inactive') throw new SlackApiError('account_inactive');
        for (const key of JSON_FIELDS)
          if (params[key] === Symbol.for('invalid-json')) throw new SlackApiError('invalid_json');
        return { status: 200, body: { ok: true, ...fn(params, t) }, headers: {} };
      } catch (e) {
        if (e instanceof RateLimited) {
          return {
            status: 429,
            body: { ok: false, error: 'ratelimited' },
            headers: { 'retry-after': String(e.retryAfter) },
          };
        }
        if (e instanceof SlackApiError)
          return { status: 200, body: { ok: false, error: e.error, ...e.extra }, headers: {} };
        throw e;
      }
    };

    if (options.latencyMs) await sleep(options.latencyMs);
    const fault = takeFault(method);
    if (fault === null) {
      const { status, body, headers } = answer();
      send(status, body, headers);
      return;
    }
    switch (fault.kind) {
      case 'rate-limit':
        send(429, { ok: false, error: 'ratelimited' }, { 'retry-after': String(fault.retryAfter) });
        return;
      case 'status':
        send(fault.status, fault.body ?? `<html><body>${fault.status} Service Unavailable</body></html>`);
        return;
      case 'error':
        send(200, { ok: false, error: fault.error });
        return;
      case 'slow': {
        const processed = fault.process === true ? answer() : null;
        await sleep(fault.delayMs);
        if (res.destroyed || req.destroyed) {
          record(0, processed?.body ?? 'client gone');
          return;
        }
        const { status, body, headers } = processed ?? answer();
        send(status, body, headers);
        return;
      }
      case 'reset': {
        const processed = fault.process === true ? answer() : null;
        record(0, processed?.body ?? 'reset');
        req.socket.destroy();
        return;
      }
    }
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}/api/`,
    calls,
    messages,
    rateLimited,
    fail(fault: Fault): void {
      faults.push({
        ...(fault.method === undefined ? {} : { method: fault.method }),
        left: fault.times ?? 1,
        fault: fault.fault,
      });
    },
    setChannel(channel: SlackChannel): void {
      channels.set(channel.id, channel);
    },
    posts: () => calls.filter((c) => c.method === 'chat.postMessage' && (c.response as { ok?: boolean }).ok === true),
    topLevel: (channel) => messages.filter((m) => m.channel === channel && m.thread_ts === undefined),
    replies: (channel, threadTs) => messages.filter((m) => m.channel === channel && m.thread_ts === threadTs),
    async close(): Promise<void> {
      server.closeAllConnections();
      await new Promise<void>((resolve, reject) => server.close((e) => (e ? reject(e) : resolve())));
    },
  };
}

class RateLimited extends Error {
  constructor(readonly retryAfter: number) {
    super('ratelimited');
  }
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
