/**
 * The ports of notification: a Notifier (posts, updates and finds chat messages), a Renderer
 * (turns planned content into the payloads a notifier posts) and an Outbox (the delivery state in
 * the store: every message is recorded before it is posted and marked delivered with its `ts`).
 */
import type { Change, ParentStatus, ResolvedContent, DigestContent } from './changes.js';

// ---------------------------------------------------------------------------------------------
// Payloads and the notifier

/** One Block Kit block, as JSON. */
export type Block = Readonly<Record<string, unknown>>;

/** What a notifier posts: a plain-text fallback (notifications, screen readers) and Block Kit blocks. */
export interface Payload {
  readonly text: string;
  readonly blocks: readonly Block[];
}

export interface PostRequest {
  /** A channel ID (`C0123ABCD`) or name (`#security`). */
  readonly channel: string;
  /** Post as a reply in this thread (the parent message's `ts`); null for a top-level message. */
  readonly threadTs: string | null;
  readonly payload: Payload;
  /** A unique id attached to the message (Slack message metadata), so a post in doubt can be found again. */
  readonly marker: string;
}

/** Where a message landed: the channel ID and the message's `ts`. */
export interface Posted {
  readonly channel: string;
  readonly ts: string;
}

export interface FindRequest {
  readonly channel: string;
  readonly threadTs: string | null;
  readonly marker: string;
  /** ISO time: the message cannot be older than this. */
  readonly since: string;
}

/**
 * Posts and updates chat messages. Every failure is a `NotifyError` saying whether it is worth
 * retrying (`reason`), whether the message may have been posted anyway (`ambiguous`) and how far it
 * reaches (`scope`).
 */
export interface Notifier {
  post(request: PostRequest): Promise<Posted>;
  update(target: Posted, payload: Payload): Promise<void>;
  /**
   * The message posted with `marker`, or null when there is none. Throws a NotifyError with reason
   * `unsupported` when the app may not read the channel's history (then a post in doubt is posted again).
   */
  find(request: FindRequest): Promise<Posted | null>;
}

/** Where a notifier's credential comes from (an environment variable, a cached secret). */
export interface TokenSource {
  get(): Promise<string>;
  /** Forgets a cached token (after the service rejected it), so the next `get` fetches it again. */
  invalidate(): void;
}

/** Turns planned content into payloads within the chat service's limits. Pure. */
export interface Renderer {
  /** The top-level digest first, then its follow-ups (posted in its thread) when it does not fit. */
  digest(content: DigestContent): Payload[];
  /** Thread replies announcing what was resolved (several when it does not fit one). */
  resolved(content: ResolvedContent): Payload[];
  /** The parent message again, with a status line (what was resolved since). */
  withStatus(parent: Payload, status: ParentStatus): Payload;
  /** One line per change, for logs and dry runs. */
  summary(change: Change): string;
}

// ---------------------------------------------------------------------------------------------
// The outbox

export type MessageRole = 'digest' | 'followup' | 'reply' | 'status';

/**
 * - `pending`: recorded, not yet posted (or a previous attempt failed transiently);
 * - `sending`: claimed by a delivery (a claim that outlives `claimUntil` was abandoned: the post is in doubt);
 * - `delivered`: posted (or updated); `ts` is the message's;
 * - `failed`: a permanent error (wrong channel, revoked token, ...): never retried;
 * - `expired`: undelivered for longer than the delivery settings keep trying.
 */
export type DeliveryStatus = 'pending' | 'sending' | 'delivered' | 'failed' | 'expired';

export interface DeliveryError {
  /** The service's error code (`channel_not_found`, `invalid_auth`, `http_503`, `timeout`, ...). */
  readonly code: string;
  readonly message: string;
}

/** A message as planned for a run, before it is recorded. */
export interface PlannedMessage {
  /** Position in the run's plan, from 1: with the cluster and run, the message's identity. */
  readonly seq: number;
  readonly role: MessageRole;
  /** The channel as routed (configured name or ID): the pacing and delivery queue it belongs to. */
  readonly channel: string;
  /** followup and reply: the id of the digest whose thread it goes in; status: the digest it updates. */
  readonly parent: string | null;
  /** null for status updates: they are rendered from the parent when delivered. */
  readonly payload: Payload | null;
  /** digest: what its status line follows, subject key → the change (namespace) it belongs to. */
  readonly groups?: Readonly<Record<string, string>>;
}

export interface OutboxMessage extends PlannedMessage {
  readonly cluster: string;
  readonly runId: string;
  /** `<runId>#<seq>`: unique within the cluster. */
  readonly id: string;
  readonly createdAt: string;
  readonly status: DeliveryStatus;
  readonly attempts: number;
  readonly firstAttemptAt: string | null;
  /** True when an earlier attempt may have posted the message (a timeout, a 5xx, an abandoned claim). */
  readonly inDoubt: boolean;
  /** Where it landed (channel ID), once delivered. */
  readonly postedChannel: string | null;
  readonly ts: string | null;
  readonly deliveredAt: string | null;
  readonly error: DeliveryError | null;
  /** digest: the subject keys resolved since it was posted. */
  readonly resolved: readonly string[];
}

/**
 * A thread subject: something a digest announced that a later run can undo (a label, a selection,
 * a namespace, a finding), keyed by its identity. `baseline` is the state before the announcement:
 * the change is resolved when an event brings the subject back to it.
 */
export interface SubjectRecord {
  readonly key: string;
  readonly baseline: string | null;
  /** The digest that announced it (its id within the cluster) and the channel it was routed to. */
  readonly digest: string;
  readonly channel: string;
  readonly runId: string;
  readonly resolvedRunId: string | null;
  /** Whether the digest's status line follows it (it belongs to a change that broke something). */
  readonly tracked: boolean;
}

export interface OutboxRecording {
  readonly cluster: string;
  readonly runId: string;
  readonly messages: readonly PlannedMessage[];
  /** Subjects announced by this run's digests (they replace earlier records of the same keys). */
  readonly subjects: readonly SubjectRecord[];
  /** Subjects this run resolved, by the digest that announced them. */
  readonly resolved: readonly { readonly digest: string; readonly keys: readonly string[] }[];
}

export interface Claim {
  readonly message: OutboxMessage;
  readonly token: string;
  /** True when a previous attempt may have posted the message: look for it before posting again. */
  readonly inDoubt: boolean;
}

export type Settlement =
  | { readonly status: 'delivered'; readonly posted: Posted }
  | { readonly status: 'pending'; readonly error: DeliveryError; readonly inDoubt: boolean }
  | { readonly status: 'failed' | 'expired'; readonly error: DeliveryError };

/**
 * The delivery state of notifications, kept in the history store. Recording is idempotent (a
 * replayed run records nothing new); a message is claimed before it is posted, so two deliveries
 * never post the same message.
 */
export interface Outbox {
  /** The messages recorded for a run, in plan order; null when the run's messages were never (completely) recorded. */
  recordedRun(cluster: string, runId: string): Promise<OutboxMessage[] | null>;
  /** The thread subjects known for these keys. */
  subjects(cluster: string, keys: readonly string[]): Promise<Map<string, SubjectRecord>>;
  /** Records a run's plan; messages already recorded are kept as they are. Returns the run's messages. */
  record(recording: OutboxRecording): Promise<OutboxMessage[]>;
  /** Every message not yet delivered, failed or expired, oldest run first (optionally of some clusters only). */
  pending(clusters?: readonly string[]): Promise<OutboxMessage[]>;
  get(cluster: string, id: string): Promise<OutboxMessage | null>;
  /** Takes a pending message (or one whose claim expired); null when it is not available. */
  claim(
    message: OutboxMessage,
    options: { readonly token: string; readonly until: Date; readonly now: Date },
  ): Promise<Claim | null>;
  /** Ends a claim. Returns false when the claim was lost meanwhile (nothing is written then). */
  settle(claim: Claim, settlement: Settlement, now: Date): Promise<boolean>;
  /** The channel ID a configured channel name was last posted to (null when unknown). */
  channelId(channel: string): Promise<string | null>;
  rememberChannel(channel: string, id: string): Promise<void>;
}
