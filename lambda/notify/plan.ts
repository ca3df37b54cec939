/**
 * Planning a run's messages. Pure and deterministic: the same run, events and subject records
 * always plan the same messages with the same ids, so recording a replayed run changes nothing.
 *
 * Per cluster and run: one digest per channel the changes are routed to (follow-ups in its
 * thread when it does not fit), then, for each earlier digest something was resolved of, a reply
 * in its thread and an update of its status line.
 */
import type { DriftEvent, Finding } from '../audit/index.js';
import { changeName, changesOf, type Change, type Resolution } from './changes.js';
import type { PlannedMessage, Renderer, SubjectRecord } from './ports.js';
import { routeChange } from './routing.js';
import type { NotifySettings } from './settings.js';

/** One cluster's recorded run, as the scan hands it over. */
export interface RunToNotify {
  readonly cluster: string;
  /** The run's scheduled time (normalized ISO 8601): with the cluster, the identity of its messages. */
  readonly runId: string;
  readonly events: readonly DriftEvent[];
  /** The run's findings (severity and fix of the opened ones). */
  readonly findings: readonly Finding[];
  /** True for the cluster's first recorded run: the findings it opens are its baseline. */
  readonly firstRun?: boolean;
}

export interface PlannedRun {
  readonly cluster: string;
  readonly runId: string;
  readonly messages: PlannedMessage[];
  readonly subjects: SubjectRecord[];
  readonly resolved: { readonly digest: string; readonly keys: string[] }[];
  /** Changes announced, by channel. */
  readonly changes: readonly { readonly channel: string; readonly changes: readonly Change[] }[];
  /** Changes no route matched, with no default channel: not sent. */
  readonly unrouted: readonly Change[];
  /** Resolutions answered in threads. */
  readonly resolutions: readonly Resolution[];
}

/** A message's id within its cluster: `<runId>#<seq>`, seq zero-padded so ids sort in plan order. */
export function messageId(runId: string, seq: number): string {
  return `${runId}#${String(seq).padStart(4, '0')}`;
}

export function planRun(
  run: RunToNotify,
  subjects: ReadonlyMap<string, SubjectRecord>,
  settings: Pick<NotifySettings, 'channel' | 'routes' | 'announceFirstRun'>,
  render: Renderer,
): PlannedRun {
  const events =
    run.firstRun === true && !settings.announceFirstRun
      ? run.events.filter((e) => e.type !== 'finding-opened')
      : run.events;
  const { changes, resolutions } = changesOf(run.cluster, run.runId, events, run.findings, subjects);

  // Route: channels in the order of their most severe change.
  const byChannel = new Map<string, { changes: Change[]; mentions: string[] }>();
  const unrouted: Change[] = [];
  for (const change of changes) {
    const to = routeChange(change, settings.routes, settings.channel);
    if (to === null) {
      unrouted.push(change);
      continue;
    }
    let group = byChannel.get(to.channel);
    if (group === undefined) byChannel.set(to.channel, (group = { changes: [], mentions: [] }));
    group.changes.push(change);
    if (to.mention !== null && !group.mentions.includes(to.mention)) group.mentions.push(to.mention);
  }

  const messages: PlannedMessage[] = [];
  const records: SubjectRecord[] = [];
  let seq = 0;
  for (const [channel, group] of byChannel) {
    const payloads = render.digest({
      cluster: run.cluster,
      runId: run.runId,
      changes: group.changes,
      mentions: group.mentions,
    });
    const digest = messageId(run.runId, ++seq);
    const groups: Record<string, string> = {};
    for (const change of group.changes) {
      for (const s of change.subjects) {
        if (change.tracked) groups[s.key] = changeName(change);
        records.push({
          key: s.key,
          baseline: s.baseline,
          digest,
          channel,
          runId: run.runId,
          resolvedRunId: null,
          tracked: change.tracked,
        });
      }
    }
    payloads.forEach((payload, i) => {
      if (i === 0) messages.push({ seq, role: 'digest', channel, parent: null, payload, groups });
      else messages.push({ seq: ++seq, role: 'followup', channel, parent: digest, payload });
    });
  }

  const byDigest = new Map<string, Resolution[]>();
  for (const r of resolutions) {
    let list = byDigest.get(r.digest);
    if (list === undefined) byDigest.set(r.digest, (list = []));
    list.push(r);
  }
  const resolved: { digest: string; keys: string[] }[] = [];
  for (const digest of [...byDigest.keys()].sort()) {
    const list = byDigest.get(digest)!;
    const channel = list[0]!.channel;
    const replies = render.resolved({ cluster: run.cluster, runId: run.runId, events: list.map((r) => r.event) });
    for (const payload of replies) messages.push({ seq: ++seq, role: 'reply', channel, parent: digest, payload });
    // The status line changes only when something it follows was resolved.
    if (list.some((r) => r.tracked))
      messages.push({ seq: ++seq, role: 'status', channel, parent: digest, payload: null });
    resolved.push({ digest, keys: [...new Set(list.map((r) => r.subject))] });
  }

  return {
    cluster: run.cluster,
    runId: run.runId,
    messages,
    subjects: records,
    resolved,
    changes: [...byChannel].map(([channel, group]) => ({ channel, changes: group.changes })),
    unrouted,
    resolutions,
  };
}
