/** Small, total helpers for reading untyped JSON policy bodies without throwing. */
import type { ResourceObject } from '../model.js';

export type Json = Readonly<Record<string, unknown>>;

export function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function objectAt(v: unknown, key: string): Json | undefined {
  if (!isObject(v)) return undefined;
  const x = v[key];
  return isObject(x) ? x : undefined;
}

/** The array at key, [] when absent; undefined when present but not an array. */
export function arrayAt(v: unknown, key: string): readonly unknown[] | undefined {
  if (!isObject(v)) return [];
  const x = v[key];
  if (x === undefined || x === null) return [];
  return Array.isArray(x) ? (x as unknown[]) : undefined;
}

export function has(v: unknown, key: string): boolean {
  return isObject(v) && v[key] !== undefined && v[key] !== null;
}

export function specOf(obj: ResourceObject): Json | undefined {
  return objectAt(obj.body, 'spec');
}

export function errorMessage(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

const fieldPaths = new Map<string, string>();

/**
 * One shared copy of a field path (`spec.ingress[0].from[1]`): every policy has the same few, and a
 * peer keeps its path for as long as the result lives, so thousands of copies would add up.
 */
export function fieldPath(path: string): string {
  const known = fieldPaths.get(path);
  if (known !== undefined) return known;
  if (fieldPaths.size >= 10_000) fieldPaths.clear();
  fieldPaths.set(path, path);
  return path;
}

const peerPaths = new Map<string, Map<string, string[][]>>();
/** Rules and peers past this index are rare: their paths go through fieldPath only. */
const MAX_CACHED_INDEX = 64;

/** `spec.<section>[r].<list>[j]` (`spec.ingress[0].from[1]`), shared like fieldPath and built once. */
export function peerPath(section: string, r: number, list: string, j: number): string {
  if (r >= MAX_CACHED_INDEX || j >= MAX_CACHED_INDEX) return fieldPath(`spec.${section}[${r}].${list}[${j}]`);
  let bySection = peerPaths.get(section);
  if (bySection === undefined) peerPaths.set(section, (bySection = new Map<string, string[][]>()));
  let byRule = bySection.get(list);
  if (byRule === undefined) bySection.set(list, (byRule = []));
  const byPeer = (byRule[r] ??= []);
  return (byPeer[j] ??= fieldPath(`spec.${section}[${r}].${list}[${j}]`));
}
