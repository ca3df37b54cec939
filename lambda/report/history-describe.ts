/** One line of words per drift event and history entry, shared by every history format. */
import type { DriftEvent, Finding, PolicyRef } from '../audit/model.js';
import type { HistoryEntry } from '../ports.js';
import { describeLocation, describePolicy } from './describe.js';

const code = (text: string): string => `\`${text}\``;

function policyText(policy: PolicyRef | null): string {
  return policy === null ? 'a policy' : code(describePolicy(policy));
}

/**
 * `label \`ns\` removed from \`team-b\` (was \`team-b\`)`, `\`monitoring/allow-teams\` egress no longer
 * selects \`team-b\``, ... A `brief` finding event names the rule and where, not the whole message
 * (the scan report lists the findings themselves just above).
 */
export function describeDriftEvent(e: DriftEvent, detail: 'full' | 'brief' = 'full'): string {
  const ns = e.namespace === null ? 'the cluster' : code(e.namespace);
  switch (e.type) {
    case 'label-removed':
      return `label ${code(e.key ?? '')} removed from ${ns} (was ${code(e.before ?? '')})`;
    case 'label-changed':
      return `label ${code(e.key ?? '')} of ${ns} changed from ${code(e.before ?? '')} to ${code(e.after ?? '')}`;
    case 'label-added':
      return `label ${code(`${e.key ?? ''}=${e.after ?? ''}`)} added to ${ns}`;
    case 'namespace-created':
      return `namespace ${ns} created${e.after ? ` with ${code(e.after)}` : ' without labels'}`;
    case 'namespace-deleted':
      return `namespace ${ns} deleted`;
    case 'selection-lost':
      return e.direction === null
        ? `${policyText(e.policy)} no longer applies to ${ns}`
        : `${policyText(e.policy)} ${e.direction} no longer selects ${ns}`;
    case 'selection-gained':
      return e.direction === null
        ? `${policyText(e.policy)} now applies to ${ns}`
        : `${policyText(e.policy)} ${e.direction} now selects ${ns}`;
    case 'finding-opened':
      return `new ${e.key ?? 'finding'}${detail === 'brief' ? where(e) : `: ${e.after ?? ''}`}`;
    case 'finding-resolved':
      return `resolved ${e.key ?? 'finding'}${detail === 'brief' ? where(e) : `: ${e.before ?? ''}`}`;
  }
}

function where(e: DriftEvent): string {
  const location = describeLocation({ namespace: e.namespace, policy: e.policy } as Pick<
    Finding,
    'namespace' | 'policy'
  > as Finding);
  return location === null ? '' : ` at ${code(location)}`;
}

/** A history entry in words: a run, a label version or a drift event. */
export function describeHistoryEntry(entry: HistoryEntry): string {
  if (entry.type === 'run') {
    const c = entry.counts;
    const counts =
      c === undefined ? '' : `: ${c.namespaces} namespaces, ${c.policies} policies, ${c.findings} findings`;
    return `run ${entry.run} ${entry.status ?? ''}${counts}`;
  }
  if (entry.type === 'labels') {
    const labels = entry.labels;
    const text =
      labels === null || labels === undefined
        ? 'deleted'
        : Object.keys(labels).length === 0
          ? 'no labels'
          : Object.keys(labels)
              .sort()
              .map((k) => `${k}=${labels[k]}`)
              .join(', ');
    return `${code(entry.namespace ?? '')} labels v${entry.version ?? '?'}: ${text}`;
  }
  return describeDriftEvent(entry as DriftEvent);
}
