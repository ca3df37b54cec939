/**
 * The Lambda composition root. Per container: the logger and metrics (Powertools), then on the
 * first invocation the runtime (config, clients, store, notifier; lambda-runtime.ts), kept for
 * the next ones. Per invocation (lambda-events.ts):
 *   - a scheduled event: scan every cluster as the run of the event's scheduled time, record it,
 *     notify, log one summary line, emit the metrics;
 *   - the fan-out steps: plan / one `clusters` entry / deliver.
 * It throws (so Lambda retries, and then the dead-letter queue or the state machine takes over)
 * only when every cluster failed or the history store failed: a partial or failed cluster among
 * others is reported, alarmed on, and recorded as such. Retrying is safe: a run is keyed by its
 * scheduled time, so a replay records and posts nothing new.
 */
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import { Logger as PowertoolsLogger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { VERSION } from './cli/version.js';
import type { ClusterConfig } from './config.js';
import { LabelguardError, UsageError } from './errors.js';
import { BUNDLED_CONFIG_FILE } from './lambda-env.js';
import {
  isClusterStepResult,
  parseLambdaEvent,
  type ClusterStepResult,
  type LambdaRequest,
  type NotifyResult,
  type PlanResult,
} from './lambda-events.js';
import { createLambdaRuntime, type LambdaRuntime } from './lambda-runtime.js';
import { deliverPending, notifyScan, runsToNotify, type DeliveryReport } from './notify/deliver.js';
import { DEFAULT_DELIVERY } from './notify/settings.js';
import type { Logger } from './ports.js';
import { normalizeRunId, scanClusters, type ScanRun } from './scan.js';
import { measureScan, METRICS_NAMESPACE, SCAN_METRICS, SERVICE_NAME, type ScanMeasures } from './scan-metrics.js';

/** The Lambda context, as far as the handler uses it. */
export interface LambdaContext {
  readonly awsRequestId: string;
  readonly functionName: string;
  getRemainingTimeInMillis(): number;
}

/** What a scheduled scan answers (and logs as its summary line). */
export interface ScanSummary extends ScanMeasures {
  readonly runId: string;
  readonly clusters: readonly {
    readonly cluster: string;
    readonly status: string;
    readonly findings: number;
    readonly drift: number | null;
    readonly recording: string;
    readonly errors: readonly string[];
  }[];
  readonly notifications: {
    readonly runs: number;
    readonly delivered: number;
    readonly pending: number;
    readonly failed: number;
    readonly problems: readonly string[];
  } | null;
  readonly durationMs: number;
}

/** The cluster kinds the deployed scanner reads (the stack refuses the others at synth time). */
const LAMBDA_KINDS: ReadonlySet<ClusterConfig['kind']> = new Set(['eks', 'eks-discovery']);
/** Time kept back from the delivery budget for the summary and metrics. */
const DELIVERY_MARGIN_MS = 15_000;

const powertools = new PowertoolsLogger({ serviceName: SERVICE_NAME });
const metrics = new Metrics({ namespace: METRICS_NAMESPACE, serviceName: SERVICE_NAME });
const logger: Logger = {
  debug: (message, fields) => powertools.debug(message, fields ?? {}),
  info: (message, fields) => powertools.info(message, fields ?? {}),
  warn: (message, fields) => powertools.warn(message, fields ?? {}),
  error: (message, fields) => powertools.error(message, fields ?? {}),
};
const BUNDLED_CONFIG = fileURLToPath(new URL(BUNDLED_CONFIG_FILE, import.meta.url));

let runtime: Promise<LambdaRuntime> | undefined;

/** The container's runtime, built on first use; a failed build is tried again by the next invocation. */
function containerRuntime(): Promise<LambdaRuntime> {
  runtime ??= createLambdaRuntime({ env: process.env, configFile: BUNDLED_CONFIG, logger }).catch((e: unknown) => {
    runtime = undefined;
    throw e;
  });
  return runtime;
}

export async function handler(
  event: unknown,
  context: LambdaContext,
): Promise<ScanSummary | PlanResult | ClusterStepResult | NotifyResult> {
  powertools.addContext(context as Parameters<PowertoolsLogger['addContext']>[0]);
  const started = performance.now();
  let request: LambdaRequest | undefined;
  try {
    request = parseLambdaEvent(event);
    const rt = await containerRuntime();
    switch (request.kind) {
      case 'scan':
        return await scheduledScan(rt, request.time, context, started);
      case 'plan':
        return plan(rt, request.time);
      case 'cluster':
        return await clusterStep(rt, request.runId, request.cluster, started);
      case 'notify':
        return await notifyStep(rt, request, context);
    }
  } catch (e) {
    powertools.error('labelguard invocation failed', {
      request: request?.kind ?? 'unparsed',
      ...(e instanceof LabelguardError ? { code: e.code } : {}),
      error: e as Error,
    });
    throw e;
  }
}

// ---------------------------------------------------------------------------------------------
// A scheduled run in one invocation

async function scheduledScan(
  rt: LambdaRuntime,
  time: string,
  context: LambdaContext,
  started: number,
): Promise<ScanSummary> {
  const runId = normalizeRunId(time);
  const scan = await scanEntries(
    rt,
    runId,
    rt.config.clusters.filter((c) => LAMBDA_KINDS.has(c.kind)),
  );
  const notified = await notifyScan(rt.notifyDeps(deliveryBudget(context)), runsToNotify(scan.runId, scan.clusters));
  const summary = summarize(scan, notified.delivery, notified.runs.length, started);
  emitMetrics(scan, summary.durationMs);
  logger.info('scan summary', { ...summary });
  failUnlessRecorded(scan);
  return summary;
}

// ---------------------------------------------------------------------------------------------
// Fan-out steps

function plan(rt: LambdaRuntime, time: string): PlanResult {
  const runId = normalizeRunId(time);
  const clusters = rt.config.clusters.filter((c) => LAMBDA_KINDS.has(c.kind)).map((c) => c.name);
  logger.info('fan-out plan', { runId, clusters });
  return { runId, clusters };
}

async function clusterStep(
  rt: LambdaRuntime,
  runId: string,
  name: string,
  started: number,
): Promise<ClusterStepResult> {
  const entry = rt.config.clusters.find((c) => c.name === name && LAMBDA_KINDS.has(c.kind));
  if (entry === undefined)
    throw new UsageError(`clusters: no EKS entry named ${JSON.stringify(name)} in the deployed config`);
  const scan = await scanEntries(rt, normalizeRunId(runId), [entry]);
  // Recorded here, delivered by the notify step (one paced delivery for the whole run).
  const notified = await notifyScan({ ...rt.notifyDeps(0), notifier: null }, runsToNotify(scan.runId, scan.clusters));
  const summary = summarize(scan, null, notified.runs.length, started);
  emitMetrics(scan, summary.durationMs);
  logger.info('cluster step summary', { entry: name, ...summary });
  failUnlessRecorded(scan);
  return { cluster: name, clusters: summary.clusters.length, failed: summary.ClustersFailed };
}

async function notifyStep(
  rt: LambdaRuntime,
  request: Extract<LambdaRequest, { kind: 'notify' }>,
  context: LambdaContext,
): Promise<NotifyResult> {
  const delivery = rt.notifier === null ? null : await deliverPending(rt.notifyDeps(deliveryBudget(context)));
  let clusters = 0;
  let failed = 0;
  for (const name of request.clusters) {
    const result = request.results.find((r): r is ClusterStepResult => isClusterStepResult(r) && r.cluster === name);
    // A step that failed after its retries answered nothing usable: its clusters are unknown, counted as failed.
    clusters += result?.clusters ?? 1;
    failed += result?.failed ?? 1;
  }
  logger.info('fan-out summary', {
    runId: normalizeRunId(request.runId),
    entries: request.clusters.length,
    clusters,
    failed,
    notifications: delivery === null ? null : deliveryFields(delivery, 0),
  });
  return { runId: normalizeRunId(request.runId), clusters, failed };
}

// ---------------------------------------------------------------------------------------------
// Shared

async function scanEntries(rt: LambdaRuntime, runId: string, entries: readonly ClusterConfig[]): Promise<ScanRun> {
  const sources = await rt.sources(entries);
  return scanClusters(
    {
      sources,
      clock: rt.clock,
      recording: { store: rt.store, runId, configHash: rt.configHash, toolVersion: VERSION },
      // Each cluster's namespaces and policy analyses are let go once it is recorded: flat memory.
      retain: 'summary',
      onCluster: (r) =>
        logger.info('cluster scanned', {
          cluster: r.cluster,
          status: r.status,
          namespaces: r.namespaces.length,
          policies: r.policyCount,
          findings: r.findings.filter((f) => f.waived === undefined).length,
          ...(r.errors.length > 0 ? { errors: r.errors } : {}),
        }),
    },
    rt.audit,
  );
}

function summarize(scan: ScanRun, delivery: DeliveryReport | null, runs: number, started: number): ScanSummary {
  return {
    runId: scan.runId,
    ...measureScan(scan.clusters),
    clusters: scan.clusters.map((c) => ({
      cluster: c.result.cluster,
      status: c.result.status,
      findings: c.counts.findings,
      drift: c.drift?.length ?? null,
      recording: c.recording.status,
      errors: [...c.result.errors, ...(c.recording.status === 'failed' ? [c.recording.error.message] : [])],
    })),
    notifications: delivery === null ? null : deliveryFields(delivery, runs),
    durationMs: Math.round(performance.now() - started),
  };
}

function deliveryFields(delivery: DeliveryReport, runs: number): NonNullable<ScanSummary['notifications']> {
  return {
    runs,
    delivered: delivery.delivered,
    pending: delivery.pending,
    failed: delivery.failed,
    problems: delivery.problems.map((p) => `${p.code} (${p.channel}): ${p.message}`),
  };
}

/** Every measure of the scan, zeros included: the state alarms read the latest run from them. */
function emitMetrics(scan: ScanRun, durationMs: number): void {
  for (const [name, value] of Object.entries(measureScan(scan.clusters)) as [keyof ScanMeasures, number][]) {
    metrics.addMetric(name, MetricUnit.Count, value);
  }
  metrics.addMetric(SCAN_METRICS.duration, MetricUnit.Milliseconds, durationMs);
  metrics.publishStoredMetrics();
}

/** Throws when the history store failed for a cluster, or when every cluster failed. */
function failUnlessRecorded(scan: ScanRun): void {
  const unrecorded = scan.clusters.filter((c) => c.recording.status === 'failed');
  if (unrecorded.length > 0) {
    throw new LabelguardError(
      'store-failed',
      `run ${scan.runId}: ${unrecorded.length} of ${scan.clusters.length} clusters could not be recorded (${unrecorded
        .map((c) => c.result.cluster)
        .join(', ')}); the retry replays the others`,
    );
  }
  if (scan.clusters.length > 0 && scan.clusters.every((c) => c.result.status === 'failed')) {
    throw new LabelguardError(
      'every-cluster-failed',
      `run ${scan.runId}: every cluster failed (${scan.clusters.map((c) => `${c.result.cluster}: ${c.result.errors[0] ?? 'unknown'}`).join('; ')})`,
    );
  }
}

/** The time a delivery may take: the configured budget, within what is left of the invocation. */
function deliveryBudget(context: LambdaContext): number {
  return Math.max(1_000, Math.min(DEFAULT_DELIVERY.budgetMs, context.getRemainingTimeInMillis() - DELIVERY_MARGIN_MS));
}
