import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { FIXTURES } from '../helpers/fixtures.js';

const TEAM_B = `${FIXTURES}clusters/near-miss-violating.yaml`;

interface JsonReport {
  schemaVersion: number;
  clusters: { cluster: string; status: string; policies: { name: string; peers: { selects: string[] | null }[] }[] }[];
  findings: { rule: string; namespace: string | null; message: string; fix: string | null }[];
}

describe('labelguard scan --manifests', () => {
  it('the team-b scenario yields label-missing, peer-selects-nothing and near-miss end to end', async () => {
    const r = await runCli(['scan', '--no-store', '--manifests', TEAM_B, '--format', 'json']);
    expect(r.code).toBe(1);
    const report = JSON.parse(r.stdout) as JsonReport;
    expect(report.schemaVersion).toBe(1);
    const rules = report.findings.map((f) => `${f.rule}:${f.namespace}`);
    expect(rules).toEqual(
      expect.arrayContaining(['label-missing:team-b', 'near-miss:team-b', 'peer-selects-nothing:monitoring']),
    );
    const nearMiss = report.findings.find((f) => f.rule === 'near-miss');
    expect(nearMiss?.message).toBe(
      '`monitoring/allow-teams` expects `ns=team-b`; namespace `team-b` has no `ns` label',
    );
    expect(nearMiss?.fix).toBe('kubectl label namespace team-b ns=team-b --overwrite');
    const policy = report.clusters[0]?.policies.find((p) => p.name === 'allow-teams');
    expect(policy?.peers.map((p) => p.selects)).toEqual([['team-a'], []]);
  });

  it('prints a readable table by default, with progress on stderr', async () => {
    const r = await runCli(['scan', '--no-store', '--manifests', TEAM_B]);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('near-miss');
    expect(r.stdout).toContain('kubectl label namespace team-b ns=team-b --overwrite');
    expect(r.stdout.includes('\u001b[')).toBe(false);
    expect(r.stderr).toMatch(/near-miss-violating: complete \(3 namespaces, 3 policies/);
  });

  it('--fail-on sets the exit code threshold', async () => {
    const ok = await runCli([
      'scan',
      '--manifests',
      `${FIXTURES}clusters/peer-selects-nothing-violating.yaml`,
      '--fail-on',
      'critical',
    ]);
    expect(ok.code).toBe(0);
    const none = await runCli(['scan', '--no-store', '--manifests', TEAM_B, '--fail-on', 'none']);
    expect(none.code).toBe(0);
  });

  it('writes SARIF 2.1.0, JUnit and Markdown', async () => {
    const sarif = await runCli(['scan', '--no-store', '--manifests', TEAM_B, '--format', 'sarif']);
    const doc = JSON.parse(sarif.stdout) as { version: string; runs: { results: { ruleId: string }[] }[] };
    expect(doc.version).toBe('2.1.0');
    expect(doc.runs[0]?.results.map((x) => x.ruleId)).toContain('near-miss');
    const junit = await runCli(['scan', '--no-store', '--manifests', TEAM_B, '--format', 'junit']);
    expect(junit.stdout).toMatch(/^<\?xml/);
    expect(junit.stdout).toContain('labelguard.near-miss');
    const md = await runCli(['scan', '--no-store', '--manifests', TEAM_B, '--format', 'markdown']);
    expect(md.stdout).toContain('| ');
  });

  it('--output writes the report to a file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lg-out-'));
    const r = await runCli([
      'scan',
      '--no-store',
      '--manifests',
      TEAM_B,
      '--format',
      'json',
      '--output',
      join(dir, 'r.json'),
    ]);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
  });
});

describe('bad input: a clear error, exit 2, never a stack trace', () => {
  const dir = mkdtempSync(join(tmpdir(), 'lg-bad-'));
  const file = (name: string, content: string | Buffer): string => {
    const p = join(dir, name);
    writeFileSync(p, content);
    return p;
  };
  const expectClean = (stderr: string): void => {
    expect(stderr).not.toMatch(/\n\s+at .+:\d+:\d+/);
  };

  it('malformed YAML names the file and line', async () => {
    const p = file('broken.yaml', 'apiVersion: v1\nkind: Namespace\nmetadata:\n  name: [unclosed\n');
    const r = await runCli(['scan', '--no-store', '--manifests', p]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/broken\.yaml:\d+: invalid YAML/);
    expectClean(r.stderr);
  });

  it('non-UTF-8 bytes name the file and offset', async () => {
    const p = file('latin1.yaml', Buffer.from([0x6b, 0x69, 0x6e, 0x64, 0x3a, 0x20, 0xe9, 0x0a]));
    const r = await runCli(['scan', '--no-store', '--manifests', p]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/latin1\.yaml.*not valid UTF-8: byte 0xe9 at byte offset 6/);
    expectClean(r.stderr);
  });

  it('a config with wrong types names every field', async () => {
    const cfg = file('bad.config.yaml', 'requiredLabels:\n  - key: 42\nexclude: kube-system\n');
    const r = await runCli(['scan', '--no-store', '--manifests', TEAM_B, '--config', cfg]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('requiredLabels[0].key');
    expect(r.stderr).toContain('exclude');
    expectClean(r.stderr);
  });

  it('unknown kinds, invalid selectors and huge label values become findings or problems, not crashes', async () => {
    const huge = 'x'.repeat(100_000);
    const p = file(
      'odd.yaml',
      [
        'apiVersion: v1\nkind: Namespace\nmetadata: {name: a, labels: {ns: a}}',
        `apiVersion: v1\nkind: Namespace\nmetadata: {name: b, labels: {ns: "${huge}"}}`,
        'apiVersion: example.com/v1\nkind: Gizmo\nmetadata: {name: g}',
        'apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: p, namespace: a}\nspec:\n  podSelector: {matchExpressions: [{key: x, operator: Near}]}',
        'just a string',
      ].join('\n---\n'),
    );
    const r = await runCli(['scan', '--no-store', '--manifests', p, '--format', 'json']);
    expect(r.code).toBe(1);
    const report = JSON.parse(r.stdout) as JsonReport;
    expect(report.findings.map((f) => f.rule)).toEqual(expect.arrayContaining(['selector-invalid', 'label-invalid']));
    expectClean(r.stderr);
  });

  it('a missing path and an unknown option exit 2', async () => {
    expect((await runCli(['scan', '--no-store', '--manifests', join(dir, 'nope')])).code).toBe(2);
    expect((await runCli(['scan', '--no-store', '--bogus'])).code).toBe(2);
    expect((await runCli(['scan'])).code).toBe(2);
  });
});

describe('labelguard --help and --version', () => {
  it('exit 0', async () => {
    const help = await runCli(['--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('scan');
    expect((await runCli(['--version'])).code).toBe(0);
  });
});
