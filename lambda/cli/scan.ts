/** `labelguard scan`: read clusters, audit them, print the report, exit by --fail-on. */
import { buildScanReport, failsAt, type ClusterResult, type Severity } from '../audit/index.js';
import { createManifestSource } from '../adapters/manifests/read-manifests.js';
import { InputError, UsageError } from '../errors.js';
import type { ClusterSource } from '../ports.js';
import type { OutputFormat } from '../report/index.js';
import { runScan } from '../scan.js';
import { systemClock } from '../ports.js';
import { auditSettingsOf, readConfig } from './settings.js';
import { writeReport } from './output.js';

export interface ScanOptions {
  readonly manifests?: string[];
  readonly cluster?: string;
  readonly config?: string;
  readonly format?: string;
  readonly failOn?: string;
  readonly output?: string;
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
  if (sources.length === 0)
    throw new UsageError('nothing to scan: give --manifests PATH... (or clusters in the config file)');

  const format = (opts.format ?? 'table') as OutputFormat;
  // Local files that cannot be read or parsed are the user's input error (exit 2), not an unknown cluster.
  const inputErrors: InputError[] = [];
  const guarded = sources.map((s) => ({
    cluster: s.cluster,
    read: () =>
      s.read().catch((e: unknown) => {
        if (e instanceof InputError) inputErrors.push(e);
        throw e;
      }),
  }));
  const results = await runScan(
    { sources: guarded, clock: systemClock, onCluster: progressLine },
    auditSettingsOf(config),
  );
  if (inputErrors[0]) throw inputErrors[0];
  const report = buildScanReport(results, systemClock.now().toISOString(), { includePolicies: false });
  await writeReport(report, results, { format, output: opts.output });
  const threshold = (opts.failOn ?? config.failOn) as Severity | 'none';
  // A cluster that could not be read is unknown: a gate must not pass on it.
  if (results.some((r) => r.status === 'failed')) return 2;
  return failsAt(report, threshold) ? 1 : 0;
}

function progressLine(r: ClusterResult): void {
  const counts = `${r.namespaces.length} namespaces, ${r.policyCount} policies, ${r.findings.filter((f) => !f.waived).length} findings`;
  process.stderr.write(`labelguard: ${r.cluster}: ${r.status} (${counts})\n`);
}
