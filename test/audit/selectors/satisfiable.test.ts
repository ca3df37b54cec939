import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseSelectorString } from '../../../lambda/audit/selectors/kubernetes.js';
import { ALL, and, matchLabels, NONE, not, or, type LabelQuery } from '../../../lambda/audit/selectors/query.js';
import { isUnsatisfiable } from '../../../lambda/audit/selectors/satisfiable.js';

const q = parseSelectorString;

describe('isUnsatisfiable', () => {
  it.each([
    ['a in (x),a in (y)'],
    ['a,!a'],
    ['a=x,a!=x'],
    ['a in (x,y),a notin (x,y)'],
    ['a>5,a<6'],
    ['a>5,a in (3,4)'],
    ['!a,a=x'],
    ['!a,a>1'],
  ])('%s can never match', (s) => {
    expect(isUnsatisfiable(q(s))).toBe(true);
  });

  it.each([
    [''],
    ['a'],
    ['!a'],
    ['a notin (x),!a'],
    ['a in (x,y),a notin (x)'],
    ['a>5,a<7'],
    ['a=x,b=y'],
    ['a!=x,a!=y'],
  ])('%s can match', (s) => {
    expect(isUnsatisfiable(q(s))).toBe(false);
  });

  it('treats none and an empty In set as unsatisfiable, all as satisfiable', () => {
    expect(isUnsatisfiable(NONE)).toBe(true);
    expect(isUnsatisfiable({ op: 'in', key: 'a', values: [] })).toBe(true);
    expect(isUnsatisfiable(ALL)).toBe(false);
  });

  it('an or is unsatisfiable only when every branch is', () => {
    expect(isUnsatisfiable(or(q('a,!a'), q('b=x,b=y')))).toBe(true);
    expect(isUnsatisfiable(or(q('a,!a'), q('b=x')))).toBe(false);
  });

  it('checks or branches against the atoms beside them', () => {
    expect(isUnsatisfiable(and(q('a=x'), or(q('a=y'), q('!a'))))).toBe(true);
    expect(isUnsatisfiable(and(q('a=x'), or(q('a=y'), q('b'))))).toBe(false);
  });

  it('pushes not inward', () => {
    expect(isUnsatisfiable(and(q('a'), not(q('a'))))).toBe(true);
    expect(isUnsatisfiable(not(or(q('a'), q('!a'))))).toBe(true);
    expect(isUnsatisfiable(and(q('a=x'), not(q('a in (x,y)'))))).toBe(true);
    expect(isUnsatisfiable(not(q('a>1')))).toBe(false);
  });

  it('uses Calico-style string tests against a finite value set', () => {
    const startsWith: LabelQuery = { op: 'startsWith', key: 'a', value: 'pro' };
    expect(isUnsatisfiable(and(q('a in (dev,test)'), startsWith))).toBe(true);
    expect(isUnsatisfiable(and(q('a in (dev,prod)'), startsWith))).toBe(false);
    expect(isUnsatisfiable(and(q('!a'), startsWith))).toBe(true);
  });

  it('never calls a query unsatisfiable when some label set matches it (property)', () => {
    const key = fc.constantFrom('a', 'b');
    const value = fc.constantFrom('', 'x', 'y', '1', '7');
    const atom: fc.Arbitrary<LabelQuery> = fc.oneof(
      fc.record({
        op: fc.constantFrom('in' as const, 'notin' as const),
        key,
        values: fc.array(value, { maxLength: 3 }),
      }),
      fc.record({ op: fc.constantFrom('exists' as const, 'notexists' as const), key }),
      fc.record({ op: fc.constantFrom('gt' as const, 'lt' as const), key, bound: fc.bigInt(-2n, 9n) }),
      fc.record({ op: fc.constantFrom('contains' as const, 'startsWith' as const), key, value }),
    );
    const query = fc.letrec<{ q: LabelQuery }>((tie) => ({
      q: fc.oneof(
        { depthSize: 'small', withCrossShrink: true },
        atom,
        fc.array(tie('q'), { maxLength: 3 }).map((t) => and(...t)),
        fc.array(tie('q'), { maxLength: 3 }).map((t) => or(...t)),
        tie('q').map(not),
      ),
    })).q;
    // Every label set over keys a, b and the value pool (absent included).
    const options = [undefined, '', 'x', 'y', '1', '7'];
    const every = options.flatMap((a) =>
      options.map((b) => ({ ...(a === undefined ? {} : { a }), ...(b === undefined ? {} : { b }) })),
    );
    fc.assert(
      fc.property(query, (query) => !isUnsatisfiable(query) || every.every((l) => !matchLabels(query, l))),
      { numRuns: 500 },
    );
  });
});
