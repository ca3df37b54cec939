import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Labels, Namespace } from '../../../lambda/audit/model.js';
import { createNamespaceIndex } from '../../../lambda/audit/namespace-index.js';
import {
  CALICO_MAX_LABEL_LENGTH,
  calicoNamespaceQuery,
  calicoToQuery,
  parseCalicoSelector,
  positiveEqualityTerms,
  type CalicoSelector,
} from '../../../lambda/audit/selectors/calico.js';
import { SelectorSyntaxError } from '../../../lambda/audit/selectors/errors.js';
import { ALL, NAME_KEY, NONE, matchLabels } from '../../../lambda/audit/selectors/query.js';

interface Vector {
  readonly id: string;
  readonly selector: string;
  readonly labels: Record<string, string> | null;
  readonly expect: boolean | 'parse_ok' | 'parse_error';
  readonly canonical?: string;
  readonly selector_context?: string;
  readonly namespace?: string;
  readonly note?: string;
  readonly source: string;
}

const vectors = JSON.parse(
  readFileSync(new URL('../../../../shared/reference/vectors/calico-selectors.json', import.meta.url), 'utf8'),
) as Vector[];

/** Parse errors must be SelectorSyntaxError and nothing else. */
function parseError(src: string): SelectorSyntaxError {
  try {
    parseCalicoSelector(src);
  } catch (e) {
    expect(e).toBeInstanceOf(SelectorSyntaxError);
    return e as SelectorSyntaxError;
  }
  throw new Error(`expected ${JSON.stringify(src)} to be rejected`);
}

function matches(src: string, labels: Labels): boolean {
  const sel = parseCalicoSelector(src);
  const direct = sel.matches(labels);
  // The compiled query (global() as a plain selector means everything) must agree with the AST.
  expect(matchLabels(calicoToQuery(sel, { global: ALL }), labels)).toBe(direct);
  return direct;
}

/** Namespaces a namespaceSelector selects, evaluated on the bitset index. */
function namespacesSelected(src: string, namespaces: readonly Namespace[]): string[] {
  const index = createNamespaceIndex(namespaces);
  return index.namesOf(index.select(calicoNamespaceQuery(parseCalicoSelector(src))));
}

describe('Calico selector vectors (../shared/reference/vectors/calico-selectors.json)', () => {
  it('loads the vectors', () => {
    expect(vectors.length).toBeGreaterThan(100);
  });

  for (const v of vectors) {
    const title = `${v.id}: ${JSON.stringify(v.selector).slice(0, 80)} → ${String(v.expect)}`;
    if (v.expect === 'parse_error') {
      it(title, () => {
        parseError(v.selector);
      });
    } else if (v.expect === 'parse_ok') {
      it(title, () => {
        const sel = parseCalicoSelector(v.selector);
        if (v.canonical !== undefined) expect(sel.canonical()).toBe(v.canonical);
        expect(parseCalicoSelector(sel.canonical()).canonical()).toBe(sel.canonical());
      });
    } else if (v.selector_context !== undefined) {
      it(`${title} (${v.selector_context}, namespace ${v.namespace})`, () => {
        expect(v.selector_context).toMatch(/namespaceSelector/);
        const name = v.namespace!;
        const selected = namespacesSelected(v.selector, [{ name, labels: v.labels ?? {} }]);
        expect(selected.includes(name)).toBe(v.expect);
      });
    } else {
      it(title, () => {
        expect(matches(v.selector, v.labels ?? {})).toBe(v.expect);
        // Canonicalising keeps the meaning.
        const canon = parseCalicoSelector(v.selector).canonical();
        expect(parseCalicoSelector(canon).matches(v.labels ?? {})).toBe(v.expect);
      });
    }
  }
});

describe('parseCalicoSelector', () => {
  it('gives || the lowest precedence: a || b && c is a || (b && c)', () => {
    const src = 'a == "x" || b == "y" && c == "z"';
    expect(parseCalicoSelector(src).canonical()).toBe('(a == "x" || (b == "y" && c == "z"))');
    expect(matches(src, { a: 'x' })).toBe(true);
    expect(matches(src, { b: 'y' })).toBe(false);
    expect(matches(src, { b: 'y', c: 'z' })).toBe(true);
  });

  it('lets parentheses override precedence', () => {
    const src = '(a == "x" || b == "y") && c == "z"';
    expect(parseCalicoSelector(src).canonical()).toBe('((a == "x" || b == "y") && c == "z")');
    expect(matches(src, { a: 'x' })).toBe(false);
    expect(matches(src, { a: 'x', c: 'z' })).toBe(true);
  });

  it('makes ! negate the whole following operation, not the label', () => {
    expect(matches('!a == "x"', {})).toBe(true);
    expect(matches('!a == "x"', { a: 'x' })).toBe(false);
    expect(matches('!a == "x"', { a: 'y' })).toBe(true);
    expect(parseCalicoSelector('!a == "x"').canonical()).toBe('!a == "x"');
  });

  it('binds ! tighter than && and ||', () => {
    expect(parseCalicoSelector('!has(a) && has(b)').canonical()).toBe('(!has(a) && has(b))');
    expect(matches('!has(a) || has(b)', { a: '1' })).toBe(false);
  });

  it('collapses any chain of ! by parity', () => {
    expect(parseCalicoSelector('!!has(a)').canonical()).toBe('has(a)');
    expect(parseCalicoSelector('! ! !has(a)').canonical()).toBe('!has(a)');
    expect(parseCalicoSelector('!!!!(has(a))').canonical()).toBe('has(a)');
    expect(matches('!!!!!has(a)', {})).toBe(true);
  });

  it('keeps nested negations of groups as separate nodes, printed as Calico prints them', () => {
    // Calico's String() gives `!!has(a)`, which re-parses to `has(a)`: same meaning, shorter text.
    expect(parseCalicoSelector('!(!(has(a)))').canonical()).toBe('!!has(a)');
    expect(parseCalicoSelector('!!has(a)').canonical()).toBe('has(a)');
    expect(matches('!(!(has(a)))', { a: '' })).toBe(true);
  });

  it('treats empty and all-whitespace selectors (spaces and tabs) as all()', () => {
    for (const src of ['', ' ', '\t', ' \t  ']) {
      expect(parseCalicoSelector(src).canonical()).toBe('all()');
      expect(matches(src, {})).toBe(true);
    }
  });

  it('rejects newlines and other whitespace that is not space or tab', () => {
    for (const src of ['\n', 'a == "x"\n', 'a ==\n"x"', '\r', 'has(a)\r\n', 'a\u00a0== "x"', '\fhas(a)', '\vall()']) {
      parseError(src);
    }
  });

  it('accepts spaces and tabs anywhere between tokens and inside has()/all()/global()', () => {
    expect(parseCalicoSelector('\thas(\t a \t)\t&&\tall( )\t||global(\t)').canonical()).toBe(
      '((has(a) && all()) || global())',
    );
  });

  it('needs ( straight after has, all and global', () => {
    parseError('has (a)');
    parseError('all ()');
    parseError('global ()');
    parseError('has()');
    parseError('all(a)');
    parseError('global(x)');
  });

  it('accepts multi-word operators with any spacing, including none', () => {
    const cases: readonly [string, string][] = [
      ['a starts with "x"', 'a starts with "x"'],
      ['a startswith "x"', 'a starts with "x"'],
      ['a starts \t  with "x"', 'a starts with "x"'],
      ['a endswith"x"', 'a ends with "x"'],
      ['a notin{"x"}', 'a not in {"x"}'],
      ['a not   in {"x"}', 'a not in {"x"}'],
      ['a contains"x"', 'a contains "x"'],
      ['a in{"x"}', 'a in {"x"}'],
      ['a=="x"&&b!="y"', '(a == "x" && b != "y")'],
    ];
    for (const [src, canonical] of cases) expect(parseCalicoSelector(src).canonical()).toBe(canonical);
  });

  it('needs a word boundary after an operator word', () => {
    for (const src of [
      'a inx {"x"}',
      'a containsx "x"',
      'a starts withx "x"',
      'a ends withs "x"',
      'a notinx {"x"}',
      'a in_ {}',
    ]) {
      parseError(src);
    }
  });

  it('rejects unknown or misspelt operator words', () => {
    for (const src of [
      'a starts foo "x"',
      'a equals "x"',
      'a not "x"',
      'a = "x"',
      'a === "x"',
      'a <> "x"',
      'a is "x"',
    ]) {
      parseError(src);
    }
  });

  it('accepts operator words as labels', () => {
    expect(matches('contains contains "contains"', { contains: 'xcontainsx' })).toBe(true);
    expect(matches('in in {"in"}', { in: 'in' })).toBe(true);
    expect(matches('not not in {"x"}', {})).toBe(true);
    expect(matches('has == "x"', { has: 'x' })).toBe(true);
    expect(matches('all != "x"', {})).toBe(true);
    expect(matches('global starts with "g"', { global: 'go' })).toBe(true);
    expect(matches('starts starts with "s"', { starts: 'sun' })).toBe(true);
    expect(parseCalicoSelector('has(has) && has(in)').canonical()).toBe('(has(has) && has(in))');
  });

  it('accepts the whole label character set [A-Za-z0-9_./-]', () => {
    expect(matches('Ab-0_9.z/Q == "v"', { 'Ab-0_9.z/Q': 'v' })).toBe(true);
    expect(matches('has(example.com/some-key_1)', { 'example.com/some-key_1': '' })).toBe(true);
    expect(matches('has(/)', { '/': 'x' })).toBe(true);
    expect(matches('-- == "x"', { '--': 'x' })).toBe(true);
    for (const src of ['a:b == "x"', 'a+b == "x"', 'ä == "x"', 'a@b == "x"', 'has(a:b)', '$a == "x"']) parseError(src);
  });

  it('accepts labels of exactly 512 characters and rejects 513', () => {
    const ok = 'k'.repeat(CALICO_MAX_LABEL_LENGTH);
    const long = 'k'.repeat(CALICO_MAX_LABEL_LENGTH + 1);
    expect(matches(`${ok} == "v"`, { [ok]: 'v' })).toBe(true);
    expect(matches(`has(${ok})`, { [ok]: 'v' })).toBe(true);
    expect(parseError(`${long} == "v"`).position).toBe(0);
    parseError(`has(${long})`);
    parseError(`a == "x" && ${long} in {}`);
  });

  it('reads strings in either quote style with no escapes', () => {
    expect(matches(`a == 'x"y'`, { a: 'x"y' })).toBe(true);
    expect(matches(`a == "x'y"`, { a: "x'y" })).toBe(true);
    expect(matches(`a == "x\\y"`, { a: 'x\\y' })).toBe(true);
    expect(matches('a == ""', { a: '' })).toBe(true);
    expect(matches('a == ""', {})).toBe(false);
    expect(matches('a == "  spaced\tvalue\n"', { a: '  spaced\tvalue\n' })).toBe(true);
    parseError(`a == "x\\"y"`);
    parseError(`a == 'x`);
    parseError(`a == "x'`);
  });

  it('chooses quotes like Calico when canonicalising', () => {
    expect(parseCalicoSelector(`a == 'x'`).canonical()).toBe('a == "x"');
    expect(parseCalicoSelector(`a == '"'`).canonical()).toBe(`a == '"'`);
    expect(parseCalicoSelector(`a != "'"`).canonical()).toBe(`a != "'"`);
    expect(parseCalicoSelector(`a in {'"', "'", 'b'}`).canonical()).toBe(`a in {'"', "'", "b"}`);
  });

  it('de-duplicates and sorts sets in byte order, and accepts an empty set and a trailing comma', () => {
    expect(parseCalicoSelector('a in {"b", "B", "a", "b", ""}').canonical()).toBe('a in {"", "B", "a", "b"}');
    expect(parseCalicoSelector('a in {"\u{1F600}", "\uFF5E"}').canonical()).toBe('a in {"\uFF5E", "\u{1F600}"}');
    expect(parseCalicoSelector('a not in {}').canonical()).toBe('a not in {}');
    expect(parseCalicoSelector('a in {"x",}').canonical()).toBe('a in {"x"}');
    parseError('a in {,}');
    parseError('a in {"x" "y"}');
    parseError('a in {"x",,}');
    parseError('a in ("x")');
    parseError('a in "x"');
  });

  it('applies Calico semantics to absent labels', () => {
    expect(matches('a != "x"', {})).toBe(true);
    expect(matches('a not in {"x"}', {})).toBe(true);
    expect(matches('a in {}', {})).toBe(false);
    expect(matches('a not in {}', { a: 'x' })).toBe(true);
    expect(matches('a contains ""', {})).toBe(false);
    expect(matches('a contains ""', { a: '' })).toBe(true);
    expect(matches('a starts with ""', { a: 'x' })).toBe(true);
    expect(matches('has(a)', { a: '' })).toBe(true);
  });

  it('compares case-sensitively', () => {
    expect(matches('a == "X"', { a: 'x' })).toBe(false);
    expect(matches('A == "x"', { a: 'x' })).toBe(false);
    expect(matches('a contains "X"', { a: 'xXx' })).toBe(true);
  });

  it('ignores inherited object properties as labels', () => {
    expect(matches('has(constructor)', {})).toBe(false);
    expect(matches('toString != "x"', {})).toBe(true);
  });

  it('rejects malformed structure with a position', () => {
    const cases: readonly [string, number][] = [
      ['b', 1],
      ['a == "x" &&', 11],
      ['(a == "x"', 9],
      ['a == "x")', 8],
      ['()', 1],
      ['a == "x" b == "y"', 9],
      ['a == "x" && %', 12],
      ['"x" == a', 0],
      ['a == b', 5],
    ];
    for (const [src, pos] of cases) expect(parseError(src).position, src).toBe(pos);
  });

  it('rejects absurd nesting with SelectorSyntaxError rather than overflowing the stack', () => {
    parseError(`${'('.repeat(100_000)}all()${')'.repeat(100_000)}`);
    expect(parseCalicoSelector(`${'('.repeat(200)}all()${')'.repeat(200)}`).canonical()).toBe('all()');
  });

  it('handles long flat expressions', () => {
    const terms = Array.from({ length: 5000 }, (_, i) => `k${i} == "v"`);
    const sel = parseCalicoSelector(terms.join(' || '));
    expect(sel.matches({ k4999: 'v' })).toBe(true);
    expect(sel.matches({ k5000: 'v' })).toBe(false);
  });

  it('does not accept a non-string', () => {
    expect(() => parseCalicoSelector(42 as unknown as string)).toThrow(SelectorSyntaxError);
  });
});

describe('calicoToQuery', () => {
  it('compiles each operator to the IR', () => {
    const q = (src: string) => calicoToQuery(parseCalicoSelector(src), { global: NONE });
    expect(q('all()')).toEqual(ALL);
    expect(q('')).toEqual(ALL);
    expect(q('global()')).toEqual(NONE);
    expect(q('has(a)')).toEqual({ op: 'exists', key: 'a' });
    expect(q('!has(a)')).toEqual({ op: 'not', term: { op: 'exists', key: 'a' } });
    expect(q('a == "x"')).toEqual({ op: 'in', key: 'a', values: ['x'] });
    expect(q('a != "x"')).toEqual({ op: 'notin', key: 'a', values: ['x'] });
    expect(q('a in {"y", "x"}')).toEqual({ op: 'in', key: 'a', values: ['x', 'y'] });
    expect(q('a not in {"x"}')).toEqual({ op: 'notin', key: 'a', values: ['x'] });
    expect(q('a in {}')).toEqual(NONE);
    expect(q('a not in {}')).toEqual(ALL);
    expect(q('a starts with "x"')).toEqual({ op: 'startsWith', key: 'a', value: 'x' });
    expect(q('has(a) && (has(b) || has(c))')).toEqual({
      op: 'and',
      terms: [
        { op: 'exists', key: 'a' },
        {
          op: 'or',
          terms: [
            { op: 'exists', key: 'b' },
            { op: 'exists', key: 'c' },
          ],
        },
      ],
    });
  });

  it('rewrites keys with mapKey', () => {
    const sel = parseCalicoSelector('projectcalico.org/name == "x" && has(env)');
    expect(calicoNamespaceQuery(sel)).toEqual({
      op: 'and',
      terms: [
        { op: 'in', key: NAME_KEY, values: ['x'] },
        { op: 'exists', key: 'env' },
      ],
    });
    expect(calicoToQuery(sel, { global: ALL, mapKey: (k) => `pcns.${k}` })).toEqual({
      op: 'and',
      terms: [
        { op: 'in', key: 'pcns.projectcalico.org/name', values: ['x'] },
        { op: 'exists', key: 'pcns.env' },
      ],
    });
  });
});

describe('calicoNamespaceQuery on a namespace index', () => {
  const namespaces: Namespace[] = [
    { name: 'prod', labels: { env: 'prod', team: 'payments' } },
    { name: 'staging', labels: { env: 'staging' } },
    { name: 'kube-system', labels: {} },
    { name: 'projectcalico-trap', labels: { 'projectcalico.org/name': 'prod' } },
  ];
  it('selects by the namespace name through projectcalico.org/name, never through a label of that key', () => {
    expect(namespacesSelected('projectcalico.org/name == "prod"', namespaces)).toEqual(['prod']);
    expect(namespacesSelected('projectcalico.org/name in {"prod", "staging"}', namespaces)).toEqual([
      'prod',
      'staging',
    ]);
  });
  it('sees the synthesized kubernetes.io/metadata.name label', () => {
    expect(namespacesSelected('kubernetes.io/metadata.name == "kube-system"', namespaces)).toEqual(['kube-system']);
  });
  it('selects every namespace with all() and none with global()', () => {
    expect(namespacesSelected('all()', namespaces)).toHaveLength(4);
    expect(namespacesSelected('global()', namespaces)).toEqual([]);
    expect(namespacesSelected('global() || env == "prod"', namespaces)).toEqual(['prod']);
  });
  it('lets != and !has() select namespaces without the label', () => {
    expect(namespacesSelected('env != "prod"', namespaces)).toEqual(['kube-system', 'projectcalico-trap', 'staging']);
    expect(namespacesSelected('!has(env)', namespaces)).toEqual(['kube-system', 'projectcalico-trap']);
    expect(namespacesSelected('env starts with "st"', namespaces)).toEqual(['staging']);
  });
});

describe('positiveEqualityTerms', () => {
  const terms = (src: string) => positiveEqualityTerms(parseCalicoSelector(src));
  it('lists == and in terms, one per value', () => {
    expect(terms('env == "prod" && team in {"b", "a"}')).toEqual([
      { key: 'env', value: 'prod' },
      { key: 'team', value: 'a' },
      { key: 'team', value: 'b' },
    ]);
  });
  it('skips terms under an odd number of negations and keeps those under an even number', () => {
    expect(terms('!env == "prod"')).toEqual([]);
    expect(terms('!(env == "prod" || team == "a")')).toEqual([]);
    expect(terms('!(!(env == "prod"))')).toEqual([{ key: 'env', value: 'prod' }]);
    expect(terms('!(has(x) && !(team in {"a"}))')).toEqual([{ key: 'team', value: 'a' }]);
  });
  it('ignores !=, not in, has, substring operators, all() and global()', () => {
    expect(terms('a != "x" && b not in {"y"} && has(c) && d contains "z" && all() && global()')).toEqual([]);
  });
  it('de-duplicates', () => {
    expect(terms('env == "prod" || env in {"prod"}')).toEqual([{ key: 'env', value: 'prod' }]);
  });
});

// ---------------------------------------------------------------------------------------------
// Property tests

const TOKENS = [
  'a',
  'b',
  'env',
  'x/y.z-1_',
  'has(a)',
  'has( b )',
  'has(',
  'all()',
  'global()',
  'all(',
  '==',
  '!=',
  '=',
  '!',
  '"v"',
  "'w'",
  '"',
  "'",
  '{',
  '}',
  ',',
  'in',
  'not in',
  'notin',
  'not',
  'contains',
  'starts with',
  'startswith',
  'ends with',
  'endswith',
  'with',
  '&&',
  '||',
  '&',
  '|',
  '(',
  ')',
  ' ',
  '\t',
  '\n',
  '%',
];

/** Structured selectors: always valid text, so canonicalisation can be checked for meaning. */
const LABELS = ['a', 'b', 'c'] as const;
const VALUES = ['', 'x', 'y', 'xy', '"', "'"] as const;

const quoteAny = (v: string, preferSingle: boolean): string =>
  v.includes('"') ? `'${v}'` : v.includes("'") ? `"${v}"` : preferSingle ? `'${v}'` : `"${v}"`;

const { selector: validSelector } = fc.letrec<{ selector: string; leaf: string }>((tie) => ({
  leaf: fc.oneof(
    fc.constantFrom('all()', 'global()', ' all( ) '),
    fc.constantFrom(...LABELS).map((l) => `has(${l})`),
    fc
      .tuple(
        fc.constantFrom(...LABELS),
        fc.constantFrom('==', '!=', 'contains', 'starts with', 'startswith', 'ends with', 'endswith'),
        fc.constantFrom(...VALUES),
        fc.boolean(),
      )
      .map(([l, op, v, q]) => `${l} ${op} ${quoteAny(v, q)}`),
    fc
      .tuple(
        fc.constantFrom(...LABELS),
        fc.constantFrom('in', 'not in', 'notin'),
        fc.array(fc.constantFrom(...VALUES), { maxLength: 4 }),
      )
      .map(([l, op, vs]) => `${l} ${op} {${vs.map((v) => quoteAny(v, false)).join(', ')}}`),
  ),
  selector: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    tie('leaf'),
    fc.tuple(fc.constantFrom('!', '!!', '! '), tie('selector')).map(([n, s]) => `${n}(${s})`),
    fc
      .tuple(tie('selector'), fc.constantFrom('&&', '||', ' && ', ' || '), tie('selector'))
      .map(([a, op, b]) => `${a}${op}${b}`),
    tie('selector').map((s) => `( ${s} )`),
  ),
}));

const labelSets = fc.dictionary(fc.constantFrom(...LABELS), fc.constantFrom(...VALUES, 'z', 'xxy'), { maxKeys: 3 });

describe('properties', () => {
  it('throws nothing but SelectorSyntaxError on any input', () => {
    const inputs = fc.oneof(
      fc.array(fc.constantFrom(...TOKENS), { maxLength: 14 }).map((ts) => ts.join(' ')),
      fc.array(fc.constantFrom(...TOKENS), { maxLength: 14 }).map((ts) => ts.join('')),
      fc.string({ maxLength: 40 }),
      fc.string({ unit: 'binary', maxLength: 40 }),
    );
    fc.assert(
      fc.property(inputs, (src) => {
        try {
          const sel = parseCalicoSelector(src);
          // Whatever parses canonicalises to text that parses again (and settles after one more round).
          const settled = parseCalicoSelector(sel.canonical()).canonical();
          expect(parseCalicoSelector(settled).canonical()).toBe(settled);
        } catch (e) {
          if (!(e instanceof SelectorSyntaxError)) throw e;
        }
      }),
      { numRuns: 3000 },
    );
  });

  it('canonical() re-parses to an equivalent selector', () => {
    fc.assert(
      fc.property(validSelector, fc.array(labelSets, { minLength: 1, maxLength: 6 }), (src, labelList) => {
        const sel: CalicoSelector = parseCalicoSelector(src);
        const again = parseCalicoSelector(sel.canonical());
        // Calico prints `!(!(x))` as `!!x`, which re-parses to `x`: the text settles after one more round.
        expect(parseCalicoSelector(again.canonical()).canonical()).toBe(again.canonical());
        const query = calicoToQuery(sel, { global: ALL });
        for (const labels of labelList) {
          expect(again.matches(labels)).toBe(sel.matches(labels));
          expect(matchLabels(query, labels)).toBe(sel.matches(labels));
        }
      }),
      { numRuns: 1000 },
    );
  });
});
