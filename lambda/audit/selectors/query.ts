/**
 * The label-query IR every selector language compiles to. Kubernetes LabelSelectors and string
 * selectors, Calico selector expressions and Cilium endpoint selectors (after source handling and
 * namespace-label extraction) all become a LabelQuery, which can then be matched against one label
 * set or evaluated against a whole namespace index at once.
 */
import type { Labels } from '../model.js';

export type LabelQuery =
  | { readonly op: 'all' }
  | { readonly op: 'none' }
  /** key present and its value in the set */
  | { readonly op: 'in'; readonly key: string; readonly values: readonly string[] }
  /** key absent, or its value not in the set */
  | { readonly op: 'notin'; readonly key: string; readonly values: readonly string[] }
  | { readonly op: 'exists'; readonly key: string }
  | { readonly op: 'notexists'; readonly key: string }
  /** key present and its value parses as an integer greater / less than the bound (Kubernetes Gt/Lt) */
  | { readonly op: 'gt' | 'lt'; readonly key: string; readonly bound: bigint }
  /** key present and its value contains / starts with / ends with the string (Calico) */
  | { readonly op: 'contains' | 'startsWith' | 'endsWith'; readonly key: string; readonly value: string }
  | { readonly op: 'and' | 'or'; readonly terms: readonly LabelQuery[] }
  | { readonly op: 'not'; readonly term: LabelQuery };

export const ALL: LabelQuery = { op: 'all' };
export const NONE: LabelQuery = { op: 'none' };

/** Pseudo label key whose value is always the namespace's own name (not a real label). */
export const NAME_KEY = '\u0000namespace-name';

export function and(...terms: LabelQuery[]): LabelQuery {
  const flat: LabelQuery[] = [];
  for (const t of terms) {
    if (t.op === 'all') continue;
    if (t.op === 'none') return NONE;
    if (t.op === 'and') flat.push(...t.terms);
    else flat.push(t);
  }
  if (flat.length === 0) return ALL;
  if (flat.length === 1) return flat[0]!;
  return { op: 'and', terms: flat };
}

export function or(...terms: LabelQuery[]): LabelQuery {
  const flat: LabelQuery[] = [];
  for (const t of terms) {
    if (t.op === 'none') continue;
    if (t.op === 'all') return ALL;
    if (t.op === 'or') flat.push(...t.terms);
    else flat.push(t);
  }
  if (flat.length === 0) return NONE;
  if (flat.length === 1) return flat[0]!;
  return { op: 'or', terms: flat };
}

export function not(term: LabelQuery): LabelQuery {
  if (term.op === 'all') return NONE;
  if (term.op === 'none') return ALL;
  if (term.op === 'not') return term.term;
  return { op: 'not', term };
}

const INTEGER = /^[+-]?[0-9]+$/;
const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

/** Go's strconv.ParseInt(v, 10, 64): an optional sign and decimal digits within int64, else undefined. */
export function parseInt64(v: string): bigint | undefined {
  if (!INTEGER.test(v)) return undefined;
  const n = BigInt(v);
  return n < INT64_MIN || n > INT64_MAX ? undefined : n;
}

/** Match one query against one label set. */
export function matchLabels(q: LabelQuery, labels: Labels): boolean {
  switch (q.op) {
    case 'all':
      return true;
    case 'none':
      return false;
    case 'in': {
      const v = own(labels, q.key);
      return v !== undefined && q.values.includes(v);
    }
    case 'notin': {
      const v = own(labels, q.key);
      return v === undefined || !q.values.includes(v);
    }
    case 'exists':
      return own(labels, q.key) !== undefined;
    case 'notexists':
      return own(labels, q.key) === undefined;
    case 'gt':
    case 'lt': {
      const v = own(labels, q.key);
      if (v === undefined) return false;
      const n = parseInt64(v);
      if (n === undefined) return false;
      return q.op === 'gt' ? n > q.bound : n < q.bound;
    }
    case 'contains':
    case 'startsWith':
    case 'endsWith': {
      const v = own(labels, q.key);
      if (v === undefined) return false;
      return q.op === 'contains'
        ? v.includes(q.value)
        : q.op === 'startsWith'
          ? v.startsWith(q.value)
          : v.endsWith(q.value);
    }
    case 'and':
      return q.terms.every((t) => matchLabels(t, labels));
    case 'or':
      return q.terms.some((t) => matchLabels(t, labels));
    case 'not':
      return !matchLabels(q.term, labels);
  }
}

function own(labels: Labels, key: string): string | undefined {
  return Object.prototype.hasOwnProperty.call(labels, key) ? labels[key] : undefined;
}

/** A stable text key for a query (for memoising evaluations). */
export function queryKey(q: LabelQuery): string {
  switch (q.op) {
    case 'all':
    case 'none':
      return q.op;
    case 'in':
    case 'notin':
      return JSON.stringify([q.op, q.key, q.values]);
    case 'exists':
    case 'notexists':
      return JSON.stringify([q.op, q.key]);
    case 'gt':
    case 'lt':
      return JSON.stringify([q.op, q.key, String(q.bound)]);
    case 'contains':
    case 'startsWith':
    case 'endsWith':
      return JSON.stringify([q.op, q.key, q.value]);
    case 'and':
    case 'or':
      return `${q.op}[${q.terms.map(queryKey).join(',')}]`;
    case 'not':
      return `not[${queryKey(q.term)}]`;
  }
}

/** The namespaces whose name is one of these. */
export function namedNamespaces(...names: string[]): LabelQuery {
  return { op: 'in', key: NAME_KEY, values: names };
}
