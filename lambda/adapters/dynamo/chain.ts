/**
 * The hash chain: each run record carries the SHA-256 of its own canonical content, the hash of
 * the previous run record of the same cluster, and a digest of every item the run wrote. Walking
 * the chain finds an altered record (its hash), a removed or reordered one (the links), and an
 * altered, added or removed change item (the digests).
 */
import type { ChainVerification, RunRecord } from '../../ports.js';
import { hashOf, sha256Hex } from './canonical.js';
import type { RunData } from './items.js';

/** The run record's hash: SHA-256 over its canonical JSON with `hash` left out. */
export function runHash(record: Omit<RunData, 'hash'> & { hash?: string }): string {
  return hashOf({ ...record, hash: undefined });
}

/** The digest of what a run wrote: its items' sort keys and the SHA-256 of each payload, in key order. */
export function changesDigest(items: readonly (readonly [sk: string, data: string])[]): string {
  return hashOf(
    items.map(([sk, data]) => [sk, sha256Hex(data)]).sort((a, b) => (a[0]! < b[0]! ? -1 : a[0]! > b[0]! ? 1 : 0)),
  );
}

export interface ChainInput {
  readonly cluster: string;
  /** Every run record found, as stored: the seq of its key and its parsed payload. */
  readonly runs: readonly { readonly keySeq: number; readonly data: RunData }[];
  /** The committed change items by run seq: sort key and payload. */
  readonly changes: ReadonlyMap<number, readonly (readonly [string, string])[]>;
  /** The latest run a later lease saw (the HEAD item), if any. */
  readonly seen: { readonly seq: number; readonly hash: string } | null;
  /** Now, in epoch seconds: records past their expiry may be gone. */
  readonly now: number;
}

const DAY_SECONDS = 86_400;

export function verifyChain(input: ChainInput): ChainVerification {
  const runs = [...input.runs].sort((a, b) => a.keySeq - b.keySeq);
  const base = {
    cluster: input.cluster,
    runs: runs.length,
    first: runs[0] ? { seq: runs[0].keySeq, runId: runs[0].data.runId } : null,
    last: runs.at(-1) ? { seq: runs.at(-1)!.keySeq, runId: runs.at(-1)!.data.runId } : null,
  };
  let startsAfterExpiry = false;
  const broken = (
    seq: number,
    runId: string | null,
    reason: NonNullable<ChainVerification['broken']>['reason'],
    message: string,
  ): ChainVerification => ({
    ...base,
    ok: false,
    startsAfterExpiry,
    broken: { seq, runId, reason, message },
  });

  let previous: RunRecord | null = null;
  for (const { keySeq, data } of runs) {
    const label = `run ${keySeq} (${data.runId ?? 'unknown time'})`;
    if (runHash(data) !== data.hash || data.seq !== keySeq || data.cluster !== input.cluster) {
      return broken(
        keySeq,
        data.runId ?? null,
        'hash-mismatch',
        `${label}: the record was altered: its content does not match its hash`,
      );
    }
    if (previous === null) {
      if (keySeq !== 1) {
        // The first record kept: the runs before it may have expired, but not before their time.
        const prevExpiry =
          data.prevRunId === null ? null : Date.parse(data.prevRunId) / 1000 + data.retentionDays * DAY_SECONDS;
        if (prevExpiry === null || prevExpiry > input.now) {
          return broken(
            keySeq - 1,
            data.prevRunId,
            'missing-run',
            `run ${keySeq - 1} (${data.prevRunId ?? 'unknown time'}) is missing, and it was not due to expire yet`,
          );
        }
        startsAfterExpiry = true;
      } else if (data.prevHash !== null) {
        return broken(keySeq, data.runId, 'link-mismatch', `${label}: the first run links to a previous one`);
      }
    } else {
      if (keySeq !== previous.seq + 1) {
        return broken(
          previous.seq + 1,
          null,
          'missing-run',
          `run ${previous.seq + 1} is missing: run ${keySeq} follows run ${previous.seq}`,
        );
      }
      if (data.prevHash !== previous.hash || data.prevRunId !== previous.runId) {
        return broken(
          keySeq,
          data.runId,
          'link-mismatch',
          `${label}: its link does not match the hash of run ${previous.seq}`,
        );
      }
    }
    // A record past its expiry may lose its items to TTL in any order: its changes are no longer evidence.
    if (data.expiresAt > input.now && changesDigest(input.changes.get(keySeq) ?? []) !== data.changes.digest) {
      return broken(
        keySeq,
        data.runId,
        'changes-mismatch',
        `${label}: the items it recorded were altered, added or removed`,
      );
    }
    previous = data;
  }
  if (input.seen !== null && input.seen.seq > 0) {
    const seen = runs.find((r) => r.keySeq === input.seen!.seq);
    if (previous === null || input.seen.seq > previous.seq) {
      return broken(
        input.seen.seq,
        null,
        'head-mismatch',
        `run ${input.seen.seq} was recorded (a later run saw it) but is missing`,
      );
    }
    if (seen !== undefined && seen.data.hash !== input.seen.hash) {
      return broken(
        input.seen.seq,
        seen.data.runId,
        'head-mismatch',
        `run ${input.seen.seq} differs from the record a later run saw`,
      );
    }
  }
  return { ...base, ok: true, startsAfterExpiry, broken: null };
}
