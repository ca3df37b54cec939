/** Small interfaces named by role; adapters implement them, composition roots wire them. */
import type {
  ClusterSnapshot,
  ClusterState,
  ClusterStatus,
  Direction,
  DriftEvent,
  DriftEventType,
  KindRead,
  Labels,
  PolicyRef,
  SelectionSettings,
  Severity,
} from './audit/index.js';

/** Reads one cluster. Never resolves with an empty list for a read that failed: that is unknown, not empty. */
export interface ClusterSource {
  readonly cluster: string;
  read(): Promise<ClusterSnapshot>;
}

export interface Logger {
  debug(message: string, fields?: Record<string, unknown>): void;
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

export interface Clock {
  now(): Date;
}

export const systemClock: Clock = { now: () => new Date() };

// ---------------------------------------------------------------------------------------------
// The history store

/**
 * Every run of every cluster, the states it left and the drift it saw. A run is keyed by its
 * cluster and scheduled time (`runId`, an ISO date-time): recording the same run twice records it
 * once. Runs of one cluster are serialized and chained (each record carries the SHA-256 of the
 * previous one). See docs/history.md for the DynamoDB design.
 */
export interface Store {
  /**
   * Opens the run of `cluster` scheduled at `runId`: the recorded run when it already exists (a
   * replay), else a session holding the cluster's lease until it commits or is abandoned.
   * Throws RunOutOfOrderError for a run older than the cluster's latest, RunInProgressError when
   * another run keeps the cluster too long, StoreError when the store fails.
   */
  openRun(cluster: string, runId: string): Promise<OpenedRun>;
  /** The clusters with at least one recorded run, sorted by name. */
  clusters(): Promise<string[]>;
  /** The cluster as of `at`: its latest run at or before that time and the state that run left; null before its first run. */
  stateAt(cluster: string, at: string): Promise<RecordedState | null>;
  /** The cluster's runs scheduled within the range (inclusive), oldest first. */
  runs(cluster: string, range?: TimeRange): Promise<RunRecord[]>;
  /** The cluster's timeline: runs, label versions and drift events, oldest first. */
  history(query: HistoryQuery): Promise<HistoryEntry[]>;
  /** Walks the cluster's hash chain and names the first broken link. */
  verify(cluster: string): Promise<ChainVerification>;
}

export type OpenedRun =
  | { readonly kind: 'recorded'; readonly recorded: RecordedRun }
  | { readonly kind: 'new'; readonly session: RunSession };

/** One run of one cluster in progress; it holds the cluster's lease. */
export interface RunSession {
  readonly cluster: string;
  /** The run's scheduled time (normalized ISO 8601). */
  readonly runId: string;
  /** The cluster's latest recorded run: the one this run diffs against (null for the first). */
  readonly previous: RunRecord | null;
  /** True when `state` is exactly the state the previous run left: checked by hash, nothing read. */
  isUnchanged(state: ClusterState | null): boolean;
  /** The state the previous run left (null before the first complete read); read on first call. */
  baseline(): Promise<ClusterState | null>;
  /** Writes what changed, then the run record: that last conditional write is the commit point. */
  commit(run: RunCommit): Promise<RunRecord>;
  /** Releases the cluster after a failure. Best effort: nothing an uncommitted run wrote is ever read. */
  abandon(): Promise<void>;
}

export interface RunCommit {
  readonly facts: RunFacts;
  /** The known state after this run (`nextState`), null while the cluster was never read. */
  readonly state: ClusterState | null;
  readonly events: readonly DriftEvent[];
}

/** What a run records about itself besides its state and drift. */
export interface RunFacts {
  readonly startedAt: string;
  readonly finishedAt: string;
  readonly status: ClusterStatus;
  readonly errors: readonly string[];
  readonly reads: readonly KindRead[];
  readonly counts: RunCounts;
  /** SHA-256 of the configuration the run used. */
  readonly configHash: string;
  readonly toolVersion: string;
  /** The settings that decide what policies select (to reconstruct selections as of the run). */
  readonly selection: SelectionSettings;
}

export interface RunCounts {
  readonly namespaces: number;
  readonly policies: number;
  /** Findings not suppressed by a waiver. */
  readonly findings: number;
  readonly waived: number;
  readonly bySeverity: Readonly<Record<Severity, number>>;
  /** Namespaces with at least one unwaived finding about them (compliance = the others). */
  readonly namespacesWithFindings: number;
}

/** A run record: one link of the cluster's hash chain. */
export interface RunRecord extends RunFacts {
  readonly cluster: string;
  /** Position in the cluster's chain, from 1. */
  readonly seq: number;
  /** The scheduled time the run stands for (normalized ISO 8601); also its id. */
  readonly runId: string;
  readonly retentionDays: number;
  /** When the record may be deleted (epoch seconds; the table's TTL attribute). */
  readonly expiresAt: number;
  /** SHA-256 of the known state after the run (null: never read). */
  readonly stateHash: string | null;
  /** What the run wrote besides this record, and the SHA-256 over it. */
  readonly changes: RunChanges;
  readonly prevHash: string | null;
  readonly prevRunId: string | null;
  /** SHA-256 over this record's canonical JSON, `hash` left out. */
  readonly hash: string;
}

export interface RunChanges {
  readonly namespaces: number;
  readonly policies: number;
  readonly findings: number;
  readonly events: number;
  readonly digest: string;
}

/** A recorded run as a replay returns it. */
export interface RecordedRun {
  readonly run: RunRecord;
  readonly state: ClusterState | null;
  readonly events: readonly DriftEvent[];
}

/** A cluster as of a time. */
export interface RecordedState {
  readonly run: RunRecord;
  readonly state: ClusterState | null;
  /** When each open finding was first seen, by `findingKey` (occurrence suffixes included). */
  readonly firstSeen: ReadonlyMap<string, string>;
}

export interface TimeRange {
  /** Inclusive ISO 8601 bounds. */
  readonly since?: string;
  readonly until?: string;
}

export interface HistoryQuery extends TimeRange {
  readonly cluster: string;
  /** Only this namespace's label versions and events (runs are left out). */
  readonly namespace?: string;
}

export type HistoryEntryType = 'run' | 'labels' | DriftEventType;

/**
 * One line of a cluster's timeline (`history --format json`): a drift event with the time and
 * run it was recorded at, a label version, or a run.
 */
export interface HistoryEntry {
  readonly at: string;
  /** The run's position in the cluster's chain. */
  readonly run: number;
  readonly type: HistoryEntryType;
  readonly cluster: string;
  readonly namespace: string | null;
  readonly key: string | null;
  readonly before: string | null;
  readonly after: string | null;
  readonly policy: PolicyRef | null;
  readonly direction: Direction | null;
  /** `labels`: the namespace's labels from this version on (null: the namespace was deleted). */
  readonly labels?: Labels | null;
  /** `labels`: the version number, from 1. */
  readonly version?: number;
  /** `run`: how it ended and what it counted. */
  readonly status?: ClusterStatus;
  readonly counts?: RunCounts;
  /** `finding-opened` / `finding-resolved`: when the finding was first and last seen. */
  readonly firstSeen?: string;
  readonly lastSeen?: string;
}

export type ChainBreakReason = 'hash-mismatch' | 'link-mismatch' | 'missing-run' | 'changes-mismatch' | 'head-mismatch';

export interface ChainVerification {
  readonly cluster: string;
  readonly ok: boolean;
  /** Run records checked. */
  readonly runs: number;
  readonly first: { readonly seq: number; readonly runId: string } | null;
  readonly last: { readonly seq: number; readonly runId: string } | null;
  /** True when the runs before the first one kept have expired (retention), so its link back cannot be checked. */
  readonly startsAfterExpiry: boolean;
  /** The first broken link, or null. */
  readonly broken: {
    readonly seq: number;
    readonly runId: string | null;
    readonly reason: ChainBreakReason;
    readonly message: string;
  } | null;
}
