/** `history --format table`: one aligned line per entry, oldest first. */
import type { HistoryEntry } from '../ports.js';
import { describeHistoryEntry } from './history-describe.js';

const HEADERS = ['AT', 'CLUSTER', 'NAMESPACE', 'TYPE', 'CHANGE'] as const;

export function formatHistoryTable(entries: readonly HistoryEntry[]): string {
  if (entries.length === 0) return 'no recorded runs match\n';
  const rows = entries.map((e) => [e.at, e.cluster, e.namespace ?? '-', e.type, describeHistoryEntry(e)].map(clean));
  const widths = HEADERS.slice(0, 4).map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: readonly string[]): string =>
    cells
      .map((c, i) => (i < 4 ? c.padEnd(widths[i]!) : c))
      .join('  ')
      .trimEnd();
  return `${[line(HEADERS), ...rows.map(line)].join('\n')}\n`;
}

/** Untrusted text from clusters: control characters and bidi overrides become U+FFFD. */
function clean(text: string): string {
  return (
    text
      .replace(/[\t\n\r]/g, ' ')
      // eslint-disable-next-line no-control-regex -- finding control characters is the point
      .replace(/[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g, '\ufffd')
  );
}
