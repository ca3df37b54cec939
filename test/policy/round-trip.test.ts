/**
 * Round trip: the generated policies, put in a scanned cluster's manifests, make enforcement-missing
 * disappear; generated in audit mode, the finding stays and says why.
 */
import { describe, expect, it } from 'vitest';
import { evaluateCluster, type AuditSettings, type Finding, type RequiredLabel } from '../../lambda/audit/index.js';
import { generateGatekeeperPolicies, generateKyvernoPolicies, type PolicyMode } from '../../lambda/policy/index.js';
import { settings, snapshotOfText } from '../helpers/fixtures.js';

const NAMESPACES = `apiVersion: v1
kind: List
items:
  - apiVersion: v1
    kind: Namespace
    metadata: { name: team-a, labels: { ns: team-a, tier: gold, owner: alice } }
  - apiVersion: v1
    kind: Namespace
    metadata: { name: team-b, labels: { ns: team-b, tier: silver, owner: bob } }
  - apiVersion: v1
    kind: Namespace
    metadata: { name: kube-system }
`;

const REQUIRED: readonly RequiredLabel[] = [
  { key: 'ns', value: '{{name}}' },
  { key: 'tier', allowed: ['gold', 'silver'] },
  { key: 'owner', pattern: '[a-z]+' },
  { key: 'cost-center' },
];

type Generate = (
  input: { requiredLabels: readonly RequiredLabel[]; exclude: readonly string[] },
  options: { mode: PolicyMode },
) => string;

const ENGINES: readonly [string, Generate][] = [
  ['kyverno', generateKyvernoPolicies],
  ['gatekeeper', generateGatekeeperPolicies],
];

function scan(policies: string, overrides: Partial<AuditSettings> = {}): Finding[] {
  const snapshot = snapshotOfText(`${NAMESPACES}---\n${policies}`, 'prod', 'cluster.yaml');
  expect(snapshot.problems).toEqual([]);
  return evaluateCluster(snapshot, settings(overrides)).findings.filter((f) => f.rule === 'enforcement-missing');
}

describe.each(ENGINES)('%s policies in the cluster', (engine, generate) => {
  const exclude = ['kube-*'];

  it('without them, every required label is reported as not enforced', () => {
    const findings = scan('', { requiredLabels: REQUIRED, exclude });
    expect(findings).toHaveLength(REQUIRED.length);
    REQUIRED.forEach((r, i) => expect(findings[i]?.message).toContain(`\`${r.key}\``));
    expect(findings[0]?.message).toMatch(/is not enforced: no Kyverno or Gatekeeper policy requires it/);
  });

  it('the default config: enforce mode makes enforcement-missing disappear', () => {
    const text = generate({ requiredLabels: [{ key: 'ns', value: '{{name}}' }], exclude }, { mode: 'enforce' });
    expect(scan(text)).toEqual([]);
  });

  it('every kind of value rule: enforce mode makes enforcement-missing disappear', () => {
    const text = generate({ requiredLabels: REQUIRED, exclude }, { mode: 'enforce' });
    expect(scan(text, { requiredLabels: REQUIRED, exclude })).toEqual([]);
  });

  it('audit mode: the finding stays, naming the policy and its action', () => {
    const text = generate({ requiredLabels: REQUIRED, exclude }, { mode: 'audit' });
    const findings = scan(text, { requiredLabels: REQUIRED, exclude });
    expect(findings).toHaveLength(REQUIRED.length);
    const [policy, action] =
      engine === 'kyverno' ? ['labelguard-require-ns', 'Audit'] : ['labelguard-namespace-labels', 'dryrun'];
    expect(findings[0]?.message).toBe(
      `required label \`ns\` is only audited, not enforced: \`${policy}\` (${engine}, ${action}) would not block a Namespace without it`,
    );
    expect(findings[0]?.severity).toBe('medium');
    expect(findings[0]?.fix).toBe('labelguard policy kyverno --mode enforce | kubectl apply -f -');
  });

  it('policies generated for a weaker rule do not count: the finding says what they require instead', () => {
    const weaker: RequiredLabel[] = [{ key: 'tier', allowed: ['gold', 'silver', 'bronze'] }];
    const text = generate({ requiredLabels: weaker, exclude }, { mode: 'enforce' });
    const findings = scan(text, { requiredLabels: [{ key: 'tier', allowed: ['gold', 'silver'] }], exclude });
    expect(findings).toHaveLength(1);
    expect(findings[0]?.message).toMatch(
      /^required label `tier` \(one of "gold", "silver"\) is not fully enforced: `[a-z-]+` \((kyverno, Enforce|gatekeeper, deny)\) requires it one of "gold", "silver", "bronze", not one of "gold", "silver"$/,
    );
  });

  it('policies that exclude namespaces the audit covers do not count for them', () => {
    const text = generate(
      { requiredLabels: [{ key: 'ns', value: '{{name}}' }], exclude: ['kube-*', 'team-b'] },
      { mode: 'enforce' },
    );
    const findings = scan(text);
    expect(findings).toHaveLength(1);
    expect(findings[0]?.message).toContain('excludes namespace `team-b`');
    // Excluded from the audit as well: then the policy covers everything the audit looks at.
    expect(scan(text, { exclude: ['kube-*', 'team-b'] })).toEqual([]);
  });
});

it('kyverno and gatekeeper policies together: either one enforcing is enough', () => {
  const input = { requiredLabels: REQUIRED, exclude: ['kube-*'] };
  const both = `${generateKyvernoPolicies(input, { mode: 'audit' })}---\n${generateGatekeeperPolicies(input, { mode: 'enforce' })}`;
  expect(scan(both, input)).toEqual([]);
});
