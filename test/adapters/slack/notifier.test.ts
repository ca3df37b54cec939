import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  createSlackClient,
  createSlackNotifier,
  MESSAGE_EVENT_TYPE,
  staticToken,
} from '../../../lambda/adapters/slack/notifier.js';
import { NotifyError } from '../../../lambda/errors.js';
import type { Notifier, Payload, TokenSource } from '../../../lambda/notify/ports.js';
import { startSlackServer, TEST_TOKEN, type SlackServer } from '../../helpers/slack-server.js';

const PAYLOAD: Payload = {
  text: 'labelguard: prod-eu: 1 change',
  blocks: [{ type: 'section', text: { type: 'mrkdwn', text: '*team-b* lost its `ns` label' } }],
};

let server: SlackServer;

beforeEach(async () => {
  server = await startSlackServer();
});

afterEach(async () => {
  await server.close();
});

function notifier(options: { token?: TokenSource; timeoutMs?: number } = {}): Notifier {
  return createSlackNotifier({
    client: createSlackClient({ apiUrl: server.url, timeoutMs: options.timeoutMs ?? 2_000 }),
    token: options.token ?? staticToken(TEST_TOKEN),
  });
}

async function failure(promise: Promise<unknown>): Promise<NotifyError> {
  try {
    await promise;
  } catch (e) {
    if (e instanceof NotifyError) return e;
    throw e;
  }
  throw new Error('expected a NotifyError');
}

describe('the Slack notifier on the real WebClient', () => {
  it('posts form-encoded with the token in the Authorization header, blocks and metadata as JSON', async () => {
    const posted = await notifier().post({
      channel: '#security',
      threadTs: null,
      payload: PAYLOAD,
      marker: 'prod-eu|r#0001',
    });
    expect(posted.channel).toBe('C0SECURITY');
    expect(posted.ts).toMatch(/^\d+\.\d{6}$/);
    const [call] = server.calls;
    expect(call).toMatchObject({
      method: 'chat.postMessage',
      token: TEST_TOKEN,
      params: {
        channel: '#security',
        text: PAYLOAD.text,
        blocks: PAYLOAD.blocks,
        metadata: { event_type: MESSAGE_EVENT_TYPE, event_payload: { id: 'prod-eu|r#0001' } },
        unfurl_links: 'false',
      },
    });
    expect(server.topLevel('C0SECURITY')).toHaveLength(1);
  });

  it('replies in a thread and updates a message', async () => {
    const n = notifier();
    const parent = await n.post({ channel: 'C0SECURITY', threadTs: null, payload: PAYLOAD, marker: 'a' });
    await n.post({ channel: parent.channel, threadTs: parent.ts, payload: PAYLOAD, marker: 'b' });
    await n.update(parent, { text: 'updated', blocks: PAYLOAD.blocks });
    expect(server.replies('C0SECURITY', parent.ts)).toHaveLength(1);
    const [message] = server.topLevel('C0SECURITY');
    expect(message?.text).toBe('updated');
    expect(message?.edits).toHaveLength(1);
  });

  it('finds a post by its marker in the channel and in a thread', async () => {
    const n = notifier();
    const since = new Date().toISOString();
    const parent = await n.post({ channel: 'C0SECURITY', threadTs: null, payload: PAYLOAD, marker: 'digest-1' });
    const reply = await n.post({ channel: 'C0SECURITY', threadTs: parent.ts, payload: PAYLOAD, marker: 'reply-1' });
    expect(await n.find({ channel: 'C0SECURITY', threadTs: null, marker: 'digest-1', since })).toEqual(parent);
    expect(await n.find({ channel: 'C0SECURITY', threadTs: parent.ts, marker: 'reply-1', since })).toEqual(reply);
    expect(await n.find({ channel: 'C0SECURITY', threadTs: null, marker: 'never-posted', since })).toBeNull();
  });

  it('says when it cannot look (no history scope), instead of answering "not there"', async () => {
    await server.close();
    server = await startSlackServer({ tokens: { [TEST_TOKEN]: { scopes: ['chat:write'] } } });
    const error = await failure(
      notifier().find({ channel: 'C0SECURITY', threadTs: null, marker: 'x', since: new Date().toISOString() }),
    );
    expect(error).toMatchObject({ reason: 'unsupported', serviceCode: 'missing_scope' });
    expect(error.message).toContain('channels:history');
  });

  it.each([
    ['channel_not_found', { channel: '#nowhere' }, 'permanent', 'channel'],
    ['not_in_channel', { channel: 'C0PRIVATE' }, 'permanent', 'channel'],
    ['is_archived', { channel: 'C0ARCHIVE' }, 'permanent', 'channel'],
  ] as const)('maps %s to a %s error of the channel, with the action to take', async (code, target, reason, scope) => {
    server.setChannel({ id: 'C0PRIVATE', name: 'private', member: false });
    server.setChannel({ id: 'C0ARCHIVE', name: 'old', archived: true });
    const error = await failure(notifier().post({ ...target, threadTs: null, payload: PAYLOAD, marker: 'm' }));
    expect(error).toMatchObject({ reason, scope, serviceCode: code, ambiguous: false });
    expect(error.message).toMatch(/check the channel|invite the app|archived/);
  });

  it.each([
    ['invalid_auth', 'xoxb-unknown'],
    ['token_revoked', 'xoxb-revoked'],
    ['account_inactive', 'xoxb-inactive'],
  ])('maps %s to a permanent error of the whole workspace', async (code, token) => {
    await server.close();
    server = await startSlackServer({
      tokens: {
        'xoxb-revoked': { scopes: ['chat:write'], state: 'revoked' },
        'xoxb-inactive': { scopes: ['chat:write'], state: 'inactive' },
      },
    });
    const error = await failure(
      notifier({ token: staticToken(token) }).post({
        channel: '#security',
        threadTs: null,
        payload: PAYLOAD,
        marker: 'm',
      }),
    );
    expect(error).toMatchObject({ reason: 'permanent', scope: 'workspace', serviceCode: code });
    expect(error.message).toMatch(/reinstall the app/);
  });

  it('fetches the token again once when Slack rejects it (a rotated secret)', async () => {
    const tokens = ['xoxb-old', TEST_TOKEN];
    let invalidated = 0;
    const rotating: TokenSource = {
      get: () => Promise.resolve(tokens[0]!),
      invalidate: () => {
        invalidated++;
        tokens.shift();
      },
    };
    const posted = await notifier({ token: rotating }).post({
      channel: '#security',
      threadTs: null,
      payload: PAYLOAD,
      marker: 'm',
    });
    expect(posted.channel).toBe('C0SECURITY');
    expect(invalidated).toBe(1);
    expect(server.calls.map((c) => c.token)).toEqual(['xoxb-old', TEST_TOKEN]);
  });

  it('reports 429 as rate-limited with the Retry-After, without retrying by itself', async () => {
    server.fail({ method: 'chat.postMessage', fault: { kind: 'rate-limit', retryAfter: 7 } });
    const error = await failure(
      notifier().post({ channel: '#security', threadTs: null, payload: PAYLOAD, marker: 'm' }),
    );
    expect(error).toMatchObject({ reason: 'rate-limited', retryAfterMs: 7_000, ambiguous: false });
    expect(server.calls).toHaveLength(1);
  });

  it('reports a 500 as transient and ambiguous (it may have posted), without retrying by itself', async () => {
    server.fail({ method: 'chat.postMessage', fault: { kind: 'status', status: 503 } });
    const error = await failure(
      notifier().post({ channel: '#security', threadTs: null, payload: PAYLOAD, marker: 'm' }),
    );
    expect(error).toMatchObject({ reason: 'transient', scope: 'workspace', serviceCode: 'http_503', ambiguous: true });
    expect(server.calls).toHaveLength(1);
  });

  it('times out a slow answer as transient and ambiguous', async () => {
    server.fail({ method: 'chat.postMessage', fault: { kind: 'slow', delayMs: 400, process: true } });
    const error = await failure(
      notifier({ timeoutMs: 100 }).post({ channel: '#security', threadTs: null, payload: PAYLOAD, marker: 'm' }),
    );
    expect(error).toMatchObject({ reason: 'transient', serviceCode: 'timeout', ambiguous: true });
  });

  it('reports a refused connection as transient and not ambiguous (nothing was sent)', async () => {
    const url = server.url;
    await server.close();
    const n = createSlackNotifier({
      client: createSlackClient({ apiUrl: url, timeoutMs: 1_000 }),
      token: staticToken(TEST_TOKEN),
    });
    const error = await failure(n.post({ channel: '#security', threadTs: null, payload: PAYLOAD, marker: 'm' }));
    expect(error).toMatchObject({ reason: 'transient', serviceCode: 'ECONNREFUSED', ambiguous: false });
    server = await startSlackServer();
  });

  it("reports Slack's invalid_blocks as a permanent error of the message", async () => {
    const blocks = Array.from({ length: 51 }, () => ({ type: 'divider' }));
    const error = await failure(
      notifier().post({ channel: '#security', threadTs: null, payload: { text: 't', blocks }, marker: 'm' }),
    );
    expect(error).toMatchObject({ reason: 'permanent', scope: 'message', serviceCode: 'invalid_blocks' });
  });
});
