/**
 * The Slack benchmark: 500 drift events across 20 clusters, notified the way a scan does it
 * (`notifyScan`), through the real WebClient, into the local Slack Web API server, with the outbox
 * in the embedded store (dynalite on disk). The server enforces Slack's pace: a second message to a
 * channel within a second of the previous one is answered 429.
 *
 *   npx tsx bench/slack.ts            # Slack's pace (1 message a second a channel): about 10 s
 *   npx tsx bench/slack.ts --quick    # 100 ms pacing, for a quick look
 *
 * Reported: top-level messages, thread follow-ups, elapsed time, the closest two messages to one
 * channel came and the most any channel got in one second, 429s, and the same scan notified again
 * (a retried run: nothing new may be posted). Figures also go to bench/out/slack.json.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { createDynamoOutbox } from '../lambda/adapters/dynamo/outbox.js';
import { openEmbeddedStore } from '../lambda/adapters/embedded-store/embedded-store.js';
import { slackRenderer } from '../lambda/adapters/slack/format.js';
import { createSlackClient, createSlackNotifier, staticToken } from '../lambda/adapters/slack/notifier.js';
import type { DriftEvent, Finding } from '../lambda/audit/index.js';
import { notifyScan, type NotifyDeps, type RunToNotify } from '../lambda/notify/deliver.js';
import { notifySettingsOf } from '../lambda/notify/settings.js';
import { systemClock, type Logger } from '../lambda/ports.js';
import { startSlackServer, TEST_TOKEN, type RecordedCall } from '../test/helpers/slack-server.js';

const quick = process.argv.includes('--quick');
const PACING_MS = quick ? 100 : 1_000;
const CLUSTERS = 20;
const EVENTS = 500;
const RUN_ID = '2026-03-02T06:00:00.000Z';

// ---------------------------------------------------------------------------------------------
// The drift: 500 events, unevenly spread (the busiest cluster gets the most), a third of the
// namespaces broken (label changed, two policies lost, a finding opened), the rest relabelled harmlessly.

function driftOf(cluster: string, count: number): { events: DriftEvent[]; findings: Finding[] } {
  const events: DriftEvent[] = [];
  const findings: Finding[] = [];
  const e = (x: Partial<DriftEvent> & Pick<DriftEvent, 'type'>): DriftEvent => ({
    cluster,
    namespace: null,
    key: null,
    before: null,
    after: null,
    policy: null,
    direction: null,
    ...x,
  });
  for (let n = 0; events.length < count; n++) {
    const ns = `team-${String(n).padStart(3, '0')}`;
    const left = count - events.length;
    if (n % 3 === 0 && left >= 4) {
      const message = `namespace \`${ns}\` has \`ns=${ns}-old\`, which should be "${ns}"`;
      events.push(
        e({ type: 'label-changed', namespace: ns, key: 'ns', before: ns, after: `${ns}-old` }),
        e({
          type: 'selection-lost',
          namespace: ns,
          policy: { kind: 'NetworkPolicy', namespace: 'payments', name: `allow-from-${ns}` },
          direction: 'ingress',
        }),
        e({
          type: 'selection-lost',
          namespace: ns,
          policy: { kind: 'CiliumClusterwideNetworkPolicy', namespace: null, name: 'default-deny-teams' },
          direction: null,
        }),
        e({ type: 'finding-opened', namespace: ns, key: 'label-invalid', after: message }),
      );
      findings.push({
        rule: 'label-invalid',
        severity: 'high',
        cluster,
        namespace: ns,
        policy: null,
        message,
        fix: `kubectl label namespace ${ns} ns=${ns} --overwrite`,
      });
    } else {
      events.push(e({ type: 'label-added', namespace: ns, key: 'cost-center', after: `cc-${1000 + n}` }));
    }
  }
  return { events, findings };
}

function runs(): RunToNotify[] {
  const weights = Array.from({ length: CLUSTERS }, (_, i) => i + 1);
  const total = weights.reduce((a, b) => a + b, 0);
  const counts = weights.map((w) => Math.floor((EVENTS * w) / total));
  counts[CLUSTERS - 1]! += EVENTS - counts.reduce((a, b) => a + b, 0);
  return counts.map((count, i) => {
    const cluster = `${i % 2 === 0 ? 'prod' : 'staging'}-${String(i).padStart(2, '0')}`;
    return { cluster, runId: RUN_ID, ...driftOf(cluster, count) };
  });
}

// ---------------------------------------------------------------------------------------------

const quiet: Logger = {
  debug: () => undefined,
  info: () => undefined,
  warn: (m) => console.error(`warn: ${m}`),
  error: (m) => console.error(`error: ${m}`),
};

function rates(
  posts: readonly RecordedCall[],
  byChannel: (c: RecordedCall) => string,
): { minGapMs: number; maxPerSecond: number } {
  const channels = new Map<string, number[]>();
  for (const p of posts) {
    const list = channels.get(byChannel(p)) ?? [];
    list.push(p.at);
    channels.set(byChannel(p), list);
  }
  let minGapMs = Infinity;
  let maxPerSecond = 0;
  for (const times of channels.values()) {
    times.sort((a, b) => a - b);
    for (let i = 0; i < times.length; i++) {
      if (i > 0) minGapMs = Math.min(minGapMs, times[i]! - times[i - 1]!);
      let j = i;
      while (j < times.length && times[j]! - times[i]! < 1_000) j++;
      maxPerSecond = Math.max(maxPerSecond, j - i);
    }
  }
  return { minGapMs, maxPerSecond };
}

async function main(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'labelguard-bench-slack-'));
  const server = await startSlackServer({ minIntervalMs: PACING_MS - 5 });
  const store = await openEmbeddedStore({ dir, retentionDays: 30, clock: systemClock });
  try {
    const deps: NotifyDeps = {
      outbox: createDynamoOutbox({
        client: store.client,
        tableName: store.tableName,
        retentionDays: 30,
        clock: systemClock,
      }),
      notifier: createSlackNotifier({
        client: createSlackClient({ apiUrl: server.url, timeoutMs: 10_000 }),
        token: staticToken(TEST_TOKEN),
      }),
      render: slackRenderer,
      clock: systemClock,
      logger: quiet,
      settings: notifySettingsOf(
        {
          channel: '#platform',
          routes: [{ match: { cluster: 'prod-*' }, channel: '#security', mention: '<!subteam^S0SECOPS>' }],
        },
        { delivery: { pacingMs: PACING_MS } },
      ),
    };
    const input = runs();
    const events = input.reduce((n, r) => n + r.events.length, 0);

    const started = performance.now();
    const result = await notifyScan(deps, input);
    const elapsedMs = performance.now() - started;

    const posts = server.posts();
    const channelOf = new Map(server.messages.map((m) => [m.ts, m.channel]));
    const postChannel = (c: RecordedCall): string => channelOf.get((c.response as { ts: string }).ts) ?? '?';
    const topLevel = server.messages.filter((m) => m.thread_ts === undefined).length;
    const followups = server.messages.filter((m) => m.thread_ts !== undefined).length;
    const { minGapMs, maxPerSecond } = rates(posts, postChannel);
    const perChannel = Object.fromEntries(
      [...new Set(server.messages.map((m) => m.channel))].map((c) => [
        c,
        server.messages.filter((m) => m.channel === c).length,
      ]),
    );

    const againStarted = performance.now();
    const again = await notifyScan(deps, input);
    const againMs = performance.now() - againStarted;
    const newPosts = server.posts().length - posts.length;

    const figures = {
      clusters: input.length,
      events,
      pacingMs: PACING_MS,
      messages: topLevel,
      followups,
      perChannel,
      elapsedSeconds: Number((elapsedMs / 1000).toFixed(2)),
      minGapMs: Number(minGapMs.toFixed(1)),
      maxMessagesPerChannelPerSecond: maxPerSecond,
      rateLimited429: server.rateLimited.length,
      delivery: result.delivery,
      retriedRun: {
        outcomes: [...new Set(again.runs.map((r) => r.outcome))],
        newPosts,
        elapsedSeconds: Number((againMs / 1000).toFixed(2)),
      },
    };

    console.log(`labelguard Slack benchmark (${quick ? 'quick, ' : ''}pacing ${PACING_MS} ms a channel)\n`);
    console.log('| figure | value |\n|---|---|');
    console.log(`| drift events | ${events} across ${input.length} clusters |`);
    console.log(`| top-level messages (digests) | ${topLevel} |`);
    console.log(`| thread follow-ups | ${followups} |`);
    console.log(
      `| messages per channel | ${Object.entries(perChannel)
        .map(([c, n]) => `${c}: ${n}`)
        .join(', ')} |`,
    );
    console.log(`| elapsed | ${figures.elapsedSeconds} s |`);
    console.log(`| closest two messages to one channel | ${figures.minGapMs} ms |`);
    console.log(`| most messages to one channel in any second | ${maxPerSecond} |`);
    console.log(`| 429 answers (server enforces ${PACING_MS - 5} ms) | ${server.rateLimited.length} |`);
    console.log(
      `| the same scan notified again | ${figures.retriedRun.outcomes.join(', ')}: ${newPosts} new posts, ${figures.retriedRun.elapsedSeconds} s |`,
    );

    mkdirSync(new URL('./out/', import.meta.url), { recursive: true });
    writeFileSync(new URL('./out/slack.json', import.meta.url), `${JSON.stringify(figures, null, 2)}\n`);

    const ok = topLevel <= CLUSTERS && server.rateLimited.length === 0 && newPosts === 0 && maxPerSecond <= 1;
    if (!ok) {
      console.error(
        '\nFAILED: expected at most 20 messages, no 429, at most 1 message a second a channel, nothing re-posted',
      );
      process.exitCode = 1;
    }
  } finally {
    await store.close();
    await server.close();
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
