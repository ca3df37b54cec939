import { describe, expect, it } from 'vitest';
import type { RuleId } from '../../lambda/audit/index.js';
import { evaluateFixture } from '../helpers/fixtures.js';

const rulesOf = (name: string, rule: RuleId) => evaluateFixture(name).findings.filter((f) => f.rule === rule);

describe('one fixture scenario per rule', () => {
  const cases: [RuleId, (fs: ReturnType<typeof rulesOf>) => void][] = [
    ['label-missing', (fs) => expect(fs.map((f) => f.namespace)).toEqual(['team-b'])],
    [
      'label-invalid',
      (fs) =>
        expect(fs.map((f) => [f.namespace, f.fix])).toEqual([
          ['payments', 'kubectl label namespace payments ns=payments --overwrite'],
        ]),
    ],
    ['namespace-unprotected', (fs) => expect(fs.map((f) => f.namespace)).toEqual(['sandbox'])],
    ['peer-selects-nothing', (fs) => expect(fs.map((f) => f.policy?.name)).toEqual(['allow-frontend'])],
    [
      'near-miss',
      (fs) =>
        expect(fs.map((f) => f.message)).toEqual([
          '`monitoring/allow-teams` expects `ns=team-b`; namespace `team-b` has no `ns` label',
        ]),
    ],
    [
      'selector-invalid',
      (fs) => expect(fs.map((f) => f.policy?.name).sort()).toEqual(['allow-api', 'allow-web', 'contradiction']),
    ],
    [
      'enforcement-missing',
      (fs) => expect(fs[0]?.message).toMatch(/only audited, not enforced: `require-ns-label` \(kyverno, Audit\)/),
    ],
  ];
  for (const [rule, check] of cases) {
    it(`${rule}: the violating scenario reports it`, () => {
      const fs = rulesOf(`${rule}-violating`, rule);
      expect(fs.length).toBeGreaterThan(0);
      check(fs);
    });
    it(`${rule}: the compliant scenario does not`, () => {
      expect(rulesOf(`${rule}-compliant`, rule)).toEqual([]);
    });
  }
});

describe('the team-b scenario', () => {
  const result = evaluateFixture('near-miss-violating');
  it('yields label-missing, peer-selects-nothing and near-miss together', () => {
    const rules = new Set(result.findings.map((f) => f.rule));
    expect([...rules]).toEqual(expect.arrayContaining(['label-missing', 'peer-selects-nothing', 'near-miss']));
  });
  it('gives the fix command', () => {
    const nm = result.findings.find((f) => f.rule === 'near-miss');
    expect(nm?.fix).toBe('kubectl label namespace team-b ns=team-b --overwrite');
    expect(nm?.namespace).toBe('team-b');
    expect(nm?.policy).toEqual({ kind: 'CiliumNetworkPolicy', namespace: 'monitoring', name: 'allow-teams' });
  });
  it('reports the dead peer precisely', () => {
    const dead = result.findings.filter((f) => f.rule === 'peer-selects-nothing');
    expect(dead).toHaveLength(1);
    expect(dead[0]?.message).toContain('spec.ingress[0].fromEndpoints[1]');
    const policy = result.policyReports().find((p) => p.name === 'allow-teams');
    expect(policy?.peers.map((p) => p.selects)).toEqual([['team-a'], []]);
    expect(policy?.appliesTo).toEqual(['monitoring']);
  });
  it('an invalid selector yields selector-invalid only, not also peer-selects-nothing', () => {
    const r = evaluateFixture('selector-invalid-violating');
    expect(r.findings.filter((f) => f.rule === 'peer-selects-nothing')).toEqual([]);
  });
});

describe('waivers', () => {
  const waiver = { rule: 'label-missing' as const, namespace: 'team-*', reason: 'migration', owner: 'platform-team' };
  it('a live waiver suppresses the finding but keeps it in the report', () => {
    const r = evaluateFixture('label-missing-violating', { waivers: [{ ...waiver, expires: '2027-01-31' }] });
    const f = r.findings.find((x) => x.rule === 'label-missing');
    expect(f?.waived).toEqual({ reason: 'migration', owner: 'platform-team', expires: '2027-01-31' });
    expect(r.findings.some((x) => x.rule === 'waiver-expired')).toBe(false);
  });
  it('an expired waiver stops applying and is itself reported', () => {
    const r = evaluateFixture('label-missing-violating', { waivers: [{ ...waiver, expires: '2026-06-30' }] });
    expect(r.findings.find((x) => x.rule === 'label-missing')?.waived).toBeUndefined();
    const expired = r.findings.filter((x) => x.rule === 'waiver-expired');
    expect(expired).toHaveLength(1);
    expect(expired[0]?.severity).toBe('low');
  });
  it('a date-only expiry lasts through that day', () => {
    const r = evaluateFixture('label-missing-violating', { waivers: [{ ...waiver, expires: '2026-11-25' }] });
    expect(r.findings.find((x) => x.rule === 'label-missing')?.waived).toBeDefined();
  });
});

describe('settings', () => {
  it('exclusions limit findings, never what a selector selects', () => {
    const r = evaluateFixture('near-miss-violating', { exclude: ['team-b'] });
    expect(r.findings.filter((f) => f.namespace === 'team-b')).toEqual([]);
    expect(r.findings.filter((f) => f.rule === 'peer-selects-nothing')).toHaveLength(1);
  });
  it('severity overrides apply per rule and per required label', () => {
    const r = evaluateFixture('label-missing-violating', {
      severities: { 'namespace-unprotected': 'low' },
      requiredLabels: [{ key: 'ns', value: '{{name}}', severity: 'critical' }],
    });
    expect(r.findings.find((f) => f.rule === 'label-missing')?.severity).toBe('critical');
  });
  it('allowed sets and patterns', () => {
    const allowed = evaluateFixture('label-invalid-violating', {
      requiredLabels: [{ key: 'ns', allowed: ['team-a', 'payment'] }],
    });
    expect(allowed.findings.filter((f) => f.rule === 'label-invalid')).toEqual([]);
    const pattern = evaluateFixture('label-invalid-violating', {
      requiredLabels: [{ key: 'ns', pattern: 'team-[a-z]+' }],
    });
    expect(pattern.findings.filter((f) => f.rule === 'label-invalid').map((f) => f.namespace)).toEqual(['payments']);
  });
});
