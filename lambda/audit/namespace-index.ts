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
  /** The namespaces in index order (sorted by name). */
  readonly namespaces: readonly Namespace[];
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
  const sorted = sortByName(namespaces);
  const size = sorted.length;
  const names: string[] = new Array<string>(size);
  const stored: Labels[] = new Array<Labels>(size);
  for (let i = 0; i < size; i++) {
    const ns = sorted[i]!;
    names[i] = ns.name;
    stored[i] = ns.labels;
  }
  // Names are sorted: a name's id is found by binary search (the last one, should a name repeat).
  const idOf = (name: string): number | undefined => {
    let lo = 0;
    let hi = size;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (name < names[mid]!) hi = mid;
      else lo = mid + 1;
    }
    return lo > 0 && names[lo - 1] === name ? lo - 1 : undefined;
  };

  // The name pseudo-key, and the synthesized name label (which the API server always overwrites
  // with the name), are answered from `names` directly.
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
  // Engines share query objects between policies (compiled selectors are memoised), so most
  // repeated queries are found by identity, without building their text key.
  const byQuery = new Map<LabelQuery, NsSet>();
  // One set per posting list, built the first time a selector asks for it.
  const postingSets = new Map<readonly number[], NsSet>();
  const postingSet = (list: readonly number[]): NsSet => {
    let set = postingSets.get(list);
    if (!set) postingSets.set(list, (set = NsSet.fromIdLists(size, [list])));
    return set;
  };

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
    const range = new Int32Array(end - lo);
    for (let k = 0; k < range.length; k++) range[k] = lo + k;
    return NsSet.fromSortedIds(size, range);
  };
  const inSet = (key: string, values: readonly string[]): NsSet => {
    const lists: (readonly number[])[] = [];
    if (isNameKey(key)) {
      for (const v of values) {
        const id = idOf(v);
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
    if (q.op === 'in' && q.values.length === 1) {
      // The most common terms (`ns=team-b`, the policy's own namespace): no key to build.
      if (isNameKey(q.key)) {
        const id = idOf(q.values[0]!);
        return id === undefined ? empty : NsSet.fromSortedIds(size, Int32Array.of(id));
      }
      const list = postings.get(q.key)?.get(q.values[0]!);
      return list ? postingSet(list) : empty;
    }
    let hit = byQuery.get(q);
    if (hit) return hit;
    if (q.op === 'or') {
      // A union of memoised terms is cheap, and an `or` (a Calico or Istio peer naming one namespace
      // among others) rarely repeats: not worth its text key.
      hit = evaluate(q);
    } else {
      const key = queryKey(q);
      hit = cache.get(key);
      if (!hit) cache.set(key, (hit = evaluate(q)));
    }
    byQuery.set(q, hit);
    return hit;
  };

  return {
    size,
    names,
    namespaces: sorted,
    labelOf: (i, key) => (isNameKey(key) ? (key === NAME_KEY || synth ? names[i] : undefined) : own(stored[i]!, key)),
    effectiveLabels: (i) => effectiveNamespaceLabels(sorted[i]!, synth),
    idOf,
    select,
    namesOf: (s) => s.indices().map((i) => names[i]!),
  };
}

const byName = (a: Namespace, b: Namespace): number => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);

/** The namespaces sorted by name; a list already in order (as `kubectl get` prints it) is not sorted again. */
function sortByName(namespaces: readonly Namespace[]): readonly Namespace[] {
  for (let i = 1; i < namespaces.length; i++)
    if (byName(namespaces[i - 1]!, namespaces[i]!) > 0) return [...namespaces].sort(byName);
  return namespaces;
}
