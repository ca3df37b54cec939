/**
 * The scanner's CloudWatch metrics (embedded metric format, through Powertools Metrics): their
 * names, namespace and service dimension, shared by the handler that emits them and the alarms
 * that watch them, and the pure computation of their values from a scan.
 */
import type { ClusterRun } from './scan.js';

export const METRICS_NAMESPACE = 'Labelguard';
/** The `service` dimension Powertools adds to every metric, and the logger's service name. */
export const SERVICE_NAME = 'labelguard';

export const SCAN_METRICS = {
  /** Clusters read by this invocation (a replayed run reads nothing and is not counted). */
  clustersScanned: 'ClustersScanned',
  clustersComplete: 'ClustersComplete',
  clustersPartial: 'ClustersPartial',
  clustersFailed: 'ClustersFailed',
  /** Clusters whose run was already recorded (a retried or repeated event). */
  clustersReplayed: 'ClustersReplayed',
  /** Clusters whose run could not be recorded. */
  storeFailures: 'StoreFailures',
  /** Unwaived findings in the clusters read. */
  findings: 'Findings',
  driftEvents: 'DriftEvents',
  /** Milliseconds from the event to the end of the scan (and notification). */
  duration: 'ScanDuration',
} as const;

export type ScanMetric = (typeof SCAN_METRICS)[keyof typeof SCAN_METRICS];

export type ScanMeasures = Readonly<Record<Exclude<ScanMetric, 'ScanDuration'>, number>>;

export function measureScan(clusters: readonly ClusterRun[]): ScanMeasures {
  let scanned = 0;
  let complete = 0;
  let partial = 0;
  let failed = 0;
  let replayed = 0;
  let storeFailures = 0;
  let findings = 0;
  let driftEvents = 0;
  for (const run of clusters) {
    if (run.recording.status === 'failed') storeFailures++;
    if (run.recording.status === 'replayed') {
      replayed++;
      continue;
    }
    scanned++;
    if (run.result.status === 'complete') complete++;
    else if (run.result.status === 'partial') partial++;
    else failed++;
    findings += run.counts.findings;
    driftEvents += run.drift?.length ?? 0;
  }
  return {
    ClustersScanned: scanned,
    ClustersComplete: complete,
    ClustersPartial: partial,
    ClustersFailed: failed,
    ClustersReplayed: replayed,
    StoreFailures: storeFailures,
    Findings: findings,
    DriftEvents: driftEvents,
  };
}
