import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Labels } from '../../../lambda/audit/model.js';
import { createNamespaceIndex } from '../../../lambda/audit/namespace-index.js';
import { SelectorSyntaxError } from '../../../lambda/audit/selectors/errors.js';
import {
  compileLabelSelector,
  namespaceTermsOf,
  parseSelectorString,
} from '../../../lambda/audit/selectors/kubernetes.js';
import {
  isValidLabelKey,
  isValidLabelValue,
  validateLabelKey,
  validateLabelValue,
} from '../../../lambda/audit/selectors/labels.js';
import { ALL, matchLabels, NONE, type LabelQuery } from '../../../lambda/audit/selectors/query.js';

interface Vector {
  readonly id: string;
  readonly selector: unknown;
  readonly selector_syntax: 'string' | 'LabelSelector' | 'label_key' | 'label_value';
  readonly labels: Labels | null;
  readonly expect: boolean | 'parse_ok' | 'parse_error' | 'valid' | 'invalid';
  readonly note?: string;
}

const vectors = JSON.parse(
  readFileSync(new URL('../../../../shared/reference/vectors/kubernetes-selectors.json', import.meta.url), 'utf8'),
) as Vector[];

function compileVector(v: Vector): LabelQuery {
  return v.selector_syntax === 'string' ? parseSelectorString(v.selector as string) : compileLabelSelector(v.selector);
}

/** The same query evaluated through the namespace index (one namespace carrying the labels). */
function selectedByIndex(q: LabelQuery, labels: Labels): boolean {
  const index = createNamespaceIndex([{ name: 'ns', labels }], { synthesizeNameLabel: false });
  return index.select(q).has(0);
}

function syntaxError(run: () => unknown): SelectorSyntaxError {
  try {
    run();
  } catch (e) {
    expect(e).toBeInstanceOf(SelectorSyntaxError);
    return e as SelectorSyntaxError;
  }
  throw new Error('expected a SelectorSyntaxError');
}

describe('kubernetes-selectors.json vectors', () => {
  it('has vectors of every syntax', () => {
    expect(new Set(vectors.map((v) => v.selector_syntax))).toEqual(
      new Set(['string', 'LabelSelector', 'label_key', 'label_value']),
    );
  });

  it.each(vectors.map((v) => [`${v.id} ${v.selector_syntax} ${JSON.stringify(v.selector)}`, v] as const))(
    '%s',
    (_name, v) => {
      switch (v.expect) {
        case true:
        case false: {
          const q = compileVector(v);
          expect(matchLabels(q, v.labels ?? {})).toBe(v.expect);
          expect(selectedByIndex(q, v.labels ?? {})).toBe(v.expect);
          break;
        }
        case 'parse_ok':
          expect(() => compileVector(v)).not.toThrow();
          break;
        case 'parse_error':
          syntaxError(() => compileVector(v));
          break;
        case 'valid':
        case 'invalid': {
          const valid = v.expect === 'valid';
          if (v.selector_syntax === 'label_key') expect(isValidLabelKey(v.selector as string)).toBe(valid);
          else if (v.selector_syntax === 'label_value') expect(isValidLabelValue(v.selector as string)).toBe(valid);
          else if (valid) expect(() => compileVector(v)).not.toThrow();
          else syntaxError(() => compileVector(v));
          break;
        }
      }
    },
  );
});

describe('compileLabelSelector (metav1.LabelSelector)', () => {
  it('a nil selector matches nothing and {} matches everything, even an object without labels', () => {
    expect(compileLabelSelector(null)).toEqual(NONE);
    expect(compileLabelSelector(undefined)).toEqual(NONE);
    expect(compileLabelSelector({})).toEqual(ALL);
    expect(compileLabelSelector({ matchLabels: {}, matchExpressions: [] })).toEqual(ALL);
    expect(compileLabelSelector({ matchLabels: null, matchExpressions: null })).toEqual(ALL);
    expect(matchLabels(compileLabelSelector({}), {})).toBe(true);
  });

  it('ANDs matchLabels with matchExpressions', () => {
    const q = compileLabelSelector({
      matchLabels: { team: 'payments' },
      matchExpressions: [{ key: 'env', operator: 'In', values: ['prod', 'staging'] }],
    });
    expect(matchLabels(q, { team: 'payments', env: 'prod' })).toBe(true);
    expect(matchLabels(q, { team: 'payments', env: 'dev' })).toBe(false);
    expect(matchLabels(q, { env: 'prod' })).toBe(false);
  });

  it('NotIn and DoesNotExist match a namespace without the key (kube-system has no env label)', () => {
    const notIn = compileLabelSelector({ matchExpressions: [{ key: 'env', operator: 'NotIn', values: ['prod'] }] });
    const absent = compileLabelSelector({ matchExpressions: [{ key: 'env', operator: 'DoesNotExist' }] });
    expect(matchLabels(notIn, { 'kubernetes.io/metadata.name': 'kube-system' })).toBe(true);
    expect(matchLabels(notIn, { env: 'prod' })).toBe(false);
    expect(matchLabels(absent, {})).toBe(true);
    expect(matchLabels(absent, { env: '' })).toBe(false);
  });

  it('In ("") needs the key present with the empty value; NotIn ("") matches when it is absent', () => {
    const inEmpty = compileLabelSelector({ matchExpressions: [{ key: 'x', operator: 'In', values: [''] }] });
    expect(matchLabels(inEmpty, { x: '' })).toBe(true);
    expect(matchLabels(inEmpty, {})).toBe(false);
    const notInEmpty = compileLabelSelector({ matchExpressions: [{ key: 'x', operator: 'NotIn', values: [''] }] });
    expect(matchLabels(notInEmpty, {})).toBe(true);
    expect(matchLabels(notInEmpty, { x: '' })).toBe(false);
  });

  it('compares keys and values case-sensitively and without trimming', () => {
    const q = compileLabelSelector({ matchLabels: { Team: 'A' } });
    expect(matchLabels(q, { team: 'A' })).toBe(false);
    expect(matchLabels(q, { Team: 'a' })).toBe(false);
    expect(matchLabels(q, { Team: 'A ' })).toBe(false);
    expect(matchLabels(q, { Team: 'A' })).toBe(true);
  });

  it('treats duplicated set values as one set', () => {
    expect(compileLabelSelector({ matchExpressions: [{ key: 'x', operator: 'In', values: ['b', 'a', 'b'] }] })).toEqual(
      {
        op: 'in',
        key: 'x',
        values: ['a', 'b'],
      },
    );
  });

  it('rejects operators that are not LabelSelector operators, case-sensitively, with a hint', () => {
    expect(
      syntaxError(() => compileLabelSelector({ matchExpressions: [{ key: 'x', operator: 'Gt', values: ['1'] }] }))
        .message,
    ).toMatch(/unknown operator "Gt"/);
    const e = syntaxError(() =>
      compileLabelSelector({ matchExpressions: [{ key: 'x', operator: 'in', values: ['a'] }] }, 'spec.podSelector'),
    );
    expect(e.message).toContain('spec.podSelector.matchExpressions[0].operator');
    expect(e.message).toContain('did you mean In?');
  });

  it('rejects wrong JSON types, naming the offending part', () => {
    const cases: [unknown, string][] = [
      ['app=web', 'must be an object'],
      [[], 'must be an object'],
      [{ matchLabels: { replicas: 3 } }, 'matchLabels["replicas"]: the value must be a string, got number 3'],
      [{ matchLabels: { enabled: true } }, 'got boolean true'],
      [{ matchLabels: ['a'] }, 'matchLabels: must be a map'],
      [{ matchExpressions: { key: 'a' } }, 'matchExpressions: must be a list'],
      [{ matchExpressions: ['a'] }, 'matchExpressions[0]: must be an object'],
      [{ matchExpressions: [{ operator: 'Exists' }] }, 'matchExpressions[0].key: must be a string'],
      [{ matchExpressions: [{ key: 'a' }] }, 'matchExpressions[0].operator'],
      [{ matchExpressions: [{ key: 'a', operator: 'In', values: 'x' }] }, 'values: must be a list'],
      [{ matchExpressions: [{ key: 'a', operator: 'In', values: ['x', 1] }] }, 'values[1]: must be a string'],
    ];
    for (const [sel, message] of cases)
      expect(syntaxError(() => compileLabelSelector(sel, 'sel')).message).toContain(message);
  });

  it('checks value counts: In/NotIn need values, Exists/DoesNotExist take none (null values are none)', () => {
    syntaxError(() => compileLabelSelector({ matchExpressions: [{ key: 'a', operator: 'NotIn' }] }));
    syntaxError(() =>
      compileLabelSelector({ matchExpressions: [{ key: 'a', operator: 'DoesNotExist', values: ['x'] }] }),
    );
    expect(compileLabelSelector({ matchExpressions: [{ key: 'a', operator: 'Exists', values: null }] })).toEqual({
      op: 'exists',
      key: 'a',
    });
    expect(compileLabelSelector({ matchExpressions: [{ key: 'a', operator: 'DoesNotExist', values: [] }] })).toEqual({
      op: 'notexists',
      key: 'a',
    });
  });

  it('validates keys and values of matchLabels and matchExpressions', () => {
    expect(syntaxError(() => compileLabelSelector({ matchLabels: { 'Example.com/abc': 'x' } })).message).toMatch(
      /lower-case DNS subdomain/,
    );
    syntaxError(() => compileLabelSelector({ matchLabels: { env: 'prod!' } }));
    syntaxError(() => compileLabelSelector({ matchExpressions: [{ key: 'a/b/c', operator: 'Exists' }] }));
    const e = syntaxError(() =>
      compileLabelSelector({ matchExpressions: [{ key: 'env', operator: 'In', values: ['-prod'] }] }, 'x'),
    );
    expect(e.message).toContain('x.matchExpressions[0].values[0]');
  });
});

describe('parseSelectorString (labels.Parse)', () => {
  const matches = (s: string, labels: Labels): boolean => matchLabels(parseSelectorString(s), labels);

  it('the empty string selects everything', () => {
    expect(parseSelectorString('')).toEqual(ALL);
    expect(parseSelectorString(' \t\r\n')).toEqual(ALL);
  });

  it('reads bare keys as Exists and !key as DoesNotExist', () => {
    expect(parseSelectorString('x')).toEqual({ op: 'exists', key: 'x' });
    expect(parseSelectorString('!x')).toEqual({ op: 'notexists', key: 'x' });
    expect(matches('x', { x: '' })).toBe(true);
    expect(matches('!x', {})).toBe(true);
  });

  it('rejects !key with an operator', () => {
    syntaxError(() => parseSelectorString('!x=a'));
    syntaxError(() => parseSelectorString('!x in (a)'));
  });

  it('reads =, == and != with a single value, which may be empty', () => {
    expect(parseSelectorString('x=a')).toEqual(parseSelectorString('x==a'));
    expect(matches('x=', { x: '' })).toBe(true);
    expect(matches('x=', {})).toBe(false);
    expect(matches('x!=a', {})).toBe(true);
    expect(matches('x!=a', { x: 'a' })).toBe(false);
    expect(parseSelectorString('x=,z= ')).toEqual({
      op: 'and',
      terms: [
        { op: 'in', key: 'x', values: [''] },
        { op: 'in', key: 'z', values: [''] },
      ],
    });
  });

  it('reads set values with empty entries from "()", "(," ",," and trailing commas', () => {
    expect(parseSelectorString('x in ()')).toEqual({ op: 'in', key: 'x', values: [''] });
    expect(parseSelectorString('x in (a,,)')).toEqual({ op: 'in', key: 'x', values: ['', 'a'] });
    expect(parseSelectorString('x notin (, a)')).toEqual({ op: 'notin', key: 'x', values: ['', 'a'] });
    expect(parseSelectorString('x notin (abc,,def)')).toEqual({ op: 'notin', key: 'x', values: ['', 'abc', 'def'] });
    expect(parseSelectorString('x in (a,,a,,a,,a,,)')).toEqual({ op: 'in', key: 'x', values: ['', 'a'] });
  });

  it('treats in and notin as keywords only where an operator is expected', () => {
    expect(parseSelectorString('a in (x,y,notin, z,in)')).toEqual({
      op: 'in',
      key: 'a',
      values: ['in', 'notin', 'x', 'y', 'z'],
    });
    expect(matches('in in (notin)', { in: 'notin' })).toBe(true);
    expect(parseSelectorString('!in')).toEqual({ op: 'notexists', key: 'in' });
    expect(matches('notin=in', { notin: 'in' })).toBe(true);
  });

  it('compares > and < as int64 integers, never matching non-integers', () => {
    expect(matches('x>1', { x: '10' })).toBe(true);
    expect(matches('x<10', { x: '9' })).toBe(true);
    expect(matches('x>1', { x: '1' })).toBe(false);
    expect(matches('x>1', {})).toBe(false);
    expect(matches('x>1', { x: '2.5' })).toBe(false);
    syntaxError(() => parseSelectorString('x>a'));
    syntaxError(() => parseSelectorString('x>'));
    syntaxError(() => parseSelectorString('x>99999999999999999999'));
    syntaxError(() => parseSelectorString('x>-1')); // "-1" is an integer but not a valid label value
  });

  it('has no OR, no parentheses for grouping, and no stray commas', () => {
    for (const bad of ['x=a||y=b', '(x)', 'x,,y', ',x,y', 'a in (xyz),', 'a in (xyz)b notin ()', 'x==a==b', 'x = = a'])
      syntaxError(() => parseSelectorString(bad));
  });

  it('ignores whitespace between tokens but needs commas inside sets', () => {
    expect(parseSelectorString('  x  notin\t\t\t(abc,def) ')).toEqual(parseSelectorString('x notin (abc,def)'));
    syntaxError(() => parseSelectorString('a in (xyz abc)'));
    syntaxError(() => parseSelectorString('x nott in (y)'));
  });

  it('validates keys and values the way NewRequirement does', () => {
    syntaxError(() => parseSelectorString('Example.com/x=a'));
    syntaxError(() => parseSelectorString('x=a b'));
    syntaxError(() => parseSelectorString(`x=${'v'.repeat(64)}`));
    expect(() => parseSelectorString('example.com/Key_1=Value.1')).not.toThrow();
  });

  it('sorts requirements by key, so the order of the input does not matter', () => {
    expect(parseSelectorString('x=a,a=x')).toEqual(parseSelectorString('a=x,x=a'));
  });

  it('reports the offset of the offending token', () => {
    const e = syntaxError(() => parseSelectorString('x=a,,y'));
    expect(e.position).toBe(4);
    expect(e.message).toContain("found ','");
  });
});

describe('label key and value syntax', () => {
  it('limits the name part to 63 characters and the prefix to a 253-character lower-case DNS subdomain', () => {
    expect(isValidLabelKey('a'.repeat(63))).toBe(true);
    expect(isValidLabelKey('a'.repeat(64))).toBe(false);
    const label = 'a'.repeat(63);
    const prefix253 = [label, label, label, 'a'.repeat(61)].join('.');
    expect(prefix253.length).toBe(253);
    expect(isValidLabelKey(`${prefix253}/x`)).toBe(true);
    expect(isValidLabelKey(`${prefix253}a/x`)).toBe(false);
  });

  it('rejects empty prefixes and names, and says why', () => {
    expect(validateLabelKey('/simple')).toMatch(/prefix/);
    expect(validateLabelKey('example.com/')).toMatch(/name part must not be empty/);
    expect(validateLabelKey('')).toMatch(/must not be empty/);
    expect(validateLabelKey('a b')).toMatch(/alphanumeric/);
    expect(validateLabelKey('kubernetes.io/metadata.name')).toBeNull();
  });

  it('accepts the empty value and 63 characters, rejects 64 and bad edges', () => {
    expect(validateLabelValue('')).toBeNull();
    expect(isValidLabelValue('A_b-c.D')).toBe(true);
    expect(isValidLabelValue('x'.repeat(63))).toBe(true);
    expect(validateLabelValue('x'.repeat(64))).toMatch(/no more than 63/);
    expect(isValidLabelValue('.x')).toBe(false);
    expect(isValidLabelValue('x_')).toBe(false);
  });
});

describe('namespaceTermsOf', () => {
  it('lists matchLabels entries and single-value In expressions only', () => {
    expect(
      namespaceTermsOf({
        matchLabels: { team: 'payments' },
        matchExpressions: [
          { key: 'env', operator: 'In', values: ['prod'] },
          { key: 'tier', operator: 'In', values: ['a', 'b'] },
          { key: 'zone', operator: 'NotIn', values: ['x'] },
          { key: 'owner', operator: 'Exists' },
        ],
      }),
    ).toEqual([
      { key: 'team', value: 'payments' },
      { key: 'env', value: 'prod' },
    ]);
  });

  it('never throws and skips malformed parts', () => {
    for (const sel of [null, undefined, 'x', 1, [], { matchLabels: 'x' }, { matchExpressions: [null, 1, { key: 1 }] }])
      expect(namespaceTermsOf(sel)).toEqual([]);
    expect(namespaceTermsOf({ matchLabels: { a: 1, b: 'c' } })).toEqual([{ key: 'b', value: 'c' }]);
  });
});

describe('parsers only ever throw SelectorSyntaxError (property)', () => {
  const grammarToken = fc.constantFrom(
    'x',
    'a',
    'env',
    'example.com/k',
    'in',
    'notin',
    '=',
    '==',
    '!=',
    '!',
    '(',
    ')',
    ',',
    '>',
    '<',
    '1',
    '-1',
    '',
    ' ',
    '\t',
    '\n',
    '||',
    '\0',
    'é',
    'A_b.c',
  );
  const grammarString = fc.array(grammarToken, { maxLength: 12 }).map((t) => t.join(''));
  const onlySyntaxErrors = (run: () => unknown): boolean => {
    try {
      run();
    } catch (e) {
      if (!(e instanceof SelectorSyntaxError)) throw e;
    }
    return true;
  };
  const labelsArb = fc.dictionary(
    fc.constantFrom('x', 'a', 'env', 'in', 'notin'),
    fc.constantFrom('', 'a', '1', 'x', 'in'),
  );

  it('parseSelectorString on strings built from the grammar and on arbitrary strings', () => {
    fc.assert(
      fc.property(fc.oneof(grammarString, fc.string(), fc.string({ unit: 'grapheme' })), (s) =>
        onlySyntaxErrors(() => parseSelectorString(s)),
      ),
    );
  });

  it('a parsed string selector matches the same sets through matchLabels and the namespace index', () => {
    fc.assert(
      fc.property(grammarString, labelsArb, (s, labels) => {
        let q: LabelQuery;
        try {
          q = parseSelectorString(s);
        } catch {
          return true;
        }
        return matchLabels(q, labels) === selectedByIndex(q, labels);
      }),
    );
  });

  const requirementArb = fc.record(
    {
      key: fc.oneof(fc.constantFrom('env', 'a/b', 'Bad/Key', ''), fc.anything()),
      operator: fc.oneof(fc.constantFrom('In', 'NotIn', 'Exists', 'DoesNotExist', 'in', 'Gt'), fc.anything()),
      values: fc.oneof(fc.array(fc.constantFrom('prod', '', 'a b')), fc.anything()),
    },
    { requiredKeys: [] },
  );
  const selectorArb = fc.oneof(
    fc.anything(),
    fc.jsonValue(),
    fc.record(
      {
        matchLabels: fc.oneof(fc.dictionary(fc.string(), fc.oneof(fc.string(), fc.integer())), fc.anything()),
        matchExpressions: fc.oneof(fc.array(requirementArb, { maxLength: 4 }), fc.anything()),
      },
      { requiredKeys: [] },
    ),
  );

  it('compileLabelSelector on arbitrary JSON values and selector-shaped objects', () => {
    fc.assert(fc.property(selectorArb, (sel) => onlySyntaxErrors(() => compileLabelSelector(sel))));
  });

  it('namespaceTermsOf never throws', () => {
    fc.assert(fc.property(selectorArb, (sel) => Array.isArray(namespaceTermsOf(sel))));
  });
});
