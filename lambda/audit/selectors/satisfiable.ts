/**
 * Conservative unsatisfiability of a LabelQuery: true only when no label set at all can match
 * (`a in (x)` AND `a in (y)`, `a` AND `!a`, `a in (x)` AND `a notin (x)`, an empty `in` set, ...).
 * When unsure it answers false. Used to tell "selects nothing by construction" from "selects nothing
 * in this cluster".
 */
import { ALL, and, NONE, or, parseInt64, type LabelQuery } from './query.js';

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;
/** Bound on the branch combinations tried for `or` terms inside a conjunction. */
const MAX_BRANCHES = 64;

export function isUnsatisfiable(q: LabelQuery): boolean {
  if (plainlySatisfiable(q)) return false;
  return unsatisfiable(negationNormalForm(q, false));
}

/**
 * The shapes nearly every selector has, answered without building the normal form: `{}`, one
 * set-based requirement, or requirements on distinct keys (each satisfiable on its own, so together).
 */
function plainlySatisfiable(q: LabelQuery): boolean {
  if (q.op !== 'and') return satisfiableAtom(q);
  for (let i = 0; i < q.terms.length; i++) {
    const t = q.terms[i]!;
    if (!satisfiableAtom(t) || t.op === 'all') return false;
    const key = (t as { readonly key: string }).key;
    for (let j = 0; j < i; j++) if ((q.terms[j] as { readonly key: string }).key === key) return false;
  }
  return true;
}

function satisfiableAtom(q: LabelQuery): boolean {
  switch (q.op) {
    case 'all':
    case 'notin':
    case 'exists':
    case 'notexists':
      return true;
    case 'in':
      return q.values.length > 0;
    default:
      return false;
  }
}

/** Push `not` down to the atoms; atoms without a complement in the IR keep a `not` around them. */
function negationNormalForm(q: LabelQuery, negate: boolean): LabelQuery {
  switch (q.op) {
    case 'all':
      return negate ? NONE : ALL;
    case 'none':
      return negate ? ALL : NONE;
    case 'in':
      return negate ? { op: 'notin', key: q.key, values: q.values } : q;
    case 'notin':
      return negate ? { op: 'in', key: q.key, values: q.values } : q;
    case 'exists':
      return negate ? { op: 'notexists', key: q.key } : q;
    case 'notexists':
      return negate ? { op: 'exists', key: q.key } : q;
    case 'and':
    case 'or': {
      const terms = q.terms.map((t) => negationNormalForm(t, negate));
      return (q.op === 'and') !== negate ? and(...terms) : or(...terms);
    }
    case 'not':
      return negationNormalForm(q.term, !negate);
    default:
      return negate ? { op: 'not', term: q } : q;
  }
}

function unsatisfiable(q: LabelQuery): boolean {
  switch (q.op) {
    case 'none':
      return true;
    case 'in':
      return q.values.length === 0;
    case 'gt':
      return q.bound >= INT64_MAX;
    case 'lt':
      return q.bound <= INT64_MIN;
    case 'or':
      return q.terms.every(unsatisfiable);
    case 'and':
      return conjunctionUnsatisfiable(q.terms);
    default:
      return false;
  }
}

function conjunctionUnsatisfiable(terms: readonly LabelQuery[]): boolean {
  if (terms.some(unsatisfiable)) return true;
  const atoms = terms.filter((t) => t.op !== 'or' && t.op !== 'and');
  if (atomsConflict(atoms)) return true;
  // An `or` is impossible here when each of its branches contradicts the atoms beside it.
  let budget = MAX_BRANCHES;
  for (const t of terms) {
    if (t.op !== 'or') continue;
    budget -= t.terms.length;
    if (budget < 0) break;
    if (t.terms.every((branch) => unsatisfiable(and(...atoms, branch)))) return true;
  }
  return false;
}

interface KeyFacts {
  present: boolean;
  absent: boolean;
  /** Values the key must take (intersection of `in` sets); null when unrestricted. */
  allowed: Set<string> | null;
  denied: Set<string>;
  tests: ((v: string) => boolean)[];
  above?: bigint;
  below?: bigint;
}

function atomsConflict(atoms: readonly LabelQuery[]): boolean {
  const facts = new Map<string, KeyFacts>();
  const of = (key: string): KeyFacts => {
    let f = facts.get(key);
    if (!f) facts.set(key, (f = { present: false, absent: false, allowed: null, denied: new Set(), tests: [] }));
    return f;
  };
  for (const a of atoms) {
    switch (a.op) {
      case 'in': {
        const f = of(a.key);
        f.present = true;
        f.allowed = new Set(f.allowed ? a.values.filter((v) => f.allowed!.has(v)) : a.values);
        break;
      }
      case 'notin':
        for (const v of a.values) of(a.key).denied.add(v);
        break;
      case 'exists':
        of(a.key).present = true;
        break;
      case 'notexists':
        of(a.key).absent = true;
        break;
      case 'gt':
      case 'lt': {
        const f = of(a.key);
        f.present = true;
        if (a.op === 'gt') f.above = f.above === undefined || a.bound > f.above ? a.bound : f.above;
        else f.below = f.below === undefined || a.bound < f.below ? a.bound : f.below;
        break;
      }
      case 'contains':
      case 'startsWith':
      case 'endsWith': {
        const f = of(a.key);
        f.present = true;
        const value = a.value;
        f.tests.push(
          a.op === 'contains'
            ? (v) => v.includes(value)
            : a.op === 'startsWith'
              ? (v) => v.startsWith(value)
              : (v) => v.endsWith(value),
        );
        break;
      }
      default:
        break;
    }
  }
  for (const f of facts.values()) {
    if (!f.present) continue; // absence satisfies notin / notexists
    if (f.absent) return true;
    const inRange = (v: string): boolean => {
      if (f.above === undefined && f.below === undefined) return true;
      const n = parseInt64(v);
      return n !== undefined && (f.above === undefined || n > f.above) && (f.below === undefined || n < f.below);
    };
    if (f.allowed) {
      if (![...f.allowed].some((v) => !f.denied.has(v) && inRange(v) && f.tests.every((t) => t(v)))) return true;
    } else if (f.above !== undefined && f.below !== undefined && f.below - f.above <= 1n) {
      return true;
    }
  }
  return false;
}
