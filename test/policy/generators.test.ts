import { parseAllDocuments } from 'yaml';
import { describe, expect, it } from 'vitest';
import {
  dnsNameFor,
  gatekeeperPolicies,
  generateKyvernoPolicies,
  kyvernoPolicies,
  PolicyGenerationError,
  re2Incompatibility,
} from '../../lambda/policy/index.js';
import type { RequiredLabel } from '../../lambda/audit/index.js';
import { LabelguardError } from '../../lambda/errors.js';

type Rule = {
  name: string;
  match: { any: { resources: { operations: string[] } }[] };
  exclude?: { any: { resources: { names: string[] } }[] };
  preconditions?: { all: unknown[] };
  validate: Record<string, unknown> & { failureAction: string };
};
type Policy = { metadata: { name: string }; spec: { rules: Rule[] } };

const kyverno = (requiredLabels: RequiredLabel[], exclude: string[] = [], mode?: 'audit' | 'enforce') =>
  kyvernoPolicies({ requiredLabels, exclude }, mode ? { mode } : {}) as unknown as Policy[];

describe('Kyverno ClusterPolicies', () => {
  it('one policy per required label, each with a require and a keep rule', () => {
    const ps = kyverno([{ key: 'ns', value: '{{name}}' }, { key: 'team' }], ['kube-*']);
    expect(ps.map((p) => p.metadata.name)).toEqual(['labelguard-require-ns', 'labelguard-require-team']);
    const [require, keep] = ps[0]!.spec.rules;
    expect(require?.name).toBe('require-label');
    expect(require?.match.any[0]?.resources.operations).toEqual(['CREATE', 'UPDATE']);
    expect(keep?.name).toBe('keep-label');
    expect(keep?.match.any[0]?.resources.operations).toEqual(['UPDATE']);
    expect(require?.exclude?.any[0]?.resources.names).toEqual(['kube-*']);
    expect(keep?.exclude?.any[0]?.resources.names).toEqual(['kube-*']);
  });

  it('the value equal to the name uses request.object.metadata.name', () => {
    const [require] = kyverno([{ key: 'ns', value: '{{name}}' }])[0]!.spec.rules;
    expect(require?.validate.pattern).toEqual({ metadata: { labels: { ns: '{{ request.object.metadata.name }}' } } });
    expect(require?.exclude).toBeUndefined();
  });

  it('an allowed set becomes anyPattern alternatives, compared as written', () => {
    const [require, keep] = kyverno([{ key: 'tier', allowed: ['gold', '2024-01'] }])[0]!.spec.rules;
    expect(require?.validate.anyPattern).toEqual([
      { metadata: { labels: { tier: 'gold' } } },
      { metadata: { labels: { tier: '2024-01' } } },
    ]);
    expect(keep?.preconditions?.all[1]).toEqual({
      key: "{{ request.oldObject.metadata.labels.tier || '' }}",
      operator: 'AnyIn',
      value: ['gold', '2024-01'],
    });
  });

  it('a pattern becomes deny conditions: missing, or regex_match of the anchored pattern fails', () => {
    const [require] = kyverno([{ key: 'app.kubernetes.io/team', pattern: "[a-z]+|it's" }])[0]!.spec.rules;
    expect(require?.validate.deny).toEqual({
      conditions: {
        any: [
          {
            key: 'app.kubernetes.io/team',
            operator: 'AnyNotIn',
            value: '{{ keys(request.object.metadata.labels || `{}`) }}',
          },
          {
            key: `{{ regex_match('^(?:[a-z]+|it\\'s)$', request.object.metadata.labels."app.kubernetes.io/team" || '') }}`,
            operator: 'Equals',
            value: false,
          },
        ],
      },
    });
  });

  it('--mode sets every rule failureAction (enforce by default)', () => {
    const actions = (mode?: 'audit' | 'enforce') =>
      kyverno([{ key: 'a' }, { key: 'b', value: 'x' }], [], mode).flatMap((p) =>
        p.spec.rules.map((r) => r.validate.failureAction),
      );
    expect(new Set(actions())).toEqual(new Set(['Enforce']));
    expect(new Set(actions('enforce'))).toEqual(new Set(['Enforce']));
    expect(new Set(actions('audit'))).toEqual(new Set(['Audit']));
  });

  it('YAML 1.1 traps are quoted, so kubectl reads strings back', () => {
    const text = generateKyvernoPolicies({
      requiredLabels: [{ key: 'zone', allowed: ['yes', 'on', '012', '2024-01-15'] }],
      exclude: [],
    });
    const [doc] = parseAllDocuments(text, { version: '1.1' });
    const policy = doc?.toJS() as Policy;
    expect(
      (policy.spec.rules[0]?.validate.anyPattern as { metadata: { labels: { zone: unknown } } }[]).map(
        (p) => p.metadata.labels.zone,
      ),
    ).toEqual(['yes', 'on', '012', '2024-01-15']);
  });

  it('a pattern RE2 cannot run is refused with a typed error naming the label', () => {
    const attempt = () => kyverno([{ key: 'team', pattern: '(?!x)[a-z]+' }]);
    expect(attempt).toThrow(PolicyGenerationError);
    expect(attempt).toThrow(
      'requiredLabels "team": the pattern uses a lookahead (?= or (?!, which Kyverno and Gatekeeper (Go RE2) do not support',
    );
    try {
      attempt();
    } catch (e) {
      expect(e).toBeInstanceOf(LabelguardError);
      expect((e as PolicyGenerationError).code).toBe('policy-unsupported');
      expect((e as PolicyGenerationError).key).toBe('team');
    }
    expect(() => gatekeeperPolicies({ requiredLabels: [{ key: 'team', pattern: '(a)\\1' }], exclude: [] })).toThrow(
      /backreference/,
    );
  });
});

describe('dnsNameFor', () => {
  it('uses a key that is a DNS label as it is', () => {
    expect(dnsNameFor('labelguard-require-', 'cost-center')).toBe('labelguard-require-cost-center');
  });
  it('slugs any other key and adds a stable hash, so keys never collide', () => {
    const a = dnsNameFor('labelguard-require-', 'app.kubernetes.io/name');
    const b = dnsNameFor('labelguard-require-', 'app-kubernetes-io/name');
    expect(a).toMatch(/^labelguard-require-app-kubernetes-io-name-[0-9a-f]{8}$/);
    expect(b).not.toBe(a);
    expect(dnsNameFor('labelguard-require-', 'app.kubernetes.io/name')).toBe(a);
  });
  it('never exceeds 63 characters', () => {
    const long = `${'a'.repeat(60)}.example.com/${'b'.repeat(63)}`;
    const name = dnsNameFor('labelguard-require-', long);
    expect(name.length).toBeLessThanOrEqual(63);
    expect(name).toMatch(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/);
    expect(dnsNameFor('labelguard-require-', 'x'.repeat(63)).length).toBe(63);
  });
});

describe('re2Incompatibility', () => {
  it.each([
    ['[a-z]+', null],
    ['^(?:a|b)$', null],
    ['(?<team>[a-z]+)', null],
    ['[(?=]x', null],
    ['\\(?=', null],
    ['\\p{L}+', null],
    ['a(?=b)', 'a lookahead (?= or (?!'],
    ['(?<!a)b', 'a lookbehind (?<= or (?<!'],
    ['(a)\\1', 'a backreference such as \\1'],
    ['(?<n>a)\\k<n>', 'a named backreference \\k<name>'],
    ['\\u0041', 'a \\u escape (write the character, or \\x{...})'],
    ['[\\u0041]', 'a \\u escape (write the character, or \\x{...})'],
    ['[^]', 'an empty class [] or [^]'],
  ])('%s -> %s', (source, problem) => {
    expect(re2Incompatibility(source)).toBe(problem);
  });
});
