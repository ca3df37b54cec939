/**
 * The events the function handles, and what it answers:
 *   - a scheduled event (EventBridge Scheduler or an EventBridge rule, `time` = the scheduled
 *     time): scan every cluster and notify, in one invocation;
 *   - with fan-out, the steps of the state machine, all marked `labelguard`:
 *       `plan`    → the run id and the `clusters` entries to scan (by name);
 *       `cluster` → scan one entry of the run: an EKS cluster, or the fleet an eks-discovery finds,
 *                   and record what to notify;
 *       `notify`  → deliver what is undelivered and say whether every cluster failed.
 * A run is identified by its scheduled time, so a retried event or execution is the same run.
 */
import { UsageError } from './errors.js';

/** The field that marks a fan-out step event, and its values. */
export const STEP_FIELD = 'labelguard';
export const STEPS = ['plan', 'cluster', 'notify'] as const;
export type Step = (typeof STEPS)[number];

export type LambdaRequest =
  | { readonly kind: 'scan'; readonly time: string }
  | { readonly kind: 'plan'; readonly time: string }
  | { readonly kind: 'cluster'; readonly runId: string; readonly cluster: string }
  | {
      readonly kind: 'notify';
      readonly runId: string;
      readonly clusters: readonly string[];
      /** What the `cluster` steps answered (a failed step leaves an error object, or nothing). */
      readonly results: readonly unknown[];
    };

/** What the scheduler sends: the shape of an EventBridge scheduled event, with the schedule's context filled in. */
export interface ScheduledEventInput {
  readonly version: '0';
  readonly id: string;
  readonly 'detail-type': 'Scheduled Event';
  readonly source: string;
  readonly time: string;
  readonly resources: readonly string[];
  readonly detail: Record<string, never>;
}

export interface PlanResult {
  readonly runId: string;
  readonly clusters: readonly string[];
}

/** What a `cluster` step answers (small: a Distributed Map collects one per entry). */
export interface ClusterStepResult {
  /** The `clusters` entry. */
  readonly cluster: string;
  /** Clusters it scanned (one, or a discovered fleet) and how many of them failed. */
  readonly clusters: number;
  readonly failed: number;
}

export interface NotifyResult {
  readonly runId: string;
  readonly clusters: number;
  readonly failed: number;
}

/** True for a well-formed `cluster` step answer. */
export function isClusterStepResult(value: unknown): value is ClusterStepResult {
  const v = value as Partial<Record<keyof ClusterStepResult, unknown>> | null;
  return (
    typeof v === 'object' &&
    v !== null &&
    typeof v.cluster === 'string' &&
    typeof v.clusters === 'number' &&
    typeof v.failed === 'number'
  );
}

export function parseLambdaEvent(event: unknown): LambdaRequest {
  if (typeof event !== 'object' || event === null) throw new UsageError(`unexpected event: ${describe(event)}`);
  const e = event as Record<string, unknown>;
  const step = e[STEP_FIELD];
  if (step === undefined) {
    if (typeof e.time === 'string' && (e['detail-type'] === 'Scheduled Event' || e.source === 'aws.scheduler')) {
      return { kind: 'scan', time: e.time };
    }
    throw new UsageError(`unexpected event: neither a scheduled event nor a labelguard step (${describe(event)})`);
  }
  if (step === 'plan' && typeof e.time === 'string') return { kind: 'plan', time: e.time };
  if (step === 'cluster' && typeof e.runId === 'string' && typeof e.cluster === 'string') {
    return { kind: 'cluster', runId: e.runId, cluster: e.cluster };
  }
  if (step === 'notify' && typeof e.runId === 'string' && isStringArray(e.clusters)) {
    return { kind: 'notify', runId: e.runId, clusters: e.clusters, results: Array.isArray(e.results) ? e.results : [] };
  }
  throw new UsageError(`malformed labelguard ${JSON.stringify(step)} step event (${describe(event)})`);
}

function isStringArray(value: unknown): value is string[] {
  return Array.isArray(value) && value.every((v) => typeof v === 'string');
}

function describe(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 300 ? `${text.slice(0, 300)}…` : text;
}
