/**
 * Block Kit rendering of digests, resolution replies and status lines. Pure.
 *
 * Written for someone reading Slack on a phone: the header says the cluster and how much changed;
 * each change is one section saying what the namespace's labels were and are, which policies
 * stopped (or started) selecting it, what that opened, how severe it is and the command that fixes
 * it. Everything stays within Slack's limits (50 blocks a message, 3,000 characters a section,
 * 150 a header): a digest shows the most severe changes and says "and N more", the rest follow in
 * its thread.
 */
import type { Direction, DriftEvent, PolicyRef, Severity } from '../../audit/index.js';
import { SEVERITIES } from '../../audit/index.js';
import {
  CLUSTER_WIDE,
  changeName,
  type Change,
  type DigestContent,
  type FindingNote,
  type Impact,
  type ParentStatus,
  type ResolvedContent,
} from '../../notify/changes.js';
import type { Block, Payload, Renderer } from '../../notify/ports.js';

export const SLACK_LIMITS = {
  blocksPerMessage: 50,
  sectionText: 3_000,
  headerText: 150,
  contextElements: 10,
  /** Slack truncates `text` beyond 40,000 characters; notifications show far less. */
  text: 40_000,
} as const;

/** Changes shown in the digest itself; the rest go to its thread. */
export const DIGEST_CHANGES = 15;
/** Changes per follow-up message in the thread. */
export const FOLLOWUP_CHANGES = 40;
/** Section characters per message, so no message becomes a wall (Slack folds long ones anyway). */
const MESSAGE_CHARS = 12_000;
/** The fallback `text` stays short: it is what notifications and screen readers show. */
const TEXT_CHARS = 3_000;
/** The block id of the status line `withStatus` adds (and replaces). */
export const STATUS_BLOCK_ID = 'labelguard-status';

const EMOJI: Readonly<Record<Severity, string>> = {
  critical: ':rotating_light:',
  high: ':red_circle:',
  medium: ':large_orange_circle:',
  low: ':large_yellow_circle:',
  info: ':white_circle:',
};

// ---------------------------------------------------------------------------------------------
// Text helpers

/** Slack's mrkdwn needs `&`, `<` and `>` escaped everywhere, code spans included. */
export function escapeMrkdwn(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** An inline code span; backticks cannot be escaped inside one, so they become quotes. */
function code(text: string): string {
  return `\`${escapeMrkdwn(text.replace(/`/g, "'"))}\``;
}

/** Finding messages already use `code` spans: keep them, escape the rest. */
function prose(text: string): string {
  return escapeMrkdwn(text);
}

function truncate(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, Math.max(0, max - 1))}…`;
}

/** `2026-03-02T06:00:00.000Z` → `2026-03-02 06:00 UTC`. */
export function formatRunTime(runId: string): string {
  const m = /^(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2})/.exec(runId);
  return m ? `${m[1]} ${m[2]} UTC` : runId;
}

function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}

export function describePolicy(policy: PolicyRef): string {
  return `${policy.kind} ${code(policy.namespace === null ? policy.name : `${policy.namespace}/${policy.name}`)}`;
}

/** How a policy selects the namespace: as a peer of its ingress or egress rules, or as the namespace it applies to. */
function describeDirection(direction: Direction | null, now: boolean): string {
  if (direction === null) return now ? 'now applies to it' : 'no longer applies to it';
  return `${direction} peer`;
}

function describeImpact(impact: Impact, now: boolean): string {
  return `${describePolicy(impact.policy)} (${describeDirection(impact.direction, now)})`;
}

function describeLabelValue(key: string, value: string | null): string {
  return value === null ? '_none_' : code(`${key}=${value}`);
}

function describeLabelSet(labels: string): string {
  return labels === '' ? '_no labels_' : labels.split(',').map(code).join(' ');
}

function describeFinding(f: FindingNote): string {
  return `${code(f.rule)} ${prose(f.message)}`;
}

function severityCounts(changes: readonly Change[]): string {
  const counts = new Map<Severity, number>();
  for (const c of changes) counts.set(c.severity, (counts.get(c.severity) ?? 0) + 1);
  return [...SEVERITIES]
    .reverse()
    .filter((s) => counts.has(s))
    .map((s) => `${counts.get(s)} ${s}`)
    .join(', ');
}

function maxSeverity(changes: readonly Change[]): Severity {
  let best: Severity = 'info';
  for (const c of changes) if (SEVERITIES.indexOf(c.severity) > SEVERITIES.indexOf(best)) best = c.severity;
  return best;
}

// ---------------------------------------------------------------------------------------------
// Blocks

function header(text: string): Block {
  return { type: 'header', text: { type: 'plain_text', text: truncate(text, SLACK_LIMITS.headerText), emoji: true } };
}

function section(text: string): Block {
  return { type: 'section', text: { type: 'mrkdwn', text: truncate(text, SLACK_LIMITS.sectionText) } };
}

function context(texts: readonly string[], blockId?: string): Block {
  return {
    type: 'context',
    ...(blockId === undefined ? {} : { block_id: blockId }),
    elements: texts
      .slice(0, SLACK_LIMITS.contextElements)
      .map((text) => ({ type: 'mrkdwn', text: truncate(text, SLACK_LIMITS.sectionText) })),
  };
}

/** A list within a section: at most `cap` items, then "… and N more". */
function list(items: readonly string[], cap: number): string[] {
  const shown = items.slice(0, cap).map((i) => `• ${i}`);
  if (items.length > cap) shown.push(`• _… and ${items.length - cap} more_`);
  return shown;
}

/**
 * One change as one section: the namespace and severity, its labels before → after, the policies
 * that lost or gained it, the findings it opened and the fix. Lists are shortened until it fits
 * 3,000 characters; the full record is in `labelguard history`.
 */
export function changeText(change: Change): string {
  for (const cap of [Infinity, 20, 10, 5, 3, 1]) {
    const text = changeTextWith(change, cap);
    if (text.length <= SLACK_LIMITS.sectionText) return text;
  }
  return truncate(changeTextWith(change, 1, true), SLACK_LIMITS.sectionText);
}

function changeTextWith(change: Change, cap: number, terse = false): string {
  const name = change.namespace === null ? `_${CLUSTER_WIDE}_` : `*${escapeMrkdwn(change.namespace)}*`;
  const lines = [`${EMOJI[change.severity]} ${name} · ${change.severity.toUpperCase()}`];
  const clip = (s: string): string => (terse ? truncate(s, 200) : s);
  if (change.created !== null) lines.push(`*Created* with ${describeLabelSet(change.created)}`);
  if (change.deleted !== null) lines.push(`*Deleted* (it had ${describeLabelSet(change.deleted)})`);
  if (change.labels.length > 0) {
    lines.push('*Labels*');
    lines.push(
      ...list(
        change.labels.map((l) => `${describeLabelValue(l.key, l.before)} → ${describeLabelValue(l.key, l.after)}`),
        cap,
      ),
    );
  }
  if (change.lost.length > 0) {
    lines.push('*No longer selected by*');
    lines.push(
      ...list(
        change.lost.map((i) => describeImpact(i, false)),
        cap,
      ),
    );
  }
  if (change.gained.length > 0) {
    lines.push('*Now selected by*');
    lines.push(
      ...list(
        change.gained.map((i) => describeImpact(i, true)),
        cap,
      ),
    );
  }
  if (change.opened.length > 0) {
    lines.push('*Opened*');
    lines.push(
      ...list(
        change.opened.map((f) => clip(describeFinding(f))),
        cap,
      ),
    );
  }
  if (change.resolved.length > 0) {
    lines.push('*Resolved*');
    lines.push(
      ...list(
        change.resolved.map((f) => clip(describeFinding(f))),
        cap,
      ),
    );
  }
  if (
    change.lost.length === 0 &&
    change.opened.length === 0 &&
    change.labels.length > 0 &&
    change.gained.length === 0
  ) {
    lines.push('_No policy selects differently._');
  }
  if (change.fixes.length > 0) {
    const fixes = change.fixes.slice(0, Math.min(cap, 3)).map((f) => escapeMrkdwn(truncate(f, terse ? 300 : 1_000)));
    lines.push('*Fix*', `\`\`\`${fixes.join('\n')}\`\`\``);
  }
  const text = lines.join('\n');
  if (cap !== Infinity && change.namespace !== null && text.length < SLACK_LIMITS.sectionText - 120) {
    return `${text}\n_Full list: ${code(`labelguard history --cluster ${change.cluster} --namespace ${change.namespace}`)}_`;
  }
  return text;
}

/** One line per change, for the fallback text, logs and dry runs. */
export function changeSummary(change: Change): string {
  const parts: string[] = [];
  if (change.created !== null) parts.push('created');
  if (change.deleted !== null) parts.push('deleted');
  if (change.labels.length > 0) {
    parts.push(
      change.labels
        .slice(0, 3)
        .map(
          (l) =>
            `${l.before === null ? '(none)' : `${l.key}=${l.before}`} → ${l.after === null ? '(none)' : `${l.key}=${l.after}`}`,
        )
        .join(', ') + (change.labels.length > 3 ? ', …' : ''),
    );
  }
  if (change.lost.length > 0) parts.push(`no longer selected by ${plural(change.lost.length, 'policy', 'policies')}`);
  if (change.gained.length > 0) parts.push(`now selected by ${plural(change.gained.length, 'policy', 'policies')}`);
  if (change.opened.length > 0) parts.push(`${plural(change.opened.length, 'finding')} opened`);
  if (change.resolved.length > 0) parts.push(`${plural(change.resolved.length, 'finding')} resolved`);
  return `${changeName(change)} (${change.severity}): ${parts.join('; ')}`;
}

// ---------------------------------------------------------------------------------------------
// Digests

/** Splits sections into messages of at most `count` sections and about `chars` characters. */
function chunk(texts: readonly string[], count: number, chars: number): string[][] {
  const out: string[][] = [];
  let current: string[] = [];
  let size = 0;
  for (const t of texts) {
    if (current.length > 0 && (current.length >= count || size + t.length > chars)) {
      out.push(current);
      current = [];
      size = 0;
    }
    current.push(t);
    size += t.length;
  }
  if (current.length > 0) out.push(current);
  return out;
}

export function renderDigest(content: DigestContent): Payload[] {
  const { cluster, runId, changes } = content;
  const when = formatRunTime(runId);
  const texts = changes.map(changeText);
  const [first = []] = chunk(texts, DIGEST_CHANGES, MESSAGE_CHARS);
  const shown = first.length;
  const rest = chunk(texts.slice(shown), FOLLOWUP_CHANGES, MESSAGE_CHARS);
  const more = changes.length - shown;
  const top = maxSeverity(changes);

  const lost = changes.reduce((n, c) => n + c.lost.length, 0);
  const opened = changes.reduce((n, c) => n + c.opened.length, 0);
  const facts = [
    ...(lost > 0 ? [`${plural(lost, 'policy selection')} lost`] : []),
    ...(opened > 0 ? [`${plural(opened, 'finding')} opened`] : []),
    `run ${when}`,
  ];
  const blocks: Block[] = [
    header(`${EMOJI[top]} ${cluster}: ${plural(changes.length, 'change')} (${severityCounts(changes)})`),
    context([facts.join(' · ')]),
  ];
  if (content.mentions.length > 0) {
    blocks.push(section(`${content.mentions.join(' ')} please review (${severityCounts(changes)})`));
  }
  for (const t of first) blocks.push(section(t));
  if (more > 0) {
    blocks.push(
      context([
        `_… and ${plural(more, 'more change')} (${severityCounts(changes.slice(shown))}): the full list is in the thread._`,
      ]),
    );
  }

  const textLines = [
    `labelguard: ${cluster}: ${plural(changes.length, 'change')} (${severityCounts(changes)}) in run ${when}`,
    ...changes.slice(0, 10).map((c) => `• ${changeSummary(c)}`),
    ...(changes.length > 10 ? [`… and ${changes.length - 10} more`] : []),
  ];
  const mentions = content.mentions.length > 0 ? `${content.mentions.join(' ')} ` : '';
  const main: Payload = { text: truncate(mentions + escapeMrkdwn(textLines.join('\n')), TEXT_CHARS), blocks };

  const followups: Payload[] = [];
  let from = shown;
  for (const part of rest) {
    const to = from + part.length;
    followups.push({
      text: truncate(
        escapeMrkdwn(`labelguard: ${cluster}: changes ${from + 1}–${to} of ${changes.length} (run ${when})`),
        TEXT_CHARS,
      ),
      blocks: [
        context([`*${escapeMrkdwn(cluster)}* · changes ${from + 1}–${to} of ${changes.length} · run ${when}`]),
        ...part.map(section),
      ],
    });
    from = to;
  }
  return [main, ...followups];
}

// ---------------------------------------------------------------------------------------------
// Resolutions

function describeResolved(e: DriftEvent): string {
  switch (e.type) {
    case 'label-added':
    case 'label-changed':
      return `${code(e.key ?? '')} is back to ${code(e.after ?? '')}`;
    case 'label-removed':
      return `${code(e.key ?? '')} is gone again`;
    case 'selection-gained':
      return `selected again by ${describeImpact({ policy: e.policy!, direction: e.direction }, true)}`;
    case 'selection-lost':
      return `no longer selected by ${describeImpact({ policy: e.policy!, direction: e.direction }, false)}`;
    case 'namespace-created':
      return 'the namespace is back';
    case 'namespace-deleted':
      return 'the namespace is gone again';
    case 'finding-resolved':
      return `${code(e.key ?? '')} resolved: ${prose(e.before ?? '')}`;
    case 'finding-opened':
      return `${code(e.key ?? '')} opened again: ${prose(e.after ?? '')}`;
  }
}

export function renderResolved(content: ResolvedContent): Payload[] {
  const when = formatRunTime(content.runId);
  const byNamespace = new Map<string, string[]>();
  for (const e of content.events) {
    const name = e.namespace ?? CLUSTER_WIDE;
    let lines = byNamespace.get(name);
    if (lines === undefined) byNamespace.set(name, (lines = []));
    lines.push(describeResolved(e));
  }
  const names = [...byNamespace.keys()].sort();
  const texts = names.map((name) => {
    const lines = byNamespace.get(name)!;
    const title = `:white_check_mark: *${escapeMrkdwn(name)}*`;
    for (const cap of [Infinity, 10, 3, 1]) {
      const text = [title, ...list(lines, cap)].join('\n');
      if (text.length <= SLACK_LIMITS.sectionText) return text;
    }
    return truncate(
      [
        title,
        ...list(
          lines.map((l) => truncate(l, 500)),
          1,
        ),
      ].join('\n'),
      SLACK_LIMITS.sectionText,
    );
  });
  const parts = chunk(texts, FOLLOWUP_CHANGES, MESSAGE_CHARS);
  return parts.map((part, i) => ({
    text: truncate(
      escapeMrkdwn(
        `labelguard: ${content.cluster}: resolved in run ${when}: ${names.join(', ')}${parts.length > 1 ? ` (part ${i + 1} of ${parts.length})` : ''}`,
      ),
      TEXT_CHARS,
    ),
    blocks: [
      section(
        `:white_check_mark: *Resolved* in run ${when}${parts.length > 1 ? ` (part ${i + 1} of ${parts.length})` : ''}`,
      ),
      ...part.map(section),
    ],
  }));
}

// ---------------------------------------------------------------------------------------------
// Status line

function names(list: readonly string[], max = 8): string {
  const shown = list.slice(0, max).map((n) => (n === CLUSTER_WIDE ? `_${n}_` : code(n)));
  return list.length > max ? `${shown.join(', ')} and ${list.length - max} more` : shown.join(', ');
}

export function statusText(status: ParentStatus): string {
  const when = formatRunTime(status.runId);
  if (status.total > 0 && status.open.length === 0) {
    return `:white_check_mark: *${status.total === 1 ? 'Resolved' : `All ${status.total} changes resolved`}* (as of run ${when})`;
  }
  return `:white_check_mark: *${status.resolved.length} of ${plural(status.total, 'change')} resolved* (as of run ${when}): ${names(status.resolved)} · still open: ${names(status.open)}`;
}

export function renderWithStatus(parent: Payload, status: ParentStatus): Payload {
  const blocks = parent.blocks.filter((b) => b.block_id !== STATUS_BLOCK_ID);
  if (blocks.length >= SLACK_LIMITS.blocksPerMessage) blocks.splice(SLACK_LIMITS.blocksPerMessage - 1);
  blocks.push(context([statusText(status)], STATUS_BLOCK_ID));
  const done = status.total > 0 && status.open.length === 0;
  const base = parent.text.replace(/^✅ (Resolved|\d+ of \d+ resolved) · /, '');
  const prefix = done ? '✅ Resolved · ' : `✅ ${status.resolved.length} of ${status.total} resolved · `;
  return { text: truncate(`${prefix}${base}`, TEXT_CHARS), blocks };
}

// ---------------------------------------------------------------------------------------------
// Limits

/** Every way a payload breaks Slack's limits (empty when it is valid). */
export function slackLimitProblems(payload: Payload): string[] {
  const problems: string[] = [];
  if (payload.text.length === 0) problems.push('empty text');
  if (payload.text.length > SLACK_LIMITS.text) problems.push(`text has ${payload.text.length} characters`);
  if (payload.blocks.length === 0) problems.push('no blocks');
  if (payload.blocks.length > SLACK_LIMITS.blocksPerMessage) problems.push(`${payload.blocks.length} blocks`);
  const ids = new Set<string>();
  payload.blocks.forEach((b, i) => {
    if (typeof b.block_id === 'string') {
      if (ids.has(b.block_id)) problems.push(`block ${i}: duplicate block_id`);
      ids.add(b.block_id);
    }
    const text = (b.text as { text?: unknown } | undefined)?.text;
    if (
      b.type === 'header' &&
      (typeof text !== 'string' || text.length === 0 || text.length > SLACK_LIMITS.headerText)
    ) {
      problems.push(`block ${i}: header text of ${String(typeof text === 'string' ? text.length : text)}`);
    }
    if (
      b.type === 'section' &&
      (typeof text !== 'string' || text.length === 0 || text.length > SLACK_LIMITS.sectionText)
    ) {
      problems.push(`block ${i}: section text of ${String(typeof text === 'string' ? text.length : text)}`);
    }
    if (b.type === 'context') {
      const elements = b.elements as readonly { text?: unknown }[] | undefined;
      if (!Array.isArray(elements) || elements.length === 0 || elements.length > SLACK_LIMITS.contextElements) {
        problems.push(`block ${i}: context with ${elements?.length ?? 0} elements`);
      }
      for (const e of elements ?? []) {
        if (typeof e.text !== 'string' || e.text.length === 0 || e.text.length > SLACK_LIMITS.sectionText) {
          problems.push(`block ${i}: context element text`);
        }
      }
    }
  });
  return problems;
}

/** The Slack renderer. */
export const slackRenderer: Renderer = {
  digest: renderDigest,
  resolved: renderResolved,
  withStatus: renderWithStatus,
  summary: changeSummary,
};
