/**
 * An index over one cluster's namespaces, built once per snapshot, that evaluates a LabelQuery
 * against every namespace at once with set operations (see NsSet) instead of testing every
 * namespace against every selector term. Posting lists are built per label key, and turned into
 * sets only for the values a selector actually asks about.
 */
import type { Labels, Namespace } from './model.js';
import { NsSet } from './ns-set.js';
import { NAME_KEY, parseInt64, queryKey, type LabelQuery } from './selectors/query.js';

export { NsSet };

export const METADATA_NAME_LABEL = 'kubernetes.io/metadata.name';

export interface NamespaceIndexOptions {
  /** Synthesize kubernetes.io/metadata.name=<name> on every namespace (clusters >= 1.21). Default true. */
  readonly synthesizeNameLabel?: boolean;
}

export interface NamespaceIndex {
  readonly size: number;
  /** Namespace names in index order (sorted by name). */
  readonly names: readonly string[];
  /** One effective label (stored, or the synthesized name label) without building the whole set. */
  labelOf(i: number, key: string): string | undefined;
  /** Labels as stored plus the synthesized name label (allocates: for messages and debugging). */
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

const own = (labels: Labels, key: string): string | undefined =>
  Object.prototype.hasOwnProperty.call(labels, key) ? labels[key] : undefined;

export function createNamespaceIndex(
  namespaces: readonly Namespace[],
  options: NamespaceIndexOptions = {},
): NamespaceIndex {
  const synth = options.synthesizeNameLabel ?? true;
  const sorted = [...namespaces].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const size = sorted.length;
  const names = sorted.map((n) => n.name);
  const stored = sorted.map((n) => n.labels);
  const ids = new Map<string, number>();
  names.forEach((n, i) => ids.set(n, i));

  // The name pseudo-key, and the synthesized name label (which the API server always overwrites
  // with the name), are answered from `ids` and `names` directly.
  const isNameKey = (key: string): boolean => key === NAME_KEY || (synth && key === METADATA_NAME_LABEL);

  // key -> value -> ascending member ids, for every stored label.
  const postings = new Map<string, Map<string, number[]>>();
  for (let i = 0; i < size; i++) {
    const labels = stored[i]!;
    for (const key in labels) {
      if (!Object.prototype.hasOwnProperty.call(labels, key) || isNameKey(key)) continue;
      let byValue = postings.get(key);
      if (!byValue) postings.set(key, (byValue = new Map<string, number[]>()));
      const value = labels[key]!;
      const list = byValue.get(value);
      if (list) list.push(i);
      else byValue.set(value, [i]);
    }
  }

  const empty = NsSet.empty(size);
  const full = NsSet.full(size);
  const cache = new Map<string, NsSet>();
  const keyCache = new Map<string, NsSet>();

  const fromLists = (lists: Iterable<readonly number[]>): NsSet => NsSet.fromIdLists(size, lists);

  const valuesWhere = (key: string, pred: (v: string) => boolean): NsSet => {
    if (isNameKey(key)) return fromLists(names.flatMap((n, i) => (pred(n) ? [[i]] : [])));
    const byValue = postings.get(key);
    if (!byValue) return empty;
    const lists: number[][] = [];
    for (const [v, list] of byValue) if (pred(v)) lists.push(list);
    return fromLists(lists);
  };
  // Names are sorted, so the names with a prefix (Istio's `team-*`) are one contiguous range.
  const namesWithPrefix = (prefix: string): NsSet => {
    let lo = 0;
    let hi = size;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (names[mid]! < prefix) lo = mid + 1;
      else hi = mid;
    }
    let end = lo;
    while (end < size && names[end]!.startsWith(prefix)) end++;
    return fromLists([Array.from({ length: end - lo }, (_, k) => lo + k)]);
  };
  const inSet = (key: string, values: readonly string[]): NsSet => {
    const lists: (readonly number[])[] = [];
    if (isNameKey(key)) {
      for (const v of values) {
        const id = ids.get(v);
        if (id !== undefined) lists.push([id]);
      }
    } else {
      const byValue = postings.get(key);
      if (!byValue) return empty;
      for (const v of values) {
        const list = byValue.get(v);
        if (list) lists.push(list);
      }
    }
    return fromLists(lists);
  };
  const exists = (key: string): NsSet => {
    if (isNameKey(key)) return full;
    let hit = keyCache.get(key);
    if (!hit) keyCache.set(key, (hit = fromLists(postings.get(key)?.values() ?? [])));
    return hit;
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
        return exists(q.key);
      case 'notexists':
        return exists(q.key).not();
      case 'gt':
      case 'lt':
        return valuesWhere(q.key, (v) => {
          const n = parseInt64(v);
          return n !== undefined && (q.op === 'gt' ? n > q.bound : n < q.bound);
        });
      case 'contains':
        return valuesWhere(q.key, (v) => v.includes(q.value));
      case 'startsWith':
        return isNameKey(q.key) ? namesWithPrefix(q.value) : valuesWhere(q.key, (v) => v.startsWith(q.value));
      case 'endsWith':
        return valuesWhere(q.key, (v) => v.endsWith(q.value));
      case 'and': {
        // Smallest first, so intersections stay sparse and stop early.
        const sets = q.terms.map(select).sort((a, b) => a.count() - b.count());
        let acc = sets[0] ?? full;
        for (let k = 1; k < sets.length && !acc.isEmpty(); k++) acc = acc.and(sets[k]!);
        return acc;
      }
      case 'or':
        return NsSet.union(size, q.terms.map(select));
      case 'not':
        return select(q.term).not();
    }
  };
  const select = (q: LabelQuery): NsSet => {
    if (q.op === 'all') return full;
    if (q.op === 'none') return empty;
    if (q.op === 'in' && q.values.length === 1 && !isNameKey(q.key)) {
      // The most common term (`ns=team-b`): no key to build, one posting list.
      const list = postings.get(q.key)?.get(q.values[0]!);
      return list ? NsSet.fromIdLists(size, [list]) : empty;
    }
    const key = queryKey(q);
    let hit = cache.get(key);
    if (!hit) cache.set(key, (hit = evaluate(q)));
    return hit;
  };

  return {
    size,
    names,
    labelOf: (i, key) => (isNameKey(key) ? (key === NAME_KEY || synth ? names[i] : undefined) : own(stored[i]!, key)),
    effectiveLabels: (i) => effectiveNamespaceLabels(sorted[i]!, synth),
    idOf: (name) => ids.get(name),
    select,
    namesOf: (s) => s.indices().map((i) => names[i]!),
  };
}
