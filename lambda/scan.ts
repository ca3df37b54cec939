/**
 * runScan: read every cluster (bounded concurrency), evaluate each as soon as it is read, and
 * isolate failures per cluster: a source that throws yields a failed cluster, never an empty one,
 * and never stops the others. Only input the user must fix (InputError, UsageError, ConfigError:
 * a manifest that does not parse) stops the scan with that error.
 *
 * With a store (`recording`), each cluster's run is also recorded and diffed: open the run (a
 * replay of a recorded run returns the recorded result without reading the cluster), read and
 * evaluate, diff the new known state against the last one, commit. A store failure fails that
 * cluster's recording loudly, never its audit result, and leaves nothing the next run would read.
 */
import {
  comparePolicyObjects,
  compareFindingsFully,
  diffStates,
  evaluateCluster,
  nextState,
  observeCluster,
  SEVERITIES,
  type AuditSettings,
  type ClusterResult,
  type ClusterSnapshot,
  type ClusterState,
  type DriftEvent,
  type Severity,
} from './audit/index.js';
import { ConfigError, InputError, StoreError, UsageError } from './errors.js';
import { notifyScan, runsToNotify, type NotifyDeps, type NotifyScanResult } from './notify/deliver.js';
import type { Clock, ClusterSource, OpenedRun, RunCounts, RunRecord, RunSession, Store } from './ports.js';

export interface ScanDeps {
  readonly sources: readonly ClusterSource[];
  readonly clock: Clock;
  /** Clusters read at once. */
  readonly concurrency?: number;
  /** Called as each cluster finishes (progress lines). */
  readonly onCluster?: (result: ClusterResult) => void;
  /**
   * Called with each cluster's run as it finishes, in the order they finish, and awaited before
   * the next cluster starts on that worker (a slow consumer slows the reading, never the memory).
   */
  readonly onRun?: (run: ClusterRun, index: number) => void | Promise<void>;
  /**
   * What the returned ScanRun keeps of each run. 'all' (default): everything. 'summary': once
   * handed to onRun, a run keeps its counts, drift and recording, and its findings only when they
   * have something to notify (drift, or a cluster's first run); its namespaces and policy
   * analyses are released, so memory stays flat however many clusters are read.
   */
  readonly retain?: 'all' | 'summary';
  /** Record every run and its drift in this store; absent: nothing is recorded. */
  readonly recording?: RecordingOptions;
  /** Post the drift to Slack (through the outbox) once the runs are recorded. */
  readonly notify?: { readonly deps: NotifyDeps; readonly dryRun?: boolean };
}

export interface RecordingOptions {
  readonly store: Store;
  /** The scheduled time the runs are keyed by (ISO 8601); default: the clock's time when the scan starts. */
  readonly runId?: string;
  /** SHA-256 of the configuration, recorded with each run. */
  readonly configHash: string;
  readonly toolVersion: string;
}

/** What happened to a cluster's run in the store. */
export type Recording =
  | { readonly status: 'off' }
  | { readonly status: 'recorded'; readonly run: RunRecord }
  | { readonly status: 'replayed'; readonly run: RunRecord }
  | { readonly status: 'failed'; readonly error: StoreError };

export interface ClusterRun {
  /** With `retain: 'summary'`, released once handed on: see ScanDeps.retain. */
  readonly result: ClusterResult;
  /** The run's counts (namespaces, policies, findings by severity), kept whatever is released. */
  readonly counts: RunCounts;
  /** What changed since the cluster's previous run; null when unknown (nothing recorded). */
  readonly drift: readonly DriftEvent[] | null;
  readonly recording: Recording;
}

export interface ScanRun {
  /** The scheduled time of this scan's runs (normalized ISO 8601). */
  readonly runId: string;
  readonly clusters: readonly ClusterRun[];
  /** What was recorded in the outbox and delivered to Slack; null when nothing is notified. */
  readonly notify: NotifyScanResult | null;
}

export function failedSnapshot(cluster: string, reason: string): ClusterSnapshot {
  return {
    cluster,
    namespaces: null,
    objects: [],
    reads: [{ resource: 'namespaces', status: 'failed', reason }],
    problems: [],
  };
}

/** What a run keeps once released: no namespaces, no policy analyses, findings only when they are to be notified. */
export function releaseRun(run: ClusterRun): ClusterRun {
  const r = run.result;
  const notified =
    run.drift !== null &&
    (run.recording.status === 'recorded' || run.recording.status === 'replayed') &&
    (run.drift.length > 0 || run.recording.run.seq === 1);
  return {
    ...run,
    result: {
      cluster: r.cluster,
      status: r.status,
      errors: r.errors,
      reads: r.reads,
      namespaces: [],
      policyCount: r.policyCount,
      policyReports: () => [],
      findings: notified ? r.findings : [],
    },
  };
}

export async function runScan(deps: ScanDeps, settings: Omit<AuditSettings, 'now'>): Promise<ClusterResult[]> {
  return (await scanClusters(deps, settings)).clusters.map((c) => c.result);
}

/** A run id is the run's scheduled time: any ISO 8601 date-time with a zone, normalized to `YYYY-MM-DDTHH:mm:ss.sssZ`. */
export function normalizeRunId(text: string): string {
  const t = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/.test(text) ? Date.parse(text) : NaN;
  if (Number.isNaN(t)) {
    throw new UsageError(
      `run id ${JSON.stringify(text)} is not a scheduled time: give an ISO date-time such as 2026-03-02T06:00:00Z`,
    );
  }
  return new Date(t).toISOString();
}

export async function scanClusters(deps: ScanDeps, settings: Omit<AuditSettings, 'now'>): Promise<ScanRun> {
  const recording = deps.recording;
  const runId = recording?.runId === undefined ? deps.clock.now().toISOString() : normalizeRunId(recording.runId);
  const results = new Array<ClusterRun>(deps.sources.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < deps.sources.length) {
      const i = next++;
      const run = await scanCluster(deps.sources[i]!, deps.clock, runId, settings, recording);
      deps.onCluster?.(run.result);
      await deps.onRun?.(run, i);
      results[i] = deps.retain === 'summary' ? releaseRun(run) : run;
    }
  };
  const n = Math.max(1, Math.min(deps.concurrency ?? 8, deps.sources.length));
  await Promise.all(Array.from({ length: n }, worker));
  const notify =
    deps.notify === undefined
      ? null
      : await notifyScan(deps.notify.deps, runsToNotify(runId, results), { dryRun: deps.notify.dryRun === true });
  return { runId, clusters: results, notify };
}

async function scanCluster(
  source: ClusterSource,
  clock: Clock,
  runId: string,
  settings: Omit<AuditSettings, 'now'>,
  recording: RecordingOptions | undefined,
): Promise<ClusterRun> {
  const startedAt = clock.now().toISOString();
  let opened: OpenedRun | null = null;
  let storeError: StoreError | null = null;
  if (recording !== undefined) {
    try {
      opened = await recording.store.openRun(source.cluster, runId);
    } catch (e) {
      storeError = asStoreError(e);
    }
  }
  if (opened?.kind === 'recorded') {
    const { run, state, events } = opened.recorded;
    const result = recordedResult(run, state);
    return { result, counts: countRun(result), drift: events, recording: { status: 'replayed', run } };
  }

  let snapshot: ClusterSnapshot;
  try {
    snapshot = await source.read();
  } catch (e) {
    // Input the user must fix (a manifest that does not parse, a bad option) stops the scan; anything else fails this cluster only.
    if (isInputProblem(e)) {
      if (opened?.kind === 'new') await opened.session.abandon().catch(() => undefined);
      throw e;
    }
    snapshot = failedSnapshot(source.cluster, e instanceof Error ? e.message : String(e));
  }
  // Recorded runs list policies in one canonical order, so a report rebuilt from the store is the same report.
  if (recording !== undefined) snapshot = { ...snapshot, objects: [...snapshot.objects].sort(comparePolicyObjects) };
  const evaluated = evaluateCluster(snapshot, { ...settings, now: runId });
  const result: ClusterResult =
    recording === undefined
      ? evaluated
      : { ...evaluated, findings: [...evaluated.findings].sort(compareFindingsFully) };

  const counts = countRun(result);
  if (opened === null) {
    return {
      result,
      counts,
      drift: null,
      recording: storeError === null ? { status: 'off' } : { status: 'failed', error: storeError },
    };
  }
  const session = opened.session;
  try {
    const { state, events } = await driftOf(session, snapshot, result, settings);
    const run = await session.commit({
      facts: {
        startedAt,
        finishedAt: clock.now().toISOString(),
        status: result.status,
        errors: result.errors,
        reads: result.reads,
        counts,
        configHash: recording!.configHash,
        toolVersion: recording!.toolVersion,
        selection: { engines: settings.engines, synthesizeNameLabel: settings.synthesizeNameLabel },
      },
      state,
      events,
    });
    return { result, counts, drift: events, recording: { status: 'recorded', run } };
  } catch (e) {
    await session.abandon().catch(() => undefined);
    return { result, counts, drift: null, recording: { status: 'failed', error: asStoreError(e) } };
  }
}

/** The state after this run and what changed; an unchanged complete read reads nothing from the store. */
async function driftOf(
  session: RunSession,
  snapshot: ClusterSnapshot,
  result: ClusterResult,
  settings: Omit<AuditSettings, 'now'>,
): Promise<{ state: ClusterState | null; events: DriftEvent[] }> {
  const observation = observeCluster(snapshot, result);
  if (observation.status === 'complete') {
    // A complete read is the whole state, whatever was known before.
    const state = nextState(null, observation);
    if (session.isUnchanged(state)) return { state, events: [] };
  }
  const previous = await session.baseline();
  const state = nextState(previous, observation);
  return {
    state,
    events: diffStates(previous, state, {
      engines: settings.engines,
      synthesizeNameLabel: settings.synthesizeNameLabel,
    }),
  };
}

/**
 * A cluster's result rebuilt from a recorded run and the state it left: namespaces, policy
 * objects and findings as recorded; what each policy selected evaluated again from them with the
 * run's selection settings. For a complete run this is the result the run produced.
 */
export function recordedResult(run: RunRecord, state: ClusterState | null): ClusterResult {
  const common = { cluster: run.cluster, status: run.status, errors: run.errors, reads: run.reads };
  if (state === null || run.status === 'failed') {
    return { ...common, namespaces: [], policyReports: () => [], policyCount: 0, findings: [] };
  }
  const evaluated = evaluateCluster(
    { cluster: run.cluster, namespaces: state.namespaces, objects: state.policies, reads: run.reads, problems: [] },
    {
      requiredLabels: [],
      exclude: [],
      waivers: [],
      severities: {},
      engines: run.selection.engines,
      synthesizeNameLabel: run.selection.synthesizeNameLabel,
      now: run.runId,
    },
  );
  return {
    ...common,
    namespaces: evaluated.namespaces,
    policyReports: evaluated.policyReports,
    policyCount: evaluated.policyCount,
    findings: state.findings,
  };
}

export function countRun(result: ClusterResult): RunCounts {
  const bySeverity = Object.fromEntries(SEVERITIES.map((s) => [s, 0])) as Record<Severity, number>;
  const names = new Set(result.namespaces.map((n) => n.name));
  const flagged = new Set<string>();
  let waived = 0;
  for (const f of result.findings) {
    if (f.waived !== undefined) {
      waived++;
      continue;
    }
    bySeverity[f.severity]++;
    if (f.namespace !== null && names.has(f.namespace)) flagged.add(f.namespace);
  }
  return {
    namespaces: result.namespaces.length,
    policies: result.policyCount,
    findings: result.findings.length - waived,
    waived,
    bySeverity,
    namespacesWithFindings: flagged.size,
  };
}

function isInputProblem(e: unknown): boolean {
  return e instanceof InputError || e instanceof UsageError || e instanceof ConfigError;
}

function asStoreError(e: unknown): StoreError {
  if (e instanceof StoreError) return e;
  return new StoreError(`store: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
}
