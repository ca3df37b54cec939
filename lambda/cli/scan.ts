/** `labelguard scan`: read clusters, audit them, record the run and its drift, print the report, exit by --fail-on. */
import { homedir } from 'node:os';
import { delimiter } from 'node:path';
import { buildScanReport, failsAt, severityFails, type ScanReport, type Severity } from '../audit/index.js';
import { createManifestSource } from '../adapters/manifests/manifest-source.js';
import { UsageError } from '../errors.js';
import type { ClusterSource } from '../ports.js';
import type { OutputFormat } from '../report/index.js';
import { normalizeRunId, scanClusters, type ScanRun } from '../scan.js';
import { systemClock } from '../ports.js';
import { formatDryRun, notifyReportOf, slackNotifyDeps, slackSetupOf } from './notify-options.js';
import { openStore, stderrLogger, type OpenedStore } from './open-store.js';
import { writeOut, writeReport } from './output.js';
import { createProgress } from './progress.js';
import { auditSettingsOf, readConfig } from './settings.js';
import { VERSION } from './version.js';

export interface ScanOptions {
  readonly manifests?: string[];
  readonly cluster?: string;
  readonly config?: string;
  readonly format?: string;
  readonly failOn?: string;
  readonly output?: string;
  /** false with --no-store: record nothing. */
  readonly store?: boolean;
  readonly storeDir?: string;
  readonly runId?: string;
  /** Live clusters: --kubeconfig, --context (repeatable), --all-contexts, --eks NAME@REGION (repeatable). */
  readonly kubeconfig?: string;
  readonly context?: string[];
  readonly allContexts?: boolean;
  readonly eks?: string[];
  /** --concurrency: clusters read at once (default 8). */
  readonly concurrency?: string;
  /** --slack-channel, --slack-dry-run */
  readonly slackChannel?: string;
  readonly slackDryRun?: boolean;
}

export async function scanCommand(opts: ScanOptions): Promise<number> {
  const { config } = await readConfig(opts.config);
  const sources: ClusterSource[] = [];
  if (opts.manifests?.length) {
    if (opts.cluster !== undefined)
      sources.push(createManifestSource({ paths: opts.manifests, cluster: opts.cluster }));
    else for (const path of opts.manifests) sources.push(createManifestSource({ paths: [path] }));
  }
  for (const c of config.clusters) {
    if (c.kind === 'manifests' && c.paths) sources.push(createManifestSource({ paths: c.paths, cluster: c.name }));
  }
  const concurrency = parseConcurrency(opts.concurrency);
  const askedLive =
    opts.kubeconfig !== undefined ||
    (opts.context?.length ?? 0) > 0 ||
    opts.allContexts === true ||
    (opts.eks?.length ?? 0) > 0 ||
    config.clusters.some((c) => c.kind !== 'manifests');
  if (askedLive || sources.length === 0) {
    // Loaded only for live clusters: an offline --manifests scan never loads the Kubernetes client or AWS SDK.
    const { createLiveSources } = await import('../adapters/kube/live-sources.js');
    sources.push(
      ...(await createLiveSources({
        ...(opts.kubeconfig === undefined ? {} : { kubeconfig: opts.kubeconfig }),
        contexts: opts.context ?? [],
        allContexts: opts.allContexts === true,
        eks: opts.eks ?? [],
        clusters: config.clusters,
        currentContextByDefault: !askedLive,
        env: {
          kubeconfigPaths: (process.env.KUBECONFIG ?? '').split(delimiter).filter((p) => p !== ''),
          home: homedir(),
          ...(process.env.AWS_REGION || process.env.AWS_DEFAULT_REGION
            ? { region: process.env.AWS_REGION || process.env.AWS_DEFAULT_REGION }
            : {}),
        },
      })),
    );
  }
  if (sources.length === 0)
    throw new UsageError('nothing to scan: give --manifests PATH... (or clusters in the config file)');

  const recordRuns = opts.store !== false;
  if (!recordRuns && (opts.runId !== undefined || opts.storeDir !== undefined)) {
    throw new UsageError('--run-id and --store-dir record the run: they cannot go with --no-store');
  }
  const runId = opts.runId === undefined ? undefined : normalizeRunId(opts.runId);
  const format = (opts.format ?? 'table') as OutputFormat;
  const slack = slackSetupOf(config, opts, process.env, (m) => process.stderr.write(`labelguard: warning: ${m}\n`));
  if (slack !== null && !recordRuns)
    throw new UsageError('Slack posts the drift between runs: it cannot go with --no-store');
  const store: OpenedStore | null = recordRuns ? await openStore(config, { storeDir: opts.storeDir }) : null;
  // JSON for clusters with distinct names is streamed: each cluster's part is spooled as it
  // finishes and let go, so memory stays flat however many clusters are read. The other formats
  // lay out the whole report at once.
  const names = sources.map((s) => s.cluster);
  const spool =
    format === 'json' && new Set(names).size === names.length
      ? await (await import('./json-stream.js')).createJsonReportSpool(sources.length)
      : null;
  const progress = createProgress({ stream: process.stderr, total: sources.length });
  let scan: ScanRun;
  try {
    const configHash = store === null ? '' : (await import('../adapters/dynamo/canonical.js')).hashOf(config);
    scan = await scanClusters(
      {
        sources: progress.track(sources),
        clock: systemClock,
        concurrency,
        onCluster: (r) => progress.done(r),
        ...(spool === null ? {} : { onRun: (run, i) => spool.add(run, i), retain: 'summary' as const }),
        ...(store === null || slack === null
          ? {}
          : {
              notify: {
                deps: await slackNotifyDeps(slack, { outbox: store.outbox, clock: systemClock, logger: stderrLogger }),
                dryRun: slack.dryRun,
              },
            }),
        ...(store === null
          ? {}
          : {
              recording: {
                store: store.store,
                configHash,
                toolVersion: VERSION,
                ...(runId === undefined ? {} : { runId }),
              },
            }),
      },
      auditSettingsOf(config),
    );
  } catch (e) {
    await spool?.discard();
    throw e;
  } finally {
    progress.finish();
    await store?.close();
  }

  if (scan.notify !== null && slack?.dryRun) process.stderr.write(formatDryRun(scan.notify.dryRun));
  const generatedAt = store === null ? systemClock.now().toISOString() : scan.runId;
  const threshold = (opts.failOn ?? config.failOn) as Severity | 'none';
  let fails: boolean;
  if (spool !== null) {
    await writeOut(opts.output, (out) =>
      spool.finish(out, { generatedAt, ...(scan.notify === null ? {} : { notify: notifyReportOf(scan.notify) }) }),
    );
    fails = severityFails(spool.highestSeverity(), threshold);
  } else {
    const results = scan.clusters.map((c) => c.result);
    const built = buildScanReport(results, generatedAt, { includePolicies: false });
    const report: ScanReport = {
      ...built,
      ...(scan.notify === null ? {} : { notify: notifyReportOf(scan.notify) }),
      clusters: built.clusters.map((cluster, i) => {
        const drift = scan.clusters[i]?.drift;
        return drift === null || drift === undefined ? cluster : { ...cluster, drift };
      }),
    };
    await writeReport(report, results, { format, output: opts.output });
    fails = failsAt(report, threshold);
  }

  const unrecorded = scan.clusters.filter((c) => c.recording.status === 'failed');
  for (const c of unrecorded) {
    if (c.recording.status === 'failed')
      process.stderr.write(`labelguard: ${c.result.cluster}: run not recorded: ${c.recording.error.message}\n`);
  }
  if (unrecorded.length > 0) return 2;
  return fails ? 1 : 0;
}

/** --concurrency N: a whole number from 1 to 256 (default 8). */
function parseConcurrency(text: string | undefined): number {
  if (text === undefined) return 8;
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1 || n > 256) {
    throw new UsageError(`--concurrency ${text}: expected a whole number from 1 to 256`);
  }
  return n;
}
