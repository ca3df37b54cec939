import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { NsSet } from '../../lambda/audit/ns-set.js';

/** Build a set the way the index does: sparse from ids, or dense via a complement. */
function build(size: number, ids: number[], dense: boolean): NsSet {
  const sorted = Int32Array.from([...new Set(ids)].sort((a, b) => a - b));
  const sparse = NsSet.fromSortedIds(size, sorted);
  return dense ? sparse.not().not() : sparse;
}

const arbCase = fc.integer({ min: 0, max: 300 }).chain((size) =>
  fc.record({
    size: fc.constant(size),
    a: fc.array(fc.integer({ min: 0, max: Math.max(0, size - 1) }), { maxLength: size === 0 ? 0 : 400 }),
    b: fc.array(fc.integer({ min: 0, max: Math.max(0, size - 1) }), { maxLength: size === 0 ? 0 : 400 }),
    denseA: fc.boolean(),
    denseB: fc.boolean(),
  }),
);

describe('NsSet', () => {
  it('and/or/not/count/has agree with plain sets, sparse or dense', () => {
    fc.assert(
      fc.property(arbCase, ({ size, a, b, denseA, denseB }) => {
        const A = new Set(a);
        const B = new Set(b);
        const sa = build(size, a, denseA);
        const sb = build(size, b, denseB);
        const all = [...Array(size).keys()];
        expect(sa.and(sb).indices()).toEqual(all.filter((i) => A.has(i) && B.has(i)));
        expect(sa.or(sb).indices()).toEqual(all.filter((i) => A.has(i) || B.has(i)));
        expect(sa.not().indices()).toEqual(all.filter((i) => !A.has(i)));
        expect(sa.count()).toBe(A.size);
        expect(sa.isEmpty()).toBe(A.size === 0);
        for (const i of all) expect(sa.has(i)).toBe(A.has(i));
      }),
      { numRuns: 300 },
    );
  });

  it('union of many sets agrees with plain sets, whatever mix of sparse, dense and empty', () => {
    const arbUnion = fc.integer({ min: 0, max: 400 }).chain((size) =>
      fc.record({
        size: fc.constant(size),
        parts: fc.array(
          fc.record({
            ids: fc.array(fc.integer({ min: 0, max: Math.max(0, size - 1) }), { maxLength: size === 0 ? 0 : 60 }),
            dense: fc.boolean(),
          }),
          { maxLength: 8 },
        ),
      }),
    );
    fc.assert(
      fc.property(arbUnion, ({ size, parts }) => {
        const all = [...Array(size).keys()];
        const expected = all.filter((i) => parts.some((p) => p.ids.includes(i)));
        const u = NsSet.union(
          size,
          parts.map((p) => build(size, p.ids, p.dense)),
        );
        expect(u.indices()).toEqual(expected);
        expect(u.count()).toBe(expected.length);
      }),
      { numRuns: 300 },
    );
  });

  it('full and empty sets respect the size exactly (no stray bits past the end)', () => {
    for (const size of [0, 1, 31, 32, 33, 64, 100]) {
      expect(NsSet.full(size).count()).toBe(size);
      expect(NsSet.empty(size).not().count()).toBe(size);
      expect(NsSet.full(size).not().isEmpty()).toBe(true);
    }
  });
});
