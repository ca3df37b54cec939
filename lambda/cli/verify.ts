/** `labelguard verify`: walk each cluster's hash chain; exit 1 when a link is broken. */
import { UsageError } from '../errors.js';
import type { ChainVerification } from '../ports.js';
import { openStore } from './open-store.js';
import { readConfig } from './settings.js';

export interface VerifyOptions {
  readonly cluster?: string;
  readonly format?: string;
  readonly config?: string;
  readonly storeDir?: string;
}

export async function verifyCommand(opts: VerifyOptions): Promise<number> {
  const { config } = await readConfig(opts.config);
  const opened = await openStore(config, { storeDir: opts.storeDir, mustExist: true });
  const results: ChainVerification[] = [];
  try {
    const known = await opened.store.clusters();
    if (opts.cluster !== undefined && !known.includes(opts.cluster)) {
      throw new UsageError(`no recorded runs of cluster ${JSON.stringify(opts.cluster)} in the ${opened.location}`);
    }
    for (const cluster of opts.cluster === undefined ? known : [opts.cluster])
      results.push(await opened.store.verify(cluster));
  } finally {
    await opened.close();
  }
  const ok = results.every((r) => r.ok);
  if (opts.format === 'json') {
    process.stdout.write(`${JSON.stringify({ ok, clusters: results }, null, 2)}\n`);
  } else if (results.length === 0) {
    process.stdout.write(`no recorded runs in the ${opened.location}\n`);
  } else {
    for (const r of results) process.stdout.write(`${describeVerification(r)}\n`);
  }
  return ok ? 0 : 1;
}

export function describeVerification(r: ChainVerification): string {
  const range =
    r.first && r.last ? `runs ${r.first.seq}-${r.last.seq}, ${r.first.runId} to ${r.last.runId}` : 'no runs';
  const expiry = r.startsAfterExpiry ? '; earlier runs expired' : '';
  if (r.ok) return `${r.cluster}: chain intact (${r.runs} ${r.runs === 1 ? 'run' : 'runs'}: ${range}${expiry})`;
  const b = r.broken!;
  return `${r.cluster}: chain BROKEN at run ${b.seq}${b.runId ? ` (${b.runId})` : ''}: ${b.reason}: ${b.message}`;
}
