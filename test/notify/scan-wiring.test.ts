/**
 * Notification wired after the real scan pipeline, as lambda/scan.ts' callers do it: the demo's
 * `shop` cluster on two days, recorded in the embedded store; the outbox in the same table; the
 * real WebClient against the local Slack server.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { hashOf } from '../../lambda/adapters/dynamo/canonical.js';
import { createDynamoOutbox } from '../../lambda/adapters/dynamo/outbox.js';
import { openEmbeddedStore, type EmbeddedStore } from '../../lambda/adapters/embedded-store/embedded-store.js';
import { createManifestSource } from '../../lambda/adapters/manifests/read-manifests.js';
import { slackRenderer } from '../../lambda/adapters/slack/format.js';
import { createSlackClient, createSlackNotifier, staticToken } from '../../lambda/adapters/slack/notifier.js';
import { auditSettingsOf } from '../../lambda/cli/settings.js';
import { DEFAULT_CONFIG } from '../../lambda/config.js';
import { notifyScan, runsToNotify, type NotifyDeps } from '../../lambda/notify/deliver.js';
import { notifySettingsOf } from '../../lambda/notify/settings.js';
import { scanClusters } from '../../lambda/scan.js';
import { startSlackServer, TEST_TOKEN, type SlackServer } from '../helpers/slack-server.js';
import { FAST_DELIVERY, manualClock, recordingLogger } from './harness.js';

const EXAMPLES = fileURLToPath(new URL('../../examples/', import.meta.url));
const DAY1 = '2026-03-01T06:00:00.000Z';
const DAY2 = '2026-03-02T06:00:00.000Z';

let dir: string;
let embedded: EmbeddedStore;
let server: SlackServer;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'labelguard-slack-'));
  const clock = manualClock();
  [embedded, server] = await Promise.all([openEmbeddedStore({ dir, retentionDays: 30, clock }), startSlackServer()]);
});

afterEach(async () => {
  await Promise.all([embedded.close(), server.close()]);
  await rm(dir, { recursive: true, force: true });
});

async function scanDay(day: 'day1' | 'day2', runId: string, deps: NotifyDeps) {
  const scan = await scanClusters(
    {
      sources: [createManifestSource({ paths: [join(EXAMPLES, day)], cluster: 'shop' })],
      clock: deps.clock,
      recording: { store: embedded.store, runId, configHash: hashOf(DEFAULT_CONFIG), toolVersion: 'test' },
    },
    auditSettingsOf(DEFAULT_CONFIG),
  );
  return notifyScan(deps, runsToNotify(scan.runId, scan.clusters));
}

function deps(): NotifyDeps {
  const clock = manualClock();
  return {
    outbox: createDynamoOutbox({ client: embedded.client, tableName: embedded.tableName, retentionDays: 30, clock }),
    notifier: createSlackNotifier({
      client: createSlackClient({ apiUrl: server.url, timeoutMs: 2_000 }),
      token: staticToken(TEST_TOKEN),
    }),
    render: slackRenderer,
    clock,
    logger: recordingLogger(),
    settings: notifySettingsOf({ channel: '#security', announceFirstRun: false }, { delivery: FAST_DELIVERY }),
  };
}

describe('notification after a recorded scan', () => {
  it('announces day 2 once, names what broke, and posts nothing for a replay of the same run', async () => {
    const day1 = await scanDay('day1', DAY1, deps());
    expect(day1.runs.map((r) => r.outcome)).toEqual(['nothing']); // the baseline is not news (announceFirstRun: false)

    const day2 = await scanDay('day2', DAY2, deps());
    expect(day2.runs.map((r) => [r.outcome, r.messages.map((m) => m.status)])).toEqual([['recorded', ['delivered']]]);
    const [digest] = server.topLevel('C0SECURITY');
    const text = JSON.stringify(digest?.blocks);
    expect(text).toContain('*team-b*');
    expect(text).toContain('`ns=team-b` → _none_');
    expect(text).toContain('*No longer selected by*');
    expect(text).toContain('kubectl label namespace team-b ns=team-b');

    const again = await scanDay('day2', DAY2, deps());
    expect(again.runs.map((r) => r.outcome)).toEqual(['replayed']);
    expect(server.posts()).toHaveLength(1);
  });
});
