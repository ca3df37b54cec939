import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Namespace } from '../../lambda/audit/model.js';
import { createNamespaceIndex, effectiveNamespaceLabels } from '../../lambda/audit/namespace-index.js';
import { matchLabels, NAME_KEY, type LabelQuery } from '../../lambda/audit/selectors/query.js';

const KEYS = ['ns', 'env', 'kubernetes.io/metadata.name'];
const VALUES = ['a', 'b', 'c', 'prod'];

const arbNamespaces = fc
  .uniqueArray(fc.stringMatching(/^[a-d]{1,3}$/), { maxLength: 40 })
  .chain((names) =>
    fc.tuple(
      ...names.map((name) =>
        fc
          .dictionary(fc.constantFrom(...KEYS), fc.constantFrom(...VALUES, name), { maxKeys: 3 })
          .map((labels): Namespace => ({ name, labels })),
      ),
    ),
  );

const arbAtom: fc.Arbitrary<LabelQuery> = fc.oneof(
  fc.record({
    op: fc.constantFrom('in' as const, 'notin' as const),
    key: fc.constantFrom(...KEYS, NAME_KEY),
    values: fc.array(fc.constantFrom(...VALUES, 'ab', 'd'), { minLength: 1, maxLength: 3 }),
  }),
  fc.record({ op: fc.constantFrom('exists' as const, 'notexists' as const), key: fc.constantFrom(...KEYS, NAME_KEY) }),
  fc.record({
    op: fc.constant('startsWith' as const),
    key: fc.constant(NAME_KEY),
    value: fc.constantFrom('a', 'b', ''),
  }),
);
const arbQuery: fc.Arbitrary<LabelQuery> = fc.oneof(
  arbAtom,
  fc.record({ op: fc.constantFrom('and' as const, 'or' as const), terms: fc.array(arbAtom, { maxLength: 4 }) }),
  arbAtom.map((term): LabelQuery => ({ op: 'not', term })),
);

describe('NamespaceIndex', () => {
  it('selects exactly the namespaces whose effective labels match, in any input order (property)', () => {
    fc.assert(
      fc.property(arbNamespaces, fc.array(arbQuery, { maxLength: 6 }), fc.boolean(), (namespaces, queries, synth) => {
        const index = createNamespaceIndex(namespaces, { synthesizeNameLabel: synth });
        const sorted = [...namespaces].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
        expect(index.namespaces).toEqual(sorted);
        expect(index.names).toEqual(sorted.map((n) => n.name));
        sorted.forEach((ns, i) => expect(index.idOf(ns.name)).toBe(i));
        expect(index.idOf('zz')).toBeUndefined();
        // Each query twice: the second answer comes from the memo and must be the same.
        for (const q of [...queries, ...queries]) {
          const expected = sorted
            .filter((ns) => {
              const labels = { ...effectiveNamespaceLabels(ns, synth), [NAME_KEY]: ns.name };
              return matchLabels(q, labels);
            })
            .map((ns) => ns.name);
          expect(index.namesOf(index.select(q))).toEqual(expected);
        }
      }),
      { numRuns: 200 },
    );
  });

  it('keeps an already sorted list as it is', () => {
    const namespaces: Namespace[] = [
      { name: 'a', labels: {} },
      { name: 'b', labels: { ns: 'b' } },
    ];
    expect(createNamespaceIndex(namespaces).namespaces).toEqual(namespaces);
  });
});
