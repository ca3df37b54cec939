/**
 * Memoising compiled selectors by their text. Thousands of policies repeat a few selectors
 * (`{matchLabels: {app: web}}`, `app == 'api'`), and compiling one is a pure function of its text,
 * so each distinct selector is compiled once. Only successful compilations are kept: an invalid
 * selector is compiled again each time, so its messages still name the field it sits in.
 */

/** Entries kept before a memo starts over (bounds memory in long-lived processes). */
const MAX_ENTRIES = 50_000;

export class SelectorMemo<V> {
  private readonly entries = new Map<string, V>();

  get(key: string): V | undefined {
    return this.entries.get(key);
  }

  set(key: string, value: V): void {
    if (this.entries.size >= MAX_ENTRIES) this.entries.clear();
    this.entries.set(key, value);
  }
}

/** Deepest nesting `jsonKey` looks into; anything deeper is not memoised. */
const MAX_DEPTH = 16;

/**
 * The JSON text of a value made only of strings, finite numbers, booleans, null, arrays and plain
 * objects (data as a JSON or YAML parser builds it), which stands for exactly that value; undefined
 * for anything else (undefined members, functions, dates, class instances, ...), which the caller
 * then compiles without memoising.
 */
export function jsonKey(value: unknown): string | undefined {
  return isPlainJson(value, 0) ? JSON.stringify(value) : undefined;
}

function isPlainJson(v: unknown, depth: number): boolean {
  switch (typeof v) {
    case 'string':
    case 'boolean':
      return true;
    case 'number':
      return Number.isFinite(v) && !Object.is(v, -0);
    case 'object': {
      if (v === null) return true;
      if (depth >= MAX_DEPTH) return false;
      if (Array.isArray(v)) {
        if (Object.getPrototypeOf(v) !== Array.prototype) return false;
        for (let i = 0; i < v.length; i++) if (!(i in v) || !isPlainJson(v[i], depth + 1)) return false;
        return true;
      }
      const proto: unknown = Object.getPrototypeOf(v);
      if (proto !== Object.prototype && proto !== null) return false;
      const record = v as Record<string, unknown>;
      for (const key in record)
        if (!Object.prototype.hasOwnProperty.call(record, key) || !isPlainJson(record[key], depth + 1)) return false;
      return true;
    }
    default:
      return false;
  }
}
