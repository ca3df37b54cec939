import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import * as logs from 'aws-cdk-lib/aws-logs';
import { LOG_RETENTION_DAYS, defaultDeployConfig, parseConfig } from '../../lambda/config.js';
import { ConfigError } from '../../lambda/errors.js';
import { readDeployConfig, usesFanOut } from '../../infra/deploy-config.js';
import { READER_GROUP } from '../../infra/constructs/cluster-access.js';
import { cleanUpSynth, configFile } from './synth.js';

afterAll(cleanUpSynth);

function deployError(text: string, region?: string): ConfigError {
  try {
    readDeployConfig(configFile(text), region === undefined ? {} : { region });
  } catch (e) {
    if (e instanceof ConfigError) return e;
    throw e;
  }
  throw new Error('expected a ConfigError');
}

const paths = (e: ConfigError): string[] => e.issues.map((i) => `${i.path}: ${i.message}`);

describe('the deploy section of the config', () => {
  it('has defaults for every setting', () => {
    expect(defaultDeployConfig()).toEqual({
      stackName: 'Labelguard',
      schedule: { expression: 'rate(1 hour)', timeZone: 'UTC', retryAttempts: 2, maxEventAgeMinutes: 60 },
      memoryMb: 1024,
      timeoutSeconds: 300,
      logRetentionDays: 90,
      fanOut: 'auto',
      fanOutAbove: 20,
      fanOutConcurrency: 10,
      alarms: {},
      accessEntries: [],
    });
  });

  it('is absent from a config that has none (the CLI ignores it)', () => {
    const result = parseConfig({});
    expect(result.ok && result.config.deploy).toBeUndefined();
  });

  it('reports every problem with its path', () => {
    const result = parseConfig({
      deploy: {
        schedule: { expression: 'rate(1 hours)', timeZone: 'Mars/Olympus' },
        memoryMb: 64,
        timeoutSeconds: 901,
        logRetentionDays: 91,
        fanOut: 'lambda',
        vpc: { vpcId: 'vpc-1', subnetIds: [] },
        alarms: { email: 'nobody' },
        tableKmsKeyArn: 'alias/labelguard',
        stackname: 'x',
      },
    });
    expect(result.ok ? [] : result.issues.map((i) => i.path)).toEqual([
      'deploy.schedule.expression',
      'deploy.schedule.timeZone',
      'deploy.memoryMb',
      'deploy.timeoutSeconds',
      'deploy.logRetentionDays',
      'deploy.fanOut',
      'deploy.vpc.vpcId',
      'deploy.vpc.subnetIds',
      'deploy.alarms.email',
      'deploy.tableKmsKeyArn',
      'deploy.stackname',
    ]);
  });

  it('checks schedule expressions as EventBridge Scheduler does', () => {
    const problem = (expression: string): string | undefined => {
      const r = parseConfig({ deploy: { schedule: { expression } } });
      return r.ok ? undefined : r.issues[0]?.message;
    };
    for (const ok of [
      'rate(1 minute)',
      'rate(15 minutes)',
      'rate(1 day)',
      'cron(0 6 ? * MON-FRI *)',
      'cron(30 2 1 * ? *)',
    ]) {
      expect(problem(ok), ok).toBeUndefined();
    }
    expect(problem('rate(5 minute)')).toMatch(/plural/);
    expect(problem('rate(0 hours)')).toMatch(/at least 1/);
    expect(problem('cron(0 6 * * * *)')).toMatch(/exactly one of day-of-month and day-of-week/);
    expect(problem('cron(0 6 * *)')).toMatch(/expected rate\(/);
    expect(problem('at(2026-01-01T00:00:00)')).toMatch(/expected rate\(/);
  });

  it('offers only the retention periods CloudWatch Logs has', () => {
    const known = new Set(Object.values(logs.RetentionDays).filter((v): v is number => typeof v === 'number'));
    for (const days of LOG_RETENTION_DAYS) expect(known.has(days), `${days} days`).toBe(true);
  });

  it('names in accessEntries only EKS clusters reached with the function’s own role', () => {
    const result = parseConfig({
      clusters: [
        { name: 'own', kind: 'eks' },
        { name: 'other', kind: 'eks', roleArn: 'arn:aws:iam::123456789012:role/r' },
        { name: 'dump', kind: 'manifests', paths: ['x'] },
      ],
      deploy: { accessEntries: ['own', 'other', 'dump', 'missing'] },
    });
    expect(result.ok ? [] : result.issues.map((i) => `${i.path}: ${i.message}`)).toEqual([
      'deploy.accessEntries[1]: names a cluster reached through roleArn: create the access entry for that role in its own account',
      'deploy.accessEntries[2]: names a cluster of kind manifests: access entries are for EKS clusters',
      'deploy.accessEntries[3]: names no cluster in clusters',
    ]);
  });
});

describe('readDeployConfig', () => {
  it('refuses clusters the Lambda cannot read, and a config with nothing to scan', () => {
    expect(
      paths(deployError('clusters: [{ name: dev, kind: kubeconfig }, { name: d, kind: manifests, paths: [x] }]\n')),
    ).toEqual([
      'clusters[0].kind: the deployed scanner reads EKS clusters only (eks, eks-discovery); scan kubeconfig clusters with the CLI',
      'clusters[1].kind: the deployed scanner reads EKS clusters only (eks, eks-discovery); scan manifests clusters with the CLI',
      'clusters: no cluster of kind eks or eks-discovery: the deployed scanner would have nothing to scan',
    ]);
    expect(paths(deployError('{}\n'))).toEqual([
      'clusters: no cluster of kind eks or eks-discovery: the deployed scanner would have nothing to scan',
    ]);
  });

  it('refuses access entries and a table key outside the stack’s region', () => {
    const text = `
clusters: [{ name: a, kind: eks, region: eu-central-1 }]
deploy:
  accessEntries: [a]
  tableKmsKeyArn: arn:aws:kms:us-east-1:123456789012:key/k-1
`;
    expect(paths(deployError(text, 'eu-west-1'))).toEqual([
      "deploy.accessEntries[0]: a is in eu-central-1, the stack in eu-west-1: an access entry can only be created in the stack's region",
      "deploy.tableKmsKeyArn: the key is in us-east-1, the stack in eu-west-1: DynamoDB needs a key in the table's region",
    ]);
    expect(paths(deployError(text.replace('eu-central-1', 'eu-west-1').replace('us-east-1', 'eu-west-1')))).toEqual([
      'deploy.tableKmsKeyArn: a table encrypted with a customer managed key needs the stack in a known region: set deploy.region',
    ]);
  });

  it('names the file and every schema problem, as the CLI does', () => {
    const e = deployError('clusters: [{ name: a, kind: eks, regoin: x }]\ndeploy: { memoryMb: lots }\n');
    expect(e.message).toMatch(
      /labelguard\.config\.yaml: clusters\[0\]\.regoin: unknown key \(did you mean "region"\?\)/,
    );
    expect(e.message).toMatch(/labelguard\.config\.yaml: deploy\.memoryMb: expected number, received string/);
  });

  it('says how to give a config when there is none', () => {
    expect(() => readDeployConfig('/nonexistent/labelguard.config.yaml')).toThrow(
      /cannot read the config \(ENOENT\): give one with `cdk synth -c config=FILE`/,
    );
  });

  it('fans out when asked, or above fanOutAbove entries when auto', () => {
    const deploy = defaultDeployConfig();
    expect(usesFanOut(deploy, 20)).toBe(false);
    expect(usesFanOut(deploy, 21)).toBe(true);
    expect(usesFanOut({ ...deploy, fanOut: 'none' }, 500)).toBe(false);
    expect(usesFanOut({ ...deploy, fanOut: 'stepfunctions' }, 1)).toBe(true);
  });
});

describe('the CDK app', () => {
  it('stops synth with every problem and its path for a bad config', async () => {
    const out = mkdtempSync(join(tmpdir(), 'labelguard-cdk-'));
    try {
      const file = configFile('clusters: [{ name: dev, kind: kubeconfig }]\ndeploy: { timeoutSeconds: 0 }\n');
      const run = promisify(execFile)('npx', ['tsx', 'infra/app.ts'], {
        env: { ...process.env, CDK_OUTDIR: out, CDK_CONTEXT_JSON: JSON.stringify({ config: file }) },
      });
      const error = (await run.then(
        () => null,
        (e: unknown) => e,
      )) as { code: number; stderr: string } | null;
      expect(error?.code).toBe(1);
      expect(error?.stderr).toBe(
        `labelguard: the config cannot be deployed:\n${file}: deploy.timeoutSeconds: expected 10 to 900 seconds (the Lambda limit)\n`,
      );
      expect(readdirSync(out)).toEqual([]);
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });
});

describe('the RBAC manifest', () => {
  it('binds the group the access entries put the function in', () => {
    const manifest = readFileSync(new URL('../../deploy/rbac/labelguard-reader.yaml', import.meta.url), 'utf8');
    expect(manifest).toMatch(new RegExp(`kind: Group\\s+name: ${READER_GROUP}\\b`));
  });
});
