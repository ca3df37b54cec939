/**
 * An index over one cluster's namespaces, built once per snapshot, that evaluates a LabelQuery
 * against every namespace at once with set operations on bitsets instead of testing every
 * namespace against every selector term.
 */
import type { Labels, Namespace } from './model.js';
import { NAME_KEY, parseInt64, queryKey, type LabelQuery } from './selectors/query.js';

export const METADATA_NAME_LABEL = 'kubernetes.io/metadata.name';

/** A set of namespaces as a bitset over the index's namespace numbering. */
export class NsSet {
  readonly words: Uint32Array;
  constructor(
    readonly size: number,
    words?: Uint32Array,
  ) {
    this.words = words ?? new Uint32Array((size + 31) >>> 5);
  }
  static full(size: number): NsSet {
    const s = new NsSet(size);
    s.words.fill(0xffffffff);
    s.trim();
    return s;
  }
  private trim(): void {
    const extra = this.size & 31;
    if (extra !== 0 && this.words.length > 0) this.words[this.words.length - 1]! &= 0xffffffff >>> (32 - extra);
  }
  add(i: number): void {
    this.words[i >>> 5]! |= 1 << (i & 31);
  }
  has(i: number): boolean {
    return (this.words[i >>> 5]! & (1 << (i & 31))) !== 0;
  }
  and(o: NsSet): NsSet {
    const w = new Uint32Array(this.words.length);
    for (let i = 0; i < w.length; i++) w[i] = this.words[i]! & o.words[i]!;
    return new NsSet(this.size, w);
  }
  or(o: NsSet): NsSet {
    const w = new Uint32Array(this.words.length);
    for (let i = 0; i < w.length; i++) w[i] = this.words[i]! | o.words[i]!;
    return new NsSet(this.size, w);
  }
  not(): NsSet {
    const w = new Uint32Array(this.words.length);
    for (let i = 0; i < w.length; i++) w[i] = ~this.words[i]! >>> 0;
    const s = new NsSet(this.size, w);
    s.trim();
    return s;
  }
  isEmpty(): boolean {
    for (const x of this.words) if (x !== 0) return false;
    return true;
  }
  count(): number {
    let n = 0;
    for (let x of this.words) {
      x = x - ((x >>> 1) & 0x55555555);
      x = (x & 0x33333333) + ((x >>> 2) & 0x33333333);
      n += (((x + (x >>> 4)) & 0x0f0f0f0f) * 0x01010101) >>> 24;
    }
    return n;
  }
  /** Member indices in ascending order. */
  indices(): number[] {
    const out: number[] = [];
    for (let w = 0; w < this.words.length; w++) {
      let x = this.words[w]!;
      while (x !== 0) {
        const bit = x & -x;
        out.push((w << 5) + 31 - Math.clz32(bit));
        x ^= bit;
      }
    }
    return out;
  }
}

export interface NamespaceIndexOptions {
  /** Synthesize kubernetes.io/metadata.name=<name> on every namespace (clusters >= 1.21). Default true. */
  readonly synthesizeNameLabel?: boolean;
}

export interface NamespaceIndex {
  readonly size: number;
  /** Namespace names in index order (sorted by name). */
  readonly names: readonly string[];
  /** Labels as stored plus the synthesized name label. */
  effectiveLabels(i: number): Labels;
  idOf(name: string): number | undefined;
  /** Every namespace matching the query (memoised per query). */
  select(q: LabelQuery): NsSet;
  /** Names of the members of a set, sorted. */
  namesOf(s: NsSet): string[];
}

export function effectiveNamespaceLabels(ns: Namespace, synthesizeNameLabel = true): Labels {
  return synthesizeNameLabel ? { ...ns.labels, [METADATA_NAME_LABEL]: ns.name } : ns.labels;
}

export function createNamespaceIndex(
  namespaces: readonly Namespace[],
  options: NamespaceIndexOptions = {},
): NamespaceIndex {
  const synth = options.synthesizeNameLabel ?? true;
  const sorted = [...namespaces].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const size = sorted.length;
  const names = sorted.map((n) => n.name);
  const labels = sorted.map((n) => effectiveNamespaceLabels(n, synth));
  const ids = new Map<string, number>();
  names.forEach((n, i) => ids.set(n, i));
  // key -> value -> members
  const postings = new Map<string, Map<string, NsSet>>();
  const keyAll = new Map<string, NsSet>();
  const put = (key: string, value: string, i: number): void => {
    let byValue = postings.get(key);
    if (!byValue) postings.set(key, (byValue = new Map()));
    let set = byValue.get(value);
    if (!set) byValue.set(value, (set = new NsSet(size)));
    set.add(i);
    let any = keyAll.get(key);
    if (!any) keyAll.set(key, (any = new NsSet(size)));
    any.add(i);
  };
  labels.forEach((l, i) => {
    for (const [k, v] of Object.entries(l)) put(k, v, i);
    put(NAME_KEY, names[i]!, i);
  });
  const empty = new NsSet(size);
  const full = NsSet.full(size);
  const cache = new Map<string, NsSet>();

  const valuesWhere = (key: string, pred: (v: string) => boolean): NsSet => {
    const byValue = postings.get(key);
    let acc = empty;
    if (!byValue) return acc;
    for (const [v, set] of byValue) if (pred(v)) acc = acc.or(set);
    return acc;
  };
  const inSet = (key: string, values: readonly string[]): NsSet => {
    const byValue = postings.get(key);
    let acc = empty;
    if (!byValue) return acc;
    for (const v of new Set(values)) {
      const set = byValue.get(v);
      if (set) acc = acc.or(set);
    }
    return acc;
  };

  const evaluate = (q: LabelQuery): NsSet => {
    switch (q.op) {
      case 'all':
        return full;
      case 'none':
        return empty;
      case 'in':
        return inSet(q.key, q.values);
      case 'notin':
        return inSet(q.key, q.values).not();
      case 'exists':
        return keyAll.get(q.key) ?? empty;
      case 'notexists':
        return (keyAll.get(q.key) ?? empty).not();
      case 'gt':
      case 'lt':
        return valuesWhere(q.key, (v) => {
          const n = parseInt64(v);
          return n !== undefined && (q.op === 'gt' ? n > q.bound : n < q.bound);
        });
      case 'contains':
        return valuesWhere(q.key, (v) => v.includes(q.value));
      case 'startsWith':
        return valuesWhere(q.key, (v) => v.startsWith(q.value));
      case 'endsWith':
        return valuesWhere(q.key, (v) => v.endsWith(q.value));
      case 'and': {
        let acc = full;
        for (const t of q.terms) {
          acc = acc.and(select(t));
          if (acc.isEmpty()) break;
        }
        return acc;
      }
      case 'or': {
        let acc = empty;
        for (const t of q.terms) acc = acc.or(select(t));
        return acc;
      }
      case 'not':
        return select(q.term).not();
    }
  };
  const select = (q: LabelQuery): NsSet => {
    if (q.op === 'all') return full;
    if (q.op === 'none') return empty;
    const key = queryKey(q);
    let hit = cache.get(key);
    if (!hit) cache.set(key, (hit = evaluate(q)));
    return hit;
  };

  return {
    size,
    names,
    effectiveLabels: (i) => labels[i]!,
    idOf: (name) => ids.get(name),
    select,
    namesOf: (s) => s.indices().map((i) => names[i]!),
  };
}
