/**
 * The CI gate examples under examples/ci/ (documented in docs/ci-gate.md) are valid YAML, call the
 * CLI only with commands and options that exist, and behave as documented: the scan writes the
 * report the next step uploads, and its exit code fails the job when there are findings.
 */
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Command } from 'commander';
import { parseDocument } from 'yaml';
import { describe, expect, it } from 'vitest';
import { createProgram } from '../../lambda/cli/program.js';
import { generateKyvernoPolicies } from '../../lambda/policy/index.js';
import { loadConfig } from '../../lambda/config.js';
import { ROOT, runCli } from '../helpers/cli.js';

type Yaml = Record<string, unknown>;

function readWorkflow(name: string): Yaml {
  const doc = parseDocument(readFileSync(`${ROOT}examples/ci/${name}`, 'utf8'), { uniqueKeys: true });
  expect(doc.errors).toEqual([]);
  expect(doc.warnings).toEqual([]);
  return doc.toJS() as Yaml;
}

const github = readWorkflow('github-actions.yml');
const gitlab = readWorkflow('gitlab-ci.yml');

interface GithubStep {
  name?: string;
  uses?: string;
  run?: string;
  if?: string;
  with?: Record<string, unknown>;
}
const githubSteps = (github.jobs as { labelguard: { steps: GithubStep[] } }).labelguard.steps;
const gitlabJob = gitlab.labelguard as { script: string[]; before_script: string[]; artifacts: Yaml };

/** Shell words of one command line: quotes removed, `$VAR` kept as written. */
function shellWords(line: string): string[] {
  const words: string[] = [];
  const re = /"((?:[^"\\]|\\.)*)"|'([^']*)'|(\S+)/g;
  for (const m of line.matchAll(re)) words.push(m[1] ?? m[2] ?? m[3] ?? '');
  return words;
}

/** Every `labelguard ...` command in the example's shell lines. */
function labelguardCommands(lines: readonly string[]): string[][] {
  return lines
    .flatMap((l) => l.split('\n'))
    .map((l) => shellWords(l.trim()))
    .filter((w) => w[0] === 'labelguard')
    .map((w) => w.slice(1));
}

const githubCommands = labelguardCommands(githubSteps.flatMap((s) => (s.run === undefined ? [] : [s.run])));
const gitlabCommands = labelguardCommands([...gitlabJob.before_script, ...gitlabJob.script]);

/** Checks a command line against the real commander program, without running it. */
function checkAgainstProgram(args: readonly string[]): string[] {
  const problems: string[] = [];
  let cmd: Command = createProgram();
  let i = 0;
  while (i < args.length && !args[i]!.startsWith('-') && cmd.commands.length > 0) {
    const next = cmd.commands.find((c) => c.name() === args[i]);
    if (!next) return [`no command "${args.slice(0, i + 1).join(' ')}"`];
    cmd = next;
    i++;
  }
  if (cmd.commands.length > 0) problems.push(`"${args.join(' ')}" names no subcommand`);
  for (; i < args.length; i++) {
    const flag = args[i]!;
    const option = cmd.options.find((o) => o.long === flag || o.short === flag);
    if (!flag.startsWith('-')) {
      if (cmd.registeredArguments.length === 0) problems.push(`${cmd.name()}: unexpected argument ${flag}`);
      continue;
    }
    if (!option) {
      problems.push(`${cmd.name()}: unknown option ${flag}`);
      while (i + 1 < args.length && !args[i + 1]!.startsWith('-')) i++; // its value
      continue;
    }
    if (option.required || option.optional) {
      const values: string[] = [];
      while (i + 1 < args.length && !args[i + 1]!.startsWith('-')) {
        values.push(args[++i]!);
        if (!option.variadic) break;
      }
      if (option.required && values.length === 0) problems.push(`${flag} needs a value`);
      for (const v of values) {
        if (option.argChoices && !option.argChoices.includes(v))
          problems.push(`${flag} ${v}: not one of ${option.argChoices.join(', ')}`);
      }
    }
  }
  return problems;
}

const valueOf = (args: readonly string[], flag: string): string | undefined => args[args.indexOf(flag) + 1];

describe('examples/ci/github-actions.yml', () => {
  it('is a workflow that may upload to code scanning', () => {
    expect(Object.keys(github)).toEqual(expect.arrayContaining(['name', 'on', 'permissions', 'jobs']));
    expect(github.permissions).toEqual({ contents: 'read', 'security-events': 'write' });
  });

  it('calls labelguard only with commands and options that exist', () => {
    expect(githubCommands.map((c) => c.slice(0, 2).join(' '))).toEqual(['scan --manifests', 'policy kyverno']);
    for (const args of githubCommands) expect(checkAgainstProgram(args)).toEqual([]);
  });

  it('uploads the SARIF file the scan writes, even when the scan failed the job', () => {
    const scan = githubCommands.find((c) => c[0] === 'scan')!;
    expect(valueOf(scan, '--format')).toBe('sarif');
    const upload = githubSteps.find((s) => s.uses?.startsWith('github/codeql-action/upload-sarif@'));
    expect(upload?.with?.sarif_file).toBe(valueOf(scan, '--output'));
    expect(upload?.if).toMatch(/always\(\)/);
    // The scan step itself does not swallow the exit code.
    const step = githubSteps.find((s) => s.run?.includes('labelguard scan'));
    expect(step?.run).not.toMatch(/\|\||continue-on-error|; *true/);
    expect(step).not.toHaveProperty('continue-on-error');
  });
});

describe('examples/ci/gitlab-ci.yml', () => {
  it('is a job with a JUnit report kept also when it fails', () => {
    expect(gitlabJob.artifacts).toMatchObject({ when: 'always', reports: { junit: 'labelguard-junit.xml' } });
  });

  it('calls labelguard only with commands and options that exist', () => {
    expect(gitlabCommands.map((c) => c.slice(0, 2).join(' '))).toEqual(['scan --manifests', 'policy kyverno']);
    for (const args of gitlabCommands) expect(checkAgainstProgram(args)).toEqual([]);
    const scan = gitlabCommands.find((c) => c[0] === 'scan')!;
    expect(valueOf(scan, '--format')).toBe('junit');
    expect(valueOf(scan, '--output')).toBe('labelguard-junit.xml');
  });
});

describe('docs/ci-gate.md', () => {
  it('shows the commands the example files run, word for word', () => {
    const doc = readFileSync(`${ROOT}docs/ci-gate.md`, 'utf8');
    const blocks = [...doc.matchAll(/```yaml\n([\s\S]*?)```/g)].map((m) => m[1] ?? '');
    expect(blocks).toHaveLength(2);
    const shown = labelguardCommands(
      blocks
        .join('\n')
        .split('\n')
        .map((l) => l.replace(/^\s*(- )?(run: (\| )?)?/, '')),
    );
    expect(shown.map((c) => c.join(' '))).toEqual([...githubCommands, ...gitlabCommands].map((c) => c.join(' ')));
  });
});

describe('the checker catches what it should', () => {
  it('unknown commands, options and choices', () => {
    expect(checkAgainstProgram(['scna'])).toEqual(['no command "scna"']);
    expect(checkAgainstProgram(['scan', '--formats', 'sarif'])).toEqual(['scan: unknown option --formats']);
    expect(checkAgainstProgram(['scan', '--format', 'sarif2'])).toEqual([
      '--format sarif2: not one of table, json, sarif, junit, markdown',
    ]);
    expect(checkAgainstProgram(['policy'])).toEqual(['"policy" names no subcommand']);
    expect(checkAgainstProgram(['rules', 'extra'])).toEqual(['rules: unexpected argument extra']);
    expect(checkAgainstProgram(['policy', 'kyverno', '--mode', 'dryrun'])).toEqual([
      '--mode dryrun: not one of audit, enforce',
    ]);
  });
});

// ------------------------------------------------------------------------------------------------
// Run the gate the way the workflows do, on a repository layout like theirs.

const CONFIG = 'requiredLabels: [{ key: ns, value: "{{name}}" }]\nexclude: [kube-*]\n';
const NAMESPACES = (teamBLabels: string) => `apiVersion: v1
kind: List
items:
  - { apiVersion: v1, kind: Namespace, metadata: { name: team-a, labels: { ns: team-a } } }
  - { apiVersion: v1, kind: Namespace, metadata: { name: team-b, labels: ${teamBLabels} } }
  - apiVersion: networking.k8s.io/v1
    kind: NetworkPolicy
    metadata: { name: default-deny, namespace: team-a }
    spec: { podSelector: {}, policyTypes: [Ingress, Egress] }
  - apiVersion: networking.k8s.io/v1
    kind: NetworkPolicy
    metadata: { name: default-deny, namespace: team-b }
    spec: { podSelector: {}, policyTypes: [Ingress, Egress] }
`;

/** A repository like the examples expect: labelguard.config.yaml, deploy/ with the generated admission policy. */
function repository(teamBLabels: string): string {
  const repo = mkdtempSync(join(tmpdir(), 'labelguard-ci-'));
  writeFileSync(join(repo, 'labelguard.config.yaml'), CONFIG);
  mkdirSync(join(repo, 'deploy', 'admission'), { recursive: true });
  writeFileSync(join(repo, 'deploy', 'namespaces.yaml'), NAMESPACES(teamBLabels));
  const config = loadConfig(CONFIG, 'labelguard.config.yaml');
  writeFileSync(join(repo, 'deploy', 'admission', 'labelguard-kyverno.yaml'), generateKyvernoPolicies(config));
  return repo;
}

/** The example's command with its repository-relative paths made absolute (the CLI runs from the project root). */
function inRepository(args: readonly string[], repo: string): string[] {
  return args.map((a, i) => (['--manifests', '--config', '--output'].includes(args[i - 1] ?? '') ? join(repo, a) : a));
}

interface Sarif {
  version: string;
  runs: { tool: { driver: { name: string } }; results: { ruleId: string }[] }[];
}

describe('the GitHub Actions gate, run', () => {
  const scan = githubCommands.find((c) => c[0] === 'scan')!;

  it('fails the job (exit 1) on a namespace without its label, and writes the SARIF to upload', async () => {
    const repo = repository('{}');
    const r = await runCli(inRepository(scan, repo));
    expect(r.code, r.stderr).toBe(1);
    const sarif = JSON.parse(readFileSync(join(repo, 'labelguard.sarif'), 'utf8')) as Sarif;
    expect(sarif.version).toBe('2.1.0');
    expect(sarif.runs[0]?.tool.driver.name).toBe('labelguard');
    // The admission policy is in deploy/: the label is enforced, only the namespace is wrong.
    expect(sarif.runs[0]?.results.map((x) => x.ruleId)).toEqual(['label-missing']);
  });

  it('passes (exit 0) when the manifests comply, and the generated policy is up to date', async () => {
    const repo = repository('{ ns: team-b }');
    const r = await runCli(inRepository(scan, repo));
    expect(r.stderr).toMatch(/prod: complete/);
    expect(r.code, r.stderr).toBe(0);
    const sarif = JSON.parse(readFileSync(join(repo, 'labelguard.sarif'), 'utf8')) as Sarif;
    expect(sarif.runs[0]?.results).toEqual([]);
    const policy = githubCommands.find((c) => c[0] === 'policy')!;
    const out = join(repo, 'generated.yaml');
    const generated = await runCli([...inRepository(policy, repo).slice(0, -1), out]);
    expect(generated.code, generated.stderr).toBe(0);
    expect(readFileSync(out, 'utf8')).toBe(
      readFileSync(join(repo, 'deploy', 'admission', 'labelguard-kyverno.yaml'), 'utf8'),
    );
  });
});

describe('the GitLab CI gate, run', () => {
  it('fails the job on findings and writes the JUnit report', async () => {
    const scan = gitlabCommands.find((c) => c[0] === 'scan')!;
    const repo = repository('{ ns: wrong }');
    const r = await runCli(inRepository(scan, repo));
    expect(r.code, r.stderr).toBe(1);
    const junit = readFileSync(join(repo, 'labelguard-junit.xml'), 'utf8');
    expect(junit).toMatch(/^<\?xml/);
    expect(junit).toContain('label-invalid');
  });
});
