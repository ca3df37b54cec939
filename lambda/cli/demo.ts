/**
 * `labelguard demo` (`npm start`): the cluster `shop` on two days, scanned into a fresh embedded
 * store. Day 1 is the baseline; on day 2 a pipeline re-created `team-b` without its `ns` label and
 * `team-c` arrived. The drift names what broke: Prometheus in `monitoring` no longer reaches
 * `team-b`, and the DNS guard rail no longer covers it.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { DriftEvent } from '../audit/index.js';
import { createManifestSource } from '../adapters/manifests/manifest-source.js';
import { hashOf } from '../adapters/dynamo/canonical.js';
import { DEFAULT_CONFIG } from '../config.js';
import { systemClock } from '../ports.js';
import { describeDriftEvent } from '../report/history-describe.js';
import { scanClusters } from '../scan.js';
import { openStore } from './open-store.js';
import { auditSettingsOf } from './settings.js';
import { describeVerification } from './verify.js';
import { VERSION } from './version.js';

export interface DemoOptions {
  readonly storeDir?: string;
}

export const DEMO_CLUSTER = 'shop';
export const DEMO_DAYS = [
  { label: 'Day 1', dir: 'day1', runId: '2026-03-01T06:00:00.000Z' },
  { label: 'Day 2', dir: 'day2', runId: '2026-03-02T06:00:00.000Z' },
] as const;

const TYPE_COLUMN = 17;

export async function demoCommand(
  opts: DemoOptions,
  out: (text: string) => void = (t) => process.stdout.write(t),
): Promise<number> {
  const examples = fileURLToPath(new URL('../../examples/', import.meta.url));
  const temporary = opts.storeDir === undefined;
  const dir = opts.storeDir ?? (await mkdtemp(join(tmpdir(), 'labelguard-demo-')));
  const config = { ...DEFAULT_CONFIG, store: { ...DEFAULT_CONFIG.store, table: undefined } };
  const opened = await openStore(config, { storeDir: dir });
  const shown = relative(process.cwd(), examples) || '.';
  let exitCode = 0;
  try {
    out(
      `labelguard demo: the cluster \`${DEMO_CLUSTER}\` on two days (${join(shown, 'day1')}, ${join(shown, 'day2')}),\nrecorded in ${temporary ? 'a fresh' : 'the'} embedded store ${dir}.\n`,
    );
    for (const [i, day] of DEMO_DAYS.entries()) {
      const scan = await scanClusters(
        {
          sources: [createManifestSource({ paths: [join(examples, day.dir)], cluster: DEMO_CLUSTER })],
          clock: systemClock,
          recording: { store: opened.store, runId: day.runId, configHash: hashOf(config), toolVersion: VERSION },
        },
        auditSettingsOf(config),
      );
      const cluster = scan.clusters[0]!;
      const r = cluster.result;
      const recording = cluster.recording;
      if (recording.status === 'failed' || recording.status === 'off') {
        out(
          `\n${day.label}: the run was not recorded${recording.status === 'failed' ? `: ${recording.error.message}` : ''}\n`,
        );
        exitCode = 2;
        break;
      }
      const active = r.findings.filter((f) => f.waived === undefined).length;
      out(
        `\n${day.label}, ${day.runId}: run ${recording.run.seq} ${r.status}${recording.status === 'replayed' ? ' (already recorded)' : ''}: ${r.namespaces.length} namespaces, ${r.policyCount} policies, ${active} findings\n`,
      );
      const drift = cluster.drift ?? [];
      out(
        i === 0
          ? `  The baseline: the first run opens the findings it sees (${drift.length}).\n`
          : `  Drift since ${DEMO_DAYS[i - 1]!.label.toLowerCase()} (${drift.length}):\n`,
      );
      out(drift.map((e) => `    ${line(e)}\n`).join(''));
    }
    if (exitCode === 0) {
      const verification = await opened.store.verify(DEMO_CLUSTER);
      out(`\n${describeVerification(verification)}\n`);
      const flag = temporary ? '--store-dir <dir>' : `--store-dir ${dir}`;
      out(
        `\nNext, as an auditor would${temporary ? ' (keep the store with `labelguard demo --store-dir <dir>`)' : ''}:\n` +
          `  labelguard history --cluster ${DEMO_CLUSTER} --namespace team-b ${flag}\n` +
          `  labelguard report --at 2026-03-01T12:00:00Z --format html --out evidence.html ${flag}\n` +
          `  labelguard verify ${flag}\n`,
      );
      if (!verification.ok) exitCode = 1;
    }
  } finally {
    await opened.close();
    if (temporary) await rm(dir, { recursive: true, force: true });
  }
  return exitCode;
}

function line(e: DriftEvent): string {
  return `${e.type.padEnd(TYPE_COLUMN)}  ${describeDriftEvent(e)}`;
}
