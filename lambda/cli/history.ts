/** `labelguard history`: the recorded timeline of one cluster or all of them. */
import { writeFile } from 'node:fs/promises';
import { UsageError } from '../errors.js';
import type { HistoryEntry } from '../ports.js';
import { formatHistoryCsv } from '../report/history-csv.js';
import { formatHistoryJson } from '../report/history-json.js';
import { formatHistoryTable } from '../report/history-table.js';
import { openStore } from './open-store.js';
import { readConfig } from './settings.js';
import { parseTimeOption } from './time-option.js';

export interface HistoryOptions {
  readonly cluster?: string;
  readonly namespace?: string;
  readonly since?: string;
  readonly until?: string;
  readonly format?: string;
  readonly output?: string;
  readonly config?: string;
  readonly storeDir?: string;
}

export async function historyCommand(opts: HistoryOptions): Promise<number> {
  const { config } = await readConfig(opts.config);
  const since = opts.since === undefined ? undefined : parseTimeOption('--since', opts.since, 'start');
  const until = opts.until === undefined ? undefined : parseTimeOption('--until', opts.until, 'end');
  const opened = await openStore(config, { storeDir: opts.storeDir, mustExist: true });
  let entries: HistoryEntry[];
  try {
    const known = await opened.store.clusters();
    if (opts.cluster !== undefined && !known.includes(opts.cluster)) {
      throw new UsageError(
        `no recorded runs of cluster ${JSON.stringify(opts.cluster)} in the ${opened.location}${known.length > 0 ? ` (recorded: ${known.join(', ')})` : ''}`,
      );
    }
    entries = [];
    for (const cluster of opts.cluster === undefined ? known : [opts.cluster]) {
      entries.push(
        ...(await opened.store.history({
          cluster,
          ...(opts.namespace === undefined ? {} : { namespace: opts.namespace }),
          ...(since === undefined ? {} : { since }),
          ...(until === undefined ? {} : { until }),
        })),
      );
    }
  } finally {
    await opened.close();
  }
  // Clusters merge by time; each cluster's own order is kept (the sort is stable).
  entries.sort((a, b) => (a.at < b.at ? -1 : a.at > b.at ? 1 : 0));
  const text =
    opts.format === 'json'
      ? formatHistoryJson(entries)
      : opts.format === 'csv'
        ? formatHistoryCsv(entries)
        : formatHistoryTable(entries);
  if (opts.output !== undefined) await writeFile(opts.output, text);
  else process.stdout.write(text);
  return 0;
}
