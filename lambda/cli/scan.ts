/** `labelguard scan`: read clusters, audit them, record the run and its drift, print the report, exit by --fail-on. */
import { writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { delimiter } from 'node:path';
import { buildScanReport, failsAt, RULES, type ClusterResult, type ScanReport, type Severity } from '../audit/index.js';
import { createManifestSource } from '../adapters/manifests/read-manifests.js';
import { UsageError } from '../errors.js';
import type { ClusterSource } from '../ports.js';
import { formatReport, type OutputFormat } from '../report/index.js';
import { normalizeRunId, scanClusters, type ScanRun } from '../scan.js';
import { systemClock } from '../ports.js';
import { openStore, type OpenedStore } from './open-store.js';
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
  const store: OpenedStore | null = recordRuns ? await openStore(config, { storeDir: opts.storeDir }) : null;
  let scan: ScanRun;
  try {
    const { hashOf } = await import('../adapters/dynamo/canonical.js');
    scan = await scanClusters(
      {
        sources,
        clock: systemClock,
        concurrency,
        onCluster: progressLine,
        ...(store === null
          ? {}
          : {
              recording: {
                store: store.store,
                configHash: hashOf(config),
                toolVersion: VERSION,
                ...(runId === undefined ? {} : { runId }),
              },
            }),
      },
      auditSettingsOf(config),
    );
  } finally {
    await store?.close();
  }

  const results = scan.clusters.map((c) => c.result);
  // A recorded scan reports as of its run time, so `report --at` that time rebuilds this very report.
  const built = buildScanReport(results, store === null ? systemClock.now().toISOString() : scan.runId, {
    includePolicies: format === 'json',
  });
  const report: ScanReport = {
    ...built,
    clusters: built.clusters.map((cluster, i) => {
      const drift = scan.clusters[i]?.drift;
      return drift === null || drift === undefined ? cluster : { ...cluster, drift };
    }),
  };
  const text = formatReport(report, format, {
    color: opts.output === undefined && Boolean(process.stdout.isTTY) && !process.env.NO_COLOR,
    toolVersion: VERSION,
    rules: RULES,
    width: process.stdout.columns,
  });
  if (opts.output !== undefined) await writeFile(opts.output, text);
  else process.stdout.write(text);

  // A run that could not be recorded fails loudly: the audit above stands, its history does not.
  const unrecorded = scan.clusters.filter((c) => c.recording.status === 'failed');
  for (const c of unrecorded) {
    if (c.recording.status === 'failed')
      process.stderr.write(`labelguard: ${c.result.cluster}: run not recorded: ${c.recording.error.message}\n`);
  }
  if (unrecorded.length > 0) return 2;
  const threshold = (opts.failOn ?? config.failOn) as Severity | 'none';
  return failsAt(report, threshold) ? 1 : 0;
}

function progressLine(r: ClusterResult): void {
  const counts = `${r.namespaces.length} namespaces, ${r.policyCount} policies, ${r.findings.filter((f) => !f.waived).length} findings`;
  process.stderr.write(`labelguard: ${r.cluster}: ${r.status} (${counts})\n`);
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
