/**
 * From a run's drift events to what people are told. Pure.
 *
 * Events are grouped by namespace into *changes* (one per namespace, one for cluster-wide
 * findings): the labels before → after, the policies that stopped or started selecting it, the
 * findings opened, a severity and a fix. Every event is also a *subject* with an identity across
 * runs (a label, a selection, a namespace, a finding). An event that brings a subject a digest
 * announced back to its state before the announcement *resolves* it: it is answered in that
 * digest's thread rather than announced again.
 */
import {
  RULES,
  SEVERITIES,
  severityRank,
  type Direction,
  type DriftEvent,
  type Finding,
  type PolicyRef,
  type Severity,
} from '../audit/index.js';
import type { SubjectRecord } from './ports.js';

export interface LabelChange {
  readonly key: string;
  readonly before: string | null;
  readonly after: string | null;
}

/** A policy that stopped (or started) selecting a namespace: as a peer (`direction`), or as its subject (null). */
export interface Impact {
  readonly policy: PolicyRef;
  readonly direction: Direction | null;
}

export interface FindingNote {
  readonly rule: string;
  readonly severity: Severity;
  readonly message: string;
  readonly policy: PolicyRef | null;
  readonly fix: string | null;
}

/** Everything one run changed about one namespace (or, with `namespace` null, cluster-wide). */
export interface Change {
  readonly cluster: string;
  readonly namespace: string | null;
  readonly severity: Severity;
  /** The namespace was created with these labels (`k=v,k2=v2`). */
  readonly created: string | null;
  /** The namespace was deleted; it had these labels. */
  readonly deleted: string | null;
  readonly labels: readonly LabelChange[];
  readonly lost: readonly Impact[];
  readonly gained: readonly Impact[];
  readonly opened: readonly FindingNote[];
  /** Findings resolved that no digest had announced. */
  readonly resolved: readonly FindingNote[];
  /** Commands that fix it, most specific first. */
  readonly fixes: readonly string[];
  /** The rule ids of its findings (for routing). */
  readonly rules: readonly string[];
  /** The subjects it announces, with their state before this run. */
  readonly subjects: readonly { readonly key: string; readonly baseline: string | null }[];
  /**
   * True when something broke (a selection lost, a finding opened, a namespace deleted, a policy
   * newly selecting an existing namespace): the digest's status line follows it until it is undone.
   * News such as a namespace created or a harmless relabelling is not tracked.
   */
  readonly tracked: boolean;
}

/** One event that undid what a digest announced. */
export interface Resolution {
  readonly digest: string;
  readonly channel: string;
  readonly subject: string;
  /** Whether the digest's status line follows this subject. */
  readonly tracked: boolean;
  readonly event: DriftEvent;
}

/** The content of one cluster's digest for one channel. */
export interface DigestContent {
  readonly cluster: string;
  readonly runId: string;
  readonly changes: readonly Change[];
  /** Mentions of the routes that sent changes here (`<!subteam^S0123>`), in route order. */
  readonly mentions: readonly string[];
}

/** What one run resolved of one digest, for its thread. */
export interface ResolvedContent {
  readonly cluster: string;
  readonly runId: string;
  readonly events: readonly DriftEvent[];
}

/** What a digest's status line says. */
export interface ParentStatus {
  readonly runId: string;
  /** Changes (namespaces) the digest announced. */
  readonly total: number;
  /** The changes all of whose subjects are resolved, and the others. */
  readonly resolved: readonly string[];
  readonly open: readonly string[];
}

export const CLUSTER_WIDE = '(cluster-wide)';

// ---------------------------------------------------------------------------------------------
// Subjects

/** A subject's identity and its state after the event. */
export interface SubjectState {
  readonly key: string;
  /** The subject's state after the event. */
  readonly after: string | null;
  /** The subject's state before the event. */
  readonly before: string | null;
}

const ref = (p: PolicyRef | null): (string | null)[] => [p?.kind ?? null, p?.namespace ?? null, p?.name ?? null];

/** The subject an event is about, with its state before and after. */
export function subjectOf(e: DriftEvent): SubjectState {
  switch (e.type) {
    case 'label-added':
    case 'label-changed':
    case 'label-removed':
      return { key: JSON.stringify(['label', e.namespace, e.key]), before: e.before, after: e.after };
    case 'selection-lost':
    case 'selection-gained': {
      const key = JSON.stringify(['selection', e.namespace, ...ref(e.policy), e.direction]);
      return e.type === 'selection-lost'
        ? { key, before: 'selected', after: 'unselected' }
        : { key, before: 'unselected', after: 'selected' };
    }
    case 'namespace-created':
    case 'namespace-deleted': {
      const key = JSON.stringify(['namespace', e.namespace]);
      return e.type === 'namespace-created'
        ? { key, before: 'absent', after: 'present' }
        : { key, before: 'present', after: 'absent' };
    }
    case 'finding-opened':
    case 'finding-resolved': {
      const message = e.type === 'finding-opened' ? e.after : e.before;
      const key = JSON.stringify(['finding', e.key, e.namespace, ...ref(e.policy), message]);
      return e.type === 'finding-opened'
        ? { key, before: 'resolved', after: 'open' }
        : { key, before: 'open', after: 'resolved' };
    }
  }
}

/**
 * Whether a subject record, as the run `runId` sees it, is an open announcement: recorded by an
 * earlier run and not resolved before this one (resolved by this very run counts as open, so a
 * replayed run plans the same messages).
 */
export function isOpenAnnouncement(record: SubjectRecord | undefined, runId: string): record is SubjectRecord {
  return (
    record !== undefined && record.runId < runId && (record.resolvedRunId === null || record.resolvedRunId === runId)
  );
}

// ---------------------------------------------------------------------------------------------
// Changes

export interface ChangesOfRun {
  readonly changes: Change[];
  readonly resolutions: Resolution[];
}

/**
 * Splits a run's events into the changes to announce and the resolutions of earlier
 * announcements. `findings` are the run's findings (for the severity and fix of opened ones).
 */
export function changesOf(
  cluster: string,
  runId: string,
  events: readonly DriftEvent[],
  findings: readonly Finding[],
  subjects: ReadonlyMap<string, SubjectRecord>,
): ChangesOfRun {
  const byNamespace = new Map<string | null, DriftEvent[]>();
  const resolutions: Resolution[] = [];
  for (const e of events) {
    const subject = subjectOf(e);
    const record = subjects.get(subject.key);
    if (isOpenAnnouncement(record, runId) && subject.after === record.baseline) {
      resolutions.push({
        digest: record.digest,
        channel: record.channel,
        subject: subject.key,
        tracked: record.tracked,
        event: e,
      });
      continue;
    }
    let list = byNamespace.get(e.namespace);
    if (list === undefined) byNamespace.set(e.namespace, (list = []));
    list.push(e);
  }
  const lookup = findingLookup(findings);
  const changes: Change[] = [];
  for (const [namespace, list] of byNamespace) {
    changes.push(changeOf(cluster, runId, namespace, list, lookup, subjects));
  }
  return { changes: changes.sort(compareChanges), resolutions };
}

/** Most severe first, then what breaks most (selections lost, findings opened), then by namespace; cluster-wide last. */
export function compareChanges(a: Change, b: Change): number {
  return (
    severityRank(b.severity) - severityRank(a.severity) ||
    b.lost.length - a.lost.length ||
    b.opened.length - a.opened.length ||
    (a.namespace === null ? 1 : 0) - (b.namespace === null ? 1 : 0) ||
    (a.namespace ?? '').localeCompare(b.namespace ?? '')
  );
}

type FindingLookup = (e: DriftEvent) => Finding | undefined;

function findingLookup(findings: readonly Finding[]): FindingLookup {
  const byKey = new Map<string, Finding>();
  for (const f of findings) {
    const key = JSON.stringify([f.rule, f.namespace, ...ref(f.policy), f.message]);
    if (!byKey.has(key)) byKey.set(key, f);
  }
  return (e) => byKey.get(JSON.stringify([e.key, e.namespace, ...ref(e.policy), e.after ?? e.before]));
}

function changeOf(
  cluster: string,
  runId: string,
  namespace: string | null,
  events: readonly DriftEvent[],
  lookup: FindingLookup,
  subjects: ReadonlyMap<string, SubjectRecord>,
): Change {
  let created: string | null = null;
  let deleted: string | null = null;
  const labels: LabelChange[] = [];
  const lost: Impact[] = [];
  const gained: Impact[] = [];
  const opened: FindingNote[] = [];
  const resolved: FindingNote[] = [];
  const claims: { key: string; baseline: string | null }[] = [];
  let severity: Severity = 'info';
  const raise = (s: Severity): void => {
    if (severityRank(s) > severityRank(severity)) severity = s;
  };

  for (const e of events) {
    const subject = subjectOf(e);
    const record = subjects.get(subject.key);
    // Announced before and still open: keep the state before that announcement, so undoing both
    // resolves it (a record this very run wrote, when it is replayed, already holds that state).
    const baseline =
      record !== undefined && (record.runId === runId || isOpenAnnouncement(record, runId))
        ? record.baseline
        : subject.before;
    switch (e.type) {
      case 'namespace-created':
        created = e.after ?? '';
        raise('info');
        break;
      case 'namespace-deleted':
        deleted = e.before ?? '';
        raise('low');
        break;
      case 'label-added':
      case 'label-changed':
      case 'label-removed':
        labels.push({ key: e.key ?? '', before: e.before, after: e.after });
        raise('low');
        break;
      case 'selection-lost':
        if (e.policy !== null) lost.push({ policy: e.policy, direction: e.direction });
        raise('high');
        break;
      case 'selection-gained':
        if (e.policy !== null) gained.push({ policy: e.policy, direction: e.direction });
        // What selects a namespace that was just created is what it was created into, not news.
        if (!events.some((x) => x.type === 'namespace-created')) raise('medium');
        break;
      case 'finding-opened': {
        const note = noteOf(e, lookup(e));
        opened.push(note);
        raise(note.severity);
        break;
      }
      case 'finding-resolved':
        resolved.push(noteOf(e, undefined));
        raise('info');
        // Nothing left to resolve later: not a subject of this digest.
        continue;
    }
    claims.push({ key: subject.key, baseline });
  }

  const fixes: string[] = [];
  if (namespace !== null && deleted === null && (lost.length > 0 || opened.length > 0)) {
    const restore = restoreCommand(namespace, labels);
    if (restore !== null) fixes.push(restore);
  }
  for (const f of opened) if (f.fix !== null) fixes.push(f.fix);
  const rules = [...new Set([...opened, ...resolved].map((f) => f.rule))];
  return {
    cluster,
    namespace,
    severity,
    fixes: dedupeFixes(fixes),
    created,
    deleted,
    labels,
    lost,
    gained,
    opened,
    resolved,
    rules,
    subjects: claims,
    tracked: lost.length > 0 || opened.length > 0 || deleted !== null || (gained.length > 0 && created === null),
  };
}

function noteOf(e: DriftEvent, finding: Finding | undefined): FindingNote {
  const rule = e.key ?? 'rule-error';
  const severity = finding?.severity ?? RULES.find((r) => r.id === rule)?.severity ?? 'medium';
  return {
    rule,
    severity: SEVERITIES.includes(severity) ? severity : 'medium',
    message: e.after ?? e.before ?? '',
    policy: e.policy,
    fix: finding?.fix ?? null,
  };
}

/** `kubectl label namespace ns k=v k2- --overwrite`: puts the labels back as they were; null when none changed. */
export function restoreCommand(namespace: string, labels: readonly LabelChange[]): string | null {
  if (labels.length === 0) return null;
  const args = [...labels]
    .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0))
    .map((l) => (l.before === null ? `${l.key}-` : `${l.key}=${shellQuote(l.before)}`));
  const overwrite = labels.some((l) => l.before !== null && l.after !== null);
  return `kubectl label namespace ${shellQuote(namespace)} ${args.join(' ')}${overwrite ? ' --overwrite' : ''}`;
}

const LABEL_COMMAND = /^kubectl label namespace (\S+) (.+?)( --overwrite)?$/;

/**
 * Fixes without repeats: a `kubectl label namespace` command whose label arguments an earlier
 * command for the same namespace already sets is left out (`--overwrite` aside: every command is
 * written against the namespace as it is now).
 */
export function dedupeFixes(fixes: readonly string[]): string[] {
  const out: string[] = [];
  const sets: { namespace: string; args: Set<string> }[] = [];
  for (const fix of fixes) {
    if (out.includes(fix)) continue;
    const m = LABEL_COMMAND.exec(fix);
    if (m !== null) {
      const namespace = m[1]!;
      const args = m[2]!.split(' ');
      if (sets.some((s) => s.namespace === namespace && args.every((a) => s.args.has(a)))) continue;
      sets.push({ namespace, args: new Set(args) });
    }
    out.push(fix);
  }
  return out;
}

/** A shell-safe word (label keys and values and namespace names need no quoting; anything else is single-quoted). */
export function shellQuote(s: string): string {
  return /^[A-Za-z0-9._\-/=:]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

// ---------------------------------------------------------------------------------------------
// Status of a digest

/** The status line of a digest: which of the changes it announced are resolved (every subject of theirs). */
export function parentStatus(
  groups: Readonly<Record<string, string>>,
  resolved: readonly string[],
  runId: string,
): ParentStatus {
  const done = new Set(resolved);
  const open = new Map<string, boolean>();
  for (const [key, group] of Object.entries(groups)) {
    open.set(group, (open.get(group) ?? false) || !done.has(key));
  }
  const names = [...open.keys()].sort();
  return {
    runId,
    total: names.length,
    resolved: names.filter((n) => !open.get(n)),
    open: names.filter((n) => open.get(n)),
  };
}

/** The namespace a change is about, as people read it. */
export function changeName(change: Pick<Change, 'namespace'>): string {
  return change.namespace ?? CLUSTER_WIDE;
}
