/**
 * What the store's items hold, and how their payload is encoded. Every item a run writes keeps its
 * logical content as one JSON string (`data`, or gzip in `dataGz` when large): JSON keeps label
 * order, and the exact string is what the run's changes digest covers.
 */
import { gunzipSync, gzipSync } from 'node:zlib';
import type { DriftEvent, Finding, Labels, ResourceObject } from '../../audit/index.js';
import { StoreError } from '../../errors.js';
import type { RunRecord } from '../../ports.js';

export type Item = Record<string, unknown>;

/** A namespace version: its labels from this run on; null once deleted. */
export interface NamespaceData {
  readonly name: string;
  readonly labels: Labels | null;
}

/** A policy object version; null once deleted. */
export interface PolicyData {
  readonly key: string;
  readonly object: ResourceObject | null;
}

/** A finding version: opened (or changed while open), or resolved. */
export interface FindingData {
  /** `findingKey` (with its occurrence suffix). */
  readonly key: string;
  readonly state: 'open' | 'resolved';
  readonly finding: Finding;
  readonly openedSeq: number;
  readonly openedAt: string;
  /** Resolved: the last run that still saw it. */
  readonly lastSeenAt?: string;
}

/** A drift event as stored: finding events also say when the finding was first and last seen. */
export type StoredEvent = DriftEvent & { readonly firstSeen?: string; readonly lastSeen?: string };

export interface EventsData {
  readonly events: readonly StoredEvent[];
}

/** The run record as stored: the port's RunRecord plus the token of the attempt that committed it. */
export type RunData = RunRecord & { readonly token: string };

/** Payloads above this many characters are stored gzipped. */
const GZIP_ABOVE = 32 * 1024;
/** DynamoDB's limit is 400 KB per item; keys and attributes need a little room. */
const MAX_PAYLOAD_BYTES = 380 * 1024;

export function encodeData(json: string, what: string): { data: string } | { dataGz: Uint8Array } {
  if (json.length <= GZIP_ABOVE) return { data: json };
  const gz = gzipSync(Buffer.from(json, 'utf8'));
  if (gz.length > MAX_PAYLOAD_BYTES) {
    throw new StoreError(`${what} is too large to store (${gz.length} bytes gzipped; DynamoDB items hold 400 KB)`);
  }
  return { dataGz: new Uint8Array(gz.buffer, gz.byteOffset, gz.length) };
}

export function dataOf(item: Item): string {
  if (typeof item.data === 'string') return item.data;
  if (item.dataGz instanceof Uint8Array) return gunzipSync(item.dataGz).toString('utf8');
  throw new StoreError(`item ${String(item.sk)} has no data`);
}

export function parseData<T>(item: Item): T {
  return JSON.parse(dataOf(item)) as T;
}

export function seqOf(item: Item): number {
  const seq = item.seq;
  if (typeof seq !== 'number') throw new StoreError(`item ${String(item.sk)} has no seq`);
  return seq;
}

export function skOf(item: Item): string {
  return String(item.sk);
}
