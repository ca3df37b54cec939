/** `history --format json`: `{ "events": [...] }`, oldest first, every entry with its `at`; keys in a fixed order. */
import type { HistoryEntry } from '../ports.js';

export function formatHistoryJson(entries: readonly HistoryEntry[]): string {
  return `${JSON.stringify({ events: entries.map(orderEntry) }, null, 2)}\n`;
}

function orderEntry(e: HistoryEntry): Record<string, unknown> {
  return {
    at: e.at,
    run: e.run,
    type: e.type,
    cluster: e.cluster,
    namespace: e.namespace,
    key: e.key,
    before: e.before,
    after: e.after,
    policy: e.policy === null ? null : { kind: e.policy.kind, namespace: e.policy.namespace, name: e.policy.name },
    direction: e.direction,
    labels: e.labels,
    version: e.version,
    status: e.status,
    counts: e.counts,
    firstSeen: e.firstSeen,
    lastSeen: e.lastSeen,
  };
}
