import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../lambda/config.js';
import { generateGatekeeperPolicies } from '../../lambda/policy/index.js';
import { runCli } from '../helpers/cli.js';
import { FIXTURES } from '../helpers/fixtures.js';

const CONFIG = `requiredLabels:
  - key: ns
    value: "{{name}}"
  - key: tier
    allowed: [gold, silver]
exclude: [kube-*, sandbox-?]
`;

const NAMESPACES = `apiVersion: v1
kind: List
items:
  - { apiVersion: v1, kind: Namespace, metadata: { name: team-a, labels: { ns: team-a, tier: gold } } }
  - { apiVersion: v1, kind: Namespace, metadata: { name: kube-system } }
  - apiVersion: networking.k8s.io/v1
    kind: NetworkPolicy
    metadata: { name: default-deny, namespace: team-a }
    spec: { podSelector: {}, policyTypes: [Ingress, Egress] }
`;

function workdir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'labelguard-policy-'));
  writeFileSync(join(dir, 'lg.yaml'), CONFIG);
  return dir;
}

interface JsonReport {
  findings: { rule: string; message: string }[];
}

describe('labelguard policy', () => {
  it('kyverno with an empty config prints the default policy (the golden file) and exits 0', async () => {
    const empty = join(mkdtempSync(join(tmpdir(), 'labelguard-policy-')), 'empty.yaml');
    writeFileSync(empty, '');
    const r = await runCli(['policy', 'kyverno', '--config', empty]);
    expect(r.stderr).toBe('');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe(readFileSync(`${FIXTURES}golden/kyverno-default.golden.yaml`, 'utf8'));
  });

  it('gatekeeper --config --mode audit --output writes what the generator makes of that config', async () => {
    const dir = workdir();
    const out = join(dir, 'gatekeeper.yaml');
    const r = await runCli([
      'policy',
      'gatekeeper',
      '--config',
      join(dir, 'lg.yaml'),
      '--mode',
      'audit',
      '--output',
      out,
    ]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe('');
    const config = loadConfig(CONFIG, 'lg.yaml');
    expect(readFileSync(out, 'utf8')).toBe(generateGatekeeperPolicies(config, { mode: 'audit' }));
    expect(readFileSync(out, 'utf8')).toContain('enforcementAction: dryrun');
  });

  it('round trip through the CLI: scan --manifests finds the label enforced once the policy is in the manifests', async () => {
    const dir = workdir();
    const manifests = join(dir, 'manifests');
    mkdirSync(manifests);
    writeFileSync(join(manifests, 'namespaces.yaml'), NAMESPACES);
    const scan = [
      'scan',
      '--no-store',
      '--manifests',
      manifests,
      '--cluster',
      'prod',
      '--config',
      join(dir, 'lg.yaml'),
      '--format',
      'json',
    ];
    const rulesOf = (stdout: string) => (JSON.parse(stdout) as JsonReport).findings.map((f) => f.rule);
    // Without the policy both labels are reported (test/policy/round-trip.test.ts); with it, nothing.

    const policies = join(manifests, 'policies.yaml');
    const written = await runCli(['policy', 'kyverno', '--config', join(dir, 'lg.yaml'), '--output', policies]);
    expect(written.code, written.stderr).toBe(0);
    const after = await runCli(scan);
    expect(after.stderr).toMatch(/prod: complete/);
    expect(rulesOf(after.stdout)).toEqual([]);
    expect(after.code, after.stderr).toBe(0);
  });

  it('a pattern the policy languages cannot run: exit 2 and one clear line', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'labelguard-policy-'));
    writeFileSync(join(dir, 'lg.yaml'), 'requiredLabels: [{ key: team, pattern: "(?!x)[a-z]+" }]\n');
    const r = await runCli(['policy', 'kyverno', '--config', join(dir, 'lg.yaml')]);
    expect(r.code, r.stderr).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe(
      'labelguard: requiredLabels "team": the pattern uses a lookahead (?= or (?!, which Kyverno and Gatekeeper (Go RE2) do not support\n',
    );
  });

  it('an unknown mode or engine is a usage error (exit 2)', async () => {
    const [mode, engine] = await Promise.all([
      runCli(['policy', 'kyverno', '--mode', 'warn']),
      runCli(['policy', 'opa']),
    ]);
    expect(mode.code).toBe(2);
    expect(mode.stderr).toContain("argument 'warn' is invalid. Allowed choices are audit, enforce.");
    expect(engine.code).toBe(2);
  });
});
