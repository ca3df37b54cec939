/**
 * `labelguard report --at T`: the compliance state as it was at time T, rebuilt from the recorded
 * history. `--format json` has the shape of `scan --format json` (as of the latest run at or
 * before T); html is the self-contained evidence report.
 */
import { writeFile } from 'node:fs/promises';
import { buildScanReport, keyFindings, type ClusterResult, type Finding } from '../audit/index.js';
import { LabelguardError } from '../errors.js';
import { formatJson } from '../report/json.js';
import { formatMarkdown } from '../report/markdown.js';
import { formatReportCsv } from '../report/history-csv.js';
import { formatEvidenceHtml, type EvidenceCluster } from '../report/evidence-html.js';
import { systemClock, type RecordedState } from '../ports.js';
import { recordedResult } from '../scan.js';
import { UsageError } from '../errors.js';
import { openStore } from './open-store.js';
import { readConfig } from './settings.js';
import { parseTimeOption } from './time-option.js';
import { VERSION } from './version.js';

export interface ReportOptions {
  readonly at?: string;
  readonly cluster?: string;
  readonly format?: string;
  readonly since?: string;
  readonly out?: string;
  readonly config?: string;
  readonly storeDir?: string;
}

const DAY_MS = 86_400_000;
const DRIFT_TYPES = new Set([
  'label-removed',
  'label-changed',
  'label-added',
  'namespace-created',
  'namespace-deleted',
  'selection-lost',
  'selection-gained',
  'finding-opened',
  'finding-resolved',
]);

export async function reportCommand(opts: ReportOptions): Promise<number> {
  const { config } = await readConfig(opts.config);
  const format = opts.format ?? 'json';
  const at = opts.at === undefined ? systemClock.now().toISOString() : parseTimeOption('--at', opts.at, 'end');
  const since =
    opts.since === undefined
      ? new Date(Date.parse(at) - 90 * DAY_MS).toISOString()
      : parseTimeOption('--since', opts.since, 'start');
  const opened = await openStore(config, { storeDir: opts.storeDir, mustExist: true });
  let text: string;
  try {
    const known = await opened.store.clusters();
    if (opts.cluster !== undefined && !known.includes(opts.cluster)) {
      throw new UsageError(`no recorded runs of cluster ${JSON.stringify(opts.cluster)} in the ${opened.location}`);
    }
    const states: RecordedState[] = [];
    for (const cluster of opts.cluster === undefined ? known : [opts.cluster]) {
      const state = await opened.store.stateAt(cluster, at);
      if (state !== null) states.push(state);
    }
    if (states.length === 0) {
      throw new LabelguardError(
        'no-history',
        `no run recorded at or before ${at}${opts.cluster === undefined ? '' : ` for ${opts.cluster}`} in the ${opened.location}`,
      );
    }
    const results: ClusterResult[] = states.map((s) => recordedResult(s.run, s.state));
    const generatedAt = states.map((s) => s.run.runId).reduce((a, b) => (a > b ? a : b));
    const report = buildScanReport(results, generatedAt, { includePolicies: format === 'json' });

    // When each finding was first seen: by identity, per cluster.
    const firstSeenOf = new Map<Finding, string>();
    for (const s of states) {
      for (const [key, finding] of keyFindings(s.state?.findings ?? [])) {
        const first = s.firstSeen.get(key);
        if (first !== undefined) firstSeenOf.set(finding, first);
      }
    }
    const firstSeen = (f: Finding): string | undefined => firstSeenOf.get(f);

    if (format === 'csv') text = formatReportCsv(report, firstSeen);
    else if (format === 'markdown') text = formatMarkdown(report);
    else if (format === 'html') {
      const clusters: EvidenceCluster[] = [];
      for (const s of states) {
        const cluster = s.run.cluster;
        clusters.push({
          cluster,
          runs: await opened.store.runs(cluster, { since, until: at }),
          verification: await opened.store.verify(cluster),
          drift: (await opened.store.history({ cluster, since, until: at })).filter((e) => DRIFT_TYPES.has(e.type)),
        });
      }
      text = formatEvidenceHtml({
        report,
        at,
        since,
        generatedAt: systemClock.now().toISOString(),
        toolVersion: VERSION,
        query: queryOf(at, since, opts.cluster),
        store: opened.location,
        clusters,
        firstSeen,
      });
    } else text = formatJson(report);
  } finally {
    await opened.close();
  }
  if (opts.out !== undefined) await writeFile(opts.out, text);
  else process.stdout.write(text);
  return 0;
}

/** The query as a command that reproduces it (times normalized, so it means the same anywhere). */
function queryOf(at: string, since: string, cluster: string | undefined): string {
  const quote = (a: string): string => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`);
  const args = [
    'report',
    '--at',
    at,
    '--since',
    since,
    ...(cluster === undefined ? [] : ['--cluster', cluster]),
    '--format',
    'html',
  ];
  return ['labelguard', ...args.map(quote)].join(' ');
}
