import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { deliverPending, notifyRun, notifyScan, type RunToNotify } from '../../lambda/notify/deliver.js';
import { startSlackServer, TEST_TOKEN, type SlackServer } from '../helpers/slack-server.js';
import { startLocalTable, type LocalTable } from './dynalite.js';
import { createHarness, event, killAt, manualClock, relabelled, restored } from './harness.js';

const RUN1 = '2026-03-02T06:00:00.000Z';
const RUN2 = '2026-03-02T07:00:00.000Z';
const RUN3 = '2026-03-02T08:00:00.000Z';

let table: LocalTable;
let server: SlackServer;

beforeEach(async () => {
  [table, server] = await Promise.all([startLocalTable(), startSlackServer()]);
});

afterEach(async () => {
  await Promise.all([table.close(), server.close()]);
});

function run(runId: string, cluster = 'prod-eu'): RunToNotify {
  return { cluster, runId, ...relabelled(cluster) };
}

describe('notifying a run', () => {
  it('posts one digest per cluster with drift, and nothing for a cluster without', async () => {
    const deps = createHarness(table, server);
    const result = await notifyScan(deps, [
      run(RUN1, 'prod-eu'),
      run(RUN1, 'prod-us'),
      { cluster: 'staging', runId: RUN1, events: [], findings: [] },
    ]);
    expect(result.runs.map((r) => [r.cluster, r.outcome, r.messages.map((m) => m.status)])).toEqual([
      ['prod-eu', 'recorded', ['delivered']],
      ['prod-us', 'recorded', ['delivered']],
      ['staging', 'nothing', []],
    ]);
    expect(server.posts()).toHaveLength(2);
    expect(server.topLevel('C0SECURITY').map((m) => m.text.split('\n')[0])).toEqual([
      'labelguard: prod-eu: 1 change (1 high) in run 2026-03-02 06:00 UTC',
      'labelguard: prod-us: 1 change (1 high) in run 2026-03-02 06:00 UTC',
    ]);
    expect(result.runs[0]?.messages[0]?.ts).toBe(server.topLevel('C0SECURITY')[0]?.ts);
    expect(result.delivery).toMatchObject({ delivered: 2, pending: 0, failed: 0, problems: [] });
  });

  it('never sends findings that merely persist: a run without drift posts nothing', async () => {
    const deps = createHarness(table, server);
    await notifyRun(deps, run(RUN1));
    const quiet = await notifyRun(deps, {
      cluster: 'prod-eu',
      runId: RUN2,
      events: [],
      findings: relabelled().findings,
    });
    expect(quiet.outcome).toBe('nothing');
    expect(server.posts()).toHaveLength(1);
  });

  it('posts once when the same scheduled run is notified twice (a retried Lambda or CLI run)', async () => {
    const first = await notifyRun(createHarness(table, server), run(RUN1));
    const second = await notifyRun(createHarness(table, server), run(RUN1));
    expect(first.outcome).toBe('recorded');
    expect(second.outcome).toBe('replayed');
    expect(second.messages).toEqual(first.messages);
    expect(server.posts()).toHaveLength(1);
  });

  it('posts once when the process is killed between recording and posting, and run again', async () => {
    const kill = killAt('before-post');
    const clock = manualClock();
    void notifyRun(createHarness(table, server, { wrap: kill.wrap, clock }), run(RUN1));
    await kill.reached; // recorded and claimed; the process dies here
    expect(server.posts()).toHaveLength(0);

    clock.advance(120_001); // the dead delivery's claim expires
    const rerun = await notifyRun(createHarness(table, server, { clock }), run(RUN1));
    expect(rerun.outcome).toBe('replayed');
    expect(rerun.messages.map((m) => m.status)).toEqual(['delivered']);
    expect(server.posts()).toHaveLength(1);
  });

  it('posts once when the process is killed after Slack took the message but before it was marked delivered', async () => {
    const kill = killAt('after-post');
    const clock = manualClock();
    void notifyRun(createHarness(table, server, { wrap: kill.wrap, clock }), run(RUN1));
    await kill.reached;
    expect(server.posts()).toHaveLength(1);

    clock.advance(120_001);
    const rerun = await notifyRun(createHarness(table, server, { clock }), run(RUN1));
    expect(rerun.messages[0]).toMatchObject({ status: 'delivered', ts: server.topLevel('C0SECURITY')[0]?.ts });
    expect(rerun.delivery).toMatchObject({ delivered: 1, reconciled: 1 });
    expect(server.posts()).toHaveLength(1);
    expect(server.messages).toHaveLength(1);
  });

  it('without the history scope, a post in doubt is posted again (at least once) and the log says which scope fixes it', async () => {
    await server.close();
    server = await startSlackServer({ tokens: { [TEST_TOKEN]: { scopes: ['chat:write', 'channels:read'] } } });
    const kill = killAt('after-post');
    const clock = manualClock();
    void notifyRun(createHarness(table, server, { wrap: kill.wrap, clock }), run(RUN1));
    await kill.reached;
    clock.advance(120_001);
    const deps = createHarness(table, server, { clock });
    await notifyRun(deps, run(RUN1));
    expect(server.messages).toHaveLength(2);
    expect(deps.logger.lines.filter((l) => l.message.includes('channels:history'))).toHaveLength(1);
  });
});

describe('when Slack fails', () => {
  it('keeps the messages of a run Slack was down for, and the next run delivers them once', async () => {
    server.fail({ method: 'chat.postMessage', times: 2, fault: { kind: 'status', status: 503 } });
    const down = createHarness(table, server);
    const first = await notifyRun(down, run(RUN1));
    expect(first.messages).toMatchObject([{ status: 'pending', error: { code: 'http_503' }, attempts: 1 }]);
    expect(first.delivery).toMatchObject({
      delivered: 0,
      pending: 1,
      problems: [{ code: 'http_503', reason: 'transient' }],
    });
    expect(down.logger.lines.filter((l) => l.message.includes('HTTP 503'))).toHaveLength(1);

    const next = await notifyRun(createHarness(table, server), {
      cluster: 'prod-eu',
      runId: RUN2,
      events: [],
      findings: [],
    });
    expect(next.delivery).toMatchObject({ delivered: 1, pending: 0 });
    expect(server.posts()).toHaveLength(1);
    expect(server.messages).toHaveLength(1);
  });

  it('finds a post that timed out but landed, instead of posting it again', async () => {
    server.fail({ method: 'chat.postMessage', fault: { kind: 'slow', delayMs: 300, process: true } });
    const result = await notifyRun(createHarness(table, server, { timeoutMs: 100 }), run(RUN1));
    expect(result.messages).toMatchObject([{ status: 'delivered' }]);
    expect(result.delivery).toMatchObject({ delivered: 1, reconciled: 1 });
    expect(server.messages).toHaveLength(1);
    expect(server.calls.map((c) => c.method)).toEqual([
      'chat.postMessage',
      'conversations.list',
      'conversations.history',
    ]);
  });

  it('waits out a short Retry-After, and leaves a long one for the next run', async () => {
    server.fail({ method: 'chat.postMessage', fault: { kind: 'rate-limit', retryAfter: 0 } });
    const short = await notifyRun(createHarness(table, server), run(RUN1, 'a'));
    expect(short.messages).toMatchObject([{ status: 'delivered' }]);

    server.fail({ method: 'chat.postMessage', fault: { kind: 'rate-limit', retryAfter: 1 } });
    const long = await notifyRun(createHarness(table, server, { delivery: { maxRetryAfterMs: 200 } }), run(RUN1, 'b'));
    expect(long.messages).toMatchObject([{ status: 'pending', error: { code: 'ratelimited' } }]);
    const later = await deliverPending(createHarness(table, server));
    expect(later).toMatchObject({ delivered: 1, pending: 0 });
    expect(server.posts()).toHaveLength(2);
  });

  it('records permanent errors on the messages, logs each once with what to do, and never throws', async () => {
    const deps = createHarness(table, server, { slack: { channel: '#nowhere' } });
    const result = await notifyScan(deps, [run(RUN1, 'a'), run(RUN1, 'b'), run(RUN1, 'c')]);
    expect(result.runs.flatMap((r) => r.messages.map((m) => [m.status, m.error?.code]))).toEqual([
      ['failed', 'channel_not_found'],
      ['failed', 'channel_not_found'],
      ['failed', 'channel_not_found'],
    ]);
    expect(server.calls.filter((c) => c.method === 'chat.postMessage')).toHaveLength(1);
    const errors = deps.logger.lines.filter((l) => l.level === 'error');
    expect(errors).toHaveLength(1);
    expect(errors[0]?.message).toContain('check the channel #nowhere in notify.slack');
    expect(result.delivery?.problems).toEqual([
      expect.objectContaining({ code: 'channel_not_found', channel: '#nowhere', reason: 'permanent', messages: 3 }),
    ]);
    // Failed messages are not retried by later runs.
    await deliverPending(createHarness(table, server, { slack: { channel: '#nowhere' } }));
    expect(server.calls.filter((c) => c.method === 'chat.postMessage')).toHaveLength(1);
  });

  it.each([
    ['invalid_auth', 'xoxb-wrong'],
    ['not_in_channel', TEST_TOKEN],
    ['account_inactive', 'xoxb-inactive'],
  ])('records %s in the run without failing it', async (code, token) => {
    await server.close();
    server = await startSlackServer({
      tokens: {
        [TEST_TOKEN]: { scopes: ['chat:write'] },
        'xoxb-inactive': { scopes: ['chat:write'], state: 'inactive' },
      },
      channels: [{ id: 'C0SECURITY', name: 'security', member: false }],
    });
    const deps = createHarness(table, server, { token });
    const result = await notifyRun(deps, run(RUN1));
    expect(result.messages).toMatchObject([{ status: 'failed', error: { code } }]);
    expect(deps.logger.lines.filter((l) => l.level === 'error')).toHaveLength(1);
  });

  it('says when the outbox itself cannot be written, without throwing', async () => {
    const deps = createHarness({ ...table, tableName: 'missing-table' }, server);
    const result = await notifyRun(deps, run(RUN1));
    expect(result).toMatchObject({ outcome: 'failed', messages: [] });
    expect(result.error).toMatch(/outbox/);
    expect(deps.logger.lines.some((l) => l.level === 'error' && l.message.includes('were not recorded'))).toBe(true);
    expect(server.posts()).toHaveLength(0);
  });
});

describe('resolution', () => {
  it('answers in the thread of the announcing digest and updates it with a ✅ status line', async () => {
    await notifyRun(createHarness(table, server), run(RUN1));
    const [digest] = server.topLevel('C0SECURITY');
    const result = await notifyRun(createHarness(table, server), {
      cluster: 'prod-eu',
      runId: RUN2,
      events: restored(),
      findings: [],
    });

    expect(result.messages.map((m) => [m.role, m.status])).toEqual([
      ['reply', 'delivered'],
      ['status', 'delivered'],
    ]);
    expect(server.topLevel('C0SECURITY')).toHaveLength(1); // nothing new at the top level
    const replies = server.replies('C0SECURITY', digest!.ts);
    expect(replies).toHaveLength(1);
    expect(replies[0]?.blocks).toEqual([
      { type: 'section', text: { type: 'mrkdwn', text: ':white_check_mark: *Resolved* in run 2026-03-02 07:00 UTC' } },
      {
        type: 'section',
        text: {
          type: 'mrkdwn',
          text: [
            ':white_check_mark: *team-b*',
            '• `ns` is back to `team-b`',
            '• selected again by NetworkPolicy `payments/allow-from-team-b` (ingress peer)',
            '• `label-invalid` resolved: namespace `team-b` has `ns=team-bb`, which should be "team-b"',
          ].join('\n'),
        },
      },
    ]);
    const updated = server.topLevel('C0SECURITY')[0]!;
    expect(updated.edits).toHaveLength(1);
    expect(updated.blocks.at(-1)).toEqual({
      type: 'context',
      block_id: 'labelguard-status',
      elements: [{ type: 'mrkdwn', text: ':white_check_mark: *Resolved* (as of run 2026-03-02 07:00 UTC)' }],
    });
    expect(updated.text.startsWith('✅ Resolved · labelguard: prod-eu')).toBe(true);
  });

  it('says how much of a digest is resolved when only part of it is', async () => {
    const both = relabelled();
    const sandbox = event({
      type: 'finding-opened',
      namespace: 'sandbox',
      key: 'label-missing',
      after: 'namespace `sandbox` has no `ns` label',
    });
    await notifyRun(createHarness(table, server), {
      cluster: 'prod-eu',
      runId: RUN1,
      events: [...both.events, sandbox],
      findings: both.findings,
    });
    await notifyRun(createHarness(table, server), {
      cluster: 'prod-eu',
      runId: RUN2,
      events: restored(),
      findings: [],
    });
    const status = server.topLevel('C0SECURITY')[0]!.blocks.at(-1) as { elements: { text: string }[] };
    expect(status.elements[0]?.text).toBe(
      ':white_check_mark: *1 of 2 changes resolved* (as of run 2026-03-02 07:00 UTC): `team-b` · still open: `sandbox`',
    );
    await notifyRun(createHarness(table, server), {
      cluster: 'prod-eu',
      runId: RUN3,
      events: [
        event({
          type: 'finding-resolved',
          namespace: 'sandbox',
          key: 'label-missing',
          before: 'namespace `sandbox` has no `ns` label',
        }),
      ],
      findings: [],
    });
    const final = server.topLevel('C0SECURITY')[0]!.blocks.at(-1) as { elements: { text: string }[] };
    expect(final.elements[0]?.text).toBe(
      ':white_check_mark: *All 2 changes resolved* (as of run 2026-03-02 08:00 UTC)',
    );
    expect(server.topLevel('C0SECURITY')).toHaveLength(1);
    expect(server.replies('C0SECURITY', server.topLevel('C0SECURITY')[0]!.ts)).toHaveLength(2);
  });

  it('answers the undoing of news (a namespace created, then deleted) without a status line: there was nothing to fix', async () => {
    await notifyRun(createHarness(table, server), {
      cluster: 'prod-eu',
      runId: RUN1,
      events: [event({ type: 'namespace-created', namespace: 'tmp', after: 'owner=ci' })],
      findings: [],
    });
    const result = await notifyRun(createHarness(table, server), {
      cluster: 'prod-eu',
      runId: RUN2,
      events: [event({ type: 'namespace-deleted', namespace: 'tmp', before: 'owner=ci' })],
      findings: [],
    });
    expect(result.messages.map((m) => m.role)).toEqual(['reply']);
    const [digest] = server.topLevel('C0SECURITY');
    expect(digest?.edits).toEqual([]);
    expect(server.replies('C0SECURITY', digest!.ts)[0]?.text).toContain('resolved in run 2026-03-02 07:00 UTC: tmp');
  });

  it('waits for the announcing digest when it is still undelivered, then threads under it', async () => {
    server.fail({ method: 'chat.postMessage', times: 2, fault: { kind: 'status', status: 500 } });
    await notifyRun(createHarness(table, server), run(RUN1));
    expect(server.messages).toHaveLength(0);
    const result = await notifyRun(createHarness(table, server), {
      cluster: 'prod-eu',
      runId: RUN2,
      events: restored(),
      findings: [],
    });
    expect(result.messages.map((m) => m.status)).toEqual(['delivered', 'delivered']);
    const [digest] = server.topLevel('C0SECURITY');
    expect(server.replies('C0SECURITY', digest!.ts)).toHaveLength(1);
  });

  it('a resolution nobody announced is part of the digest, not a thread reply', async () => {
    const result = await notifyRun(createHarness(table, server), {
      cluster: 'prod-eu',
      runId: RUN1,
      events: [event({ type: 'finding-resolved', namespace: 'team-b', key: 'label-invalid', before: 'old finding' })],
      findings: [],
    });
    expect(result.messages.map((m) => m.role)).toEqual(['digest']);
    expect(server.topLevel('C0SECURITY')[0]?.text).toContain('team-b (info): 1 finding resolved');
  });
});

describe('routing and size', () => {
  it('sends changes where the routes say, first match first, with the route mention', async () => {
    const deps = createHarness(table, server, {
      slack: {
        channel: '#security',
        routes: [
          { match: { namespace: 'payments-*' }, channel: '#payments' },
          { match: { cluster: 'prod-*', minSeverity: 'high' }, channel: 'C0PLATFORM', mention: '<!subteam^S0SECOPS>' },
        ],
      },
    });
    await notifyRun(deps, {
      cluster: 'prod-eu',
      runId: RUN1,
      events: [
        ...relabelled().events,
        event({ type: 'label-removed', namespace: 'payments-api', key: 'tier', before: 'gold' }),
        event({ type: 'label-added', namespace: 'scratch', key: 'owner', after: 'me' }),
      ],
      findings: relabelled().findings,
    });
    expect(server.topLevel('C0PLATFORM').map((m) => m.text.split('\n')[0])).toEqual([
      '<!subteam^S0SECOPS> labelguard: prod-eu: 1 change (1 high) in run 2026-03-02 06:00 UTC',
    ]);
    expect(server.topLevel('C0PAYMENTS')[0]?.text).toContain('payments-api (low)');
    expect(server.topLevel('C0SECURITY')[0]?.text).toContain('scratch (low)');
  });

  it('puts what does not fit the digest in follow-ups in its thread', async () => {
    const events = Array.from({ length: 60 }, (_, i) =>
      event({ type: 'label-removed', namespace: `ns-${String(i).padStart(2, '0')}`, key: 'ns', before: `ns-${i}` }),
    );
    const result = await notifyRun(createHarness(table, server), { cluster: 'big', runId: RUN1, events, findings: [] });
    expect(result.messages.map((m) => m.role)).toEqual(['digest', 'followup', 'followup']);
    const [digest] = server.topLevel('C0SECURITY');
    expect(server.topLevel('C0SECURITY')).toHaveLength(1);
    expect(server.replies('C0SECURITY', digest!.ts)).toHaveLength(2);
    expect(JSON.stringify(digest!.blocks)).toContain('… and 45 more changes (45 low): the full list is in the thread.');
  });

  it('keeps about the pacing interval between messages to one channel', async () => {
    await server.close();
    server = await startSlackServer({ minIntervalMs: 90 });
    const deps = createHarness(table, server, { delivery: { pacingMs: 100 } });
    await notifyScan(
      deps,
      ['a', 'b', 'c', 'd', 'e'].map((c) => run(RUN1, c)),
    );
    const times = server.posts().map((c) => c.at);
    expect(times).toHaveLength(5);
    expect(server.rateLimited).toEqual([]);
    for (let i = 1; i < times.length; i++) expect(times[i]! - times[i - 1]!).toBeGreaterThanOrEqual(95);
  });

  it('stops when the time budget is spent and leaves the rest for the next run', async () => {
    const deps = createHarness(table, server, { delivery: { pacingMs: 150, budgetMs: 200 } });
    const result = await notifyScan(
      deps,
      ['a', 'b', 'c', 'd'].map((c) => run(RUN1, c)),
    );
    expect(result.delivery?.outOfTime).toBe(true);
    const delivered = server.posts().length;
    expect(delivered).toBeLessThan(4);
    await deliverPending(createHarness(table, server));
    expect(server.posts()).toHaveLength(4);
  });

  it('drops messages undelivered for longer than staleAfterMs', async () => {
    server.fail({ method: 'chat.postMessage', times: 2, fault: { kind: 'status', status: 502 } });
    const clock = manualClock();
    await notifyRun(createHarness(table, server, { clock }), run(RUN1));
    clock.advance(8 * 24 * 3_600_000);
    const deps = createHarness(table, server, { clock });
    const report = await deliverPending(deps);
    expect(report).toMatchObject({ expired: 1, delivered: 0 });
    expect(server.posts()).toHaveLength(0);
    expect(deps.logger.lines.some((l) => l.message.includes('stale'))).toBe(true);
  });
});

describe('dry run', () => {
  it('returns the Block Kit calls it would make, and records and posts nothing', async () => {
    const deps = createHarness(table, server);
    const result = await notifyRun(deps, run(RUN1), { dryRun: true });
    expect(result.outcome).toBe('dry-run');
    expect(result.dryRun).toHaveLength(1);
    expect(result.dryRun[0]).toMatchObject({
      method: 'chat.postMessage',
      channel: '#security',
      role: 'digest',
      parent: null,
    });
    expect(result.dryRun[0]?.blocks[0]).toEqual({
      type: 'header',
      text: { type: 'plain_text', text: ':red_circle: prod-eu: 1 change (1 high)', emoji: true },
    });
    expect(server.calls).toHaveLength(0);
    expect(await deps.outbox.recordedRun('prod-eu', RUN1)).toBeNull();
  });

  it('shows the status update a resolution would make to a recorded digest', async () => {
    await notifyRun(createHarness(table, server), run(RUN1));
    const result = await notifyRun(
      createHarness(table, server),
      { cluster: 'prod-eu', runId: RUN2, events: restored(), findings: [] },
      { dryRun: true },
    );
    expect(result.dryRun.map((c) => [c.method, c.role])).toEqual([
      ['chat.postMessage', 'reply'],
      ['chat.update', 'status'],
    ]);
    expect(JSON.stringify(result.dryRun[1]?.blocks.at(-1))).toContain('Resolved');
    expect(server.posts()).toHaveLength(1);
  });
});
