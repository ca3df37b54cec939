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
