/**
 * The Lambda handler. First its parts (events, metrics, settings), then the one test that
 * synthesizes the stack with real esbuild bundling and invokes the bundled `index.mjs` handler
 * against local servers: the Kubernetes API, the EKS endpoint, DynamoDB (dynalite), Secrets
 * Manager and Slack. A scheduled event in: a run in the table and a message in Slack out. The same
 * event again: nothing new.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ScanCommand } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createDynamoStore } from '../lambda/adapters/dynamo/store.js';
import { auditSettingsOf } from '../lambda/cli/settings.js';
import { loadConfig, parseConfig } from '../lambda/config.js';
import { ConfigError, UsageError } from '../lambda/errors.js';
import { LAMBDA_ENV, readLambdaSettings } from '../lambda/lambda-env.js';
import { isClusterStepResult, parseLambdaEvent } from '../lambda/lambda-events.js';
import { lambdaAuditSettings } from '../lambda/lambda-runtime.js';
import { measureScan } from '../lambda/scan-metrics.js';
import type { ClusterRun } from '../lambda/scan.js';
import type { ScanSummary } from '../lambda/handler.js';
import { createApp } from '../infra/app.js';
import { startDynaliteTable, type DynaliteTable } from './helpers/dynalite-table.js';
import { CredentialStore, startEksEndpoint, type EksEndpoint } from './helpers/eks-endpoint.js';
import { FIXTURES } from './helpers/fixtures.js';
import { objectsOfManifests, startKubeApiServer, type KubeApiServer } from './helpers/kube-api-server.js';
import { startSecretsEndpoint, type SecretsEndpoint } from './helpers/secrets-endpoint.js';
import { startSlackServer, TEST_TOKEN, type SlackServer } from './helpers/slack-server.js';

const SCHEDULED_EVENT = {
  version: '0',
  id: 'c0ffee00-0000-4000-8000-000000000001',
  'detail-type': 'Scheduled Event',
  source: 'labelguard.scheduler',
  time: '2026-03-02T06:00:00Z',
  resources: ['arn:aws:scheduler:eu-west-1:123456789012:schedule/default/labelguard'],
  detail: {},
};

describe('lambda events', () => {
  it('reads a scheduled event (Scheduler or an EventBridge rule) as a scan of its scheduled time', () => {
    expect(parseLambdaEvent(SCHEDULED_EVENT)).toEqual({ kind: 'scan', time: '2026-03-02T06:00:00Z' });
    expect(parseLambdaEvent({ source: 'aws.scheduler', time: '2026-03-02T06:00:00Z' })).toEqual({
      kind: 'scan',
      time: '2026-03-02T06:00:00Z',
    });
  });

  it('reads the fan-out steps', () => {
    expect(parseLambdaEvent({ labelguard: 'plan', time: 't' })).toEqual({ kind: 'plan', time: 't' });
    expect(parseLambdaEvent({ labelguard: 'cluster', runId: 'r', cluster: 'a' })).toEqual({
      kind: 'cluster',
      runId: 'r',
      cluster: 'a',
    });
    expect(parseLambdaEvent({ labelguard: 'notify', runId: 'r', clusters: ['a'], results: [{ Error: 'x' }] })).toEqual({
      kind: 'notify',
      runId: 'r',
      clusters: ['a'],
      results: [{ Error: 'x' }],
    });
  });

  it('refuses anything else, saying what it got', () => {
    expect(() => parseLambdaEvent({ Records: [] })).toThrow(UsageError);
    expect(() => parseLambdaEvent(null)).toThrow(/unexpected event: null/);
    expect(() => parseLambdaEvent({ labelguard: 'cluster', runId: 'r' })).toThrow(
      /malformed labelguard "cluster" step event/,
    );
    expect(isClusterStepResult({ cluster: 'a', clusters: 1, failed: 0 })).toBe(true);
    expect(isClusterStepResult({ Error: 'States.TaskFailed' })).toBe(false);
  });
});

describe('scan metrics', () => {
  const run = (
    status: 'complete' | 'partial' | 'failed',
    recording: string,
    findings = 0,
    drift: number | null = 0,
  ): ClusterRun =>
    ({
      result: {
        cluster: 'c',
        status,
      },
      // One of the findings waived: counted apart.
      counts: { findings: Math.max(0, findings - 1), waived: Math.min(1, findings) },
      drift: drift === null ? null : Array.from({ length: drift }, () => ({})),
      recording: { status: recording },
    }) as unknown as ClusterRun;

  it('counts what this invocation read; a replayed run is counted apart', () => {
    expect(
      measureScan([
        run('complete', 'recorded', 3, 2),
        run('partial', 'recorded', 1),
        run('failed', 'failed', 0, null),
        run('complete', 'replayed', 5, 4),
      ]),
    ).toEqual({
      ClustersScanned: 3,
      ClustersComplete: 1,
      ClustersPartial: 1,
      ClustersFailed: 1,
      ClustersReplayed: 1,
      StoreFailures: 1,
      Findings: 2,
      DriftEvents: 2,
    });
  });
});

describe('lambda settings', () => {
  const FULL = `
requiredLabels: [{ key: ns, value: '{{name}}' }, { key: team, allowed: [a, b], severity: medium }]
exclude: [kube-*, tmp-??]
waivers: [{ rule: near-miss, namespace: monitoring, reason: r, owner: o, expires: 2030-01-01 }]
severities: { near-miss: low }
engines: { cilium: { namespaceLabels: policy-namespace }, istio: { rootNamespace: mesh }, kubernetes: { synthesizeNameLabel: false } }
clusters: [{ name: a, kind: eks, region: eu-west-1 }]
deploy: { memoryMb: 2048 }
`;

  it('maps the config to audit settings exactly as the CLI does', () => {
    const config = loadConfig(FULL, 'labelguard.config.yaml');
    expect(lambdaAuditSettings(config)).toEqual(auditSettingsOf(config));
  });

  it('receives the validated config unchanged: parsing it again changes nothing', () => {
    const config = loadConfig(FULL, 'labelguard.config.yaml');
    const shipped = JSON.parse(JSON.stringify(config)) as unknown;
    expect(parseConfig(shipped)).toEqual({ ok: true, config: shipped });
  });

  it('names what is missing from the environment', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'labelguard-lambda-'));
    try {
      const file = join(dir, 'labelguard.config.json');
      await expect(readLambdaSettings({}, file)).rejects.toThrow(/cannot read the bundled config: ENOENT/);
      writeFileSync(file, '{"clusters":[]}');
      const error = await readLambdaSettings({}, file).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ConfigError);
      expect((error as ConfigError).message).toBe(
        'environment: LABELGUARD_TABLE: not set (the stack sets it)\nenvironment: AWS_REGION: not set (the stack sets it)',
      );
      await expect(
        readLambdaSettings(
          { [LAMBDA_ENV.table]: 't', AWS_REGION: 'eu-west-1', [LAMBDA_ENV.configFile]: file },
          '/elsewhere',
        ),
      ).resolves.toMatchObject({ tableName: 't', region: 'eu-west-1', slackSecretId: null, configFile: file });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

// ---------------------------------------------------------------------------------------------
// The bundled handler

interface Template {
  Resources: Record<string, { Type: string; Properties: Record<string, unknown>; Metadata?: Record<string, string> }>;
}
type Handler = (event: unknown, context: unknown) => Promise<ScanSummary>;

describe('the bundled handler', () => {
  const SECRET = 'labelguard/slack-bot';
  let dir: string;
  let kube: KubeApiServer;
  let eks: EksEndpoint;
  let table: DynaliteTable;
  let secrets: SecretsEndpoint;
  let slack: SlackServer;
  let bundle: string;
  let environment: Record<string, unknown>;
  let handler: Handler;
  const output: string[] = [];
  let kubeClosed = false;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'labelguard-handler-'));
    const credentials = new CredentialStore();
    kube = await startKubeApiServer({
      name: 'shop-prod',
      objects: await objectsOfManifests([`${FIXTURES}manifests/shop-prod`]),
      auth: { kind: 'eks', credentials },
    });
    eks = await startEksEndpoint({
      credentials,
      clusters: [{ name: 'shop-prod', region: 'eu-west-1', endpoint: kube.url, caData: kube.caData }],
    });
    table = await startDynaliteTable({ tableName: 'labelguard-results' });
    secrets = await startSecretsEndpoint({ secrets: [{ name: SECRET, value: JSON.stringify({ token: TEST_TOKEN }) }] });
    slack = await startSlackServer();

    // cdk synth, bundling for real.
    const configFile = join(dir, 'labelguard.config.yaml');
    writeFileSync(
      configFile,
      `clusters:
  - { name: shop-prod, kind: eks, region: eu-west-1 }
notify:
  slack: { channel: '#security', tokenSecretId: ${SECRET}, apiUrl: '${slack.url}' }
deploy: { region: eu-west-1, account: '123456789012' }
`,
    );
    const outdir = join(dir, 'cdk.out');
    const { app } = createApp({ context: { config: configFile }, outdir, env: {} });
    app.synth();
    const template = JSON.parse(readFileSync(join(outdir, 'Labelguard.template.json'), 'utf8')) as Template;
    const fn = Object.values(template.Resources).find((r) => r.Type === 'AWS::Lambda::Function');
    // The asset's directory in the cloud assembly is named after its hash, as is its S3 key.
    const hash = String((fn?.Properties.Code as { S3Key?: string } | undefined)?.S3Key).replace(/\.zip$/, '');
    bundle = join(outdir, `asset.${hash}`, 'index.mjs');
    environment = (fn?.Properties.Environment as { Variables: Record<string, unknown> }).Variables;

    // The function's environment as Lambda sets it: the stack's variables (the table's name resolved),
    // the runtime's, and the local endpoints.
    for (const [name, value] of Object.entries(environment)) {
      process.env[name] = typeof value === 'string' ? value : name === LAMBDA_ENV.table ? table.tableName : undefined;
    }
    Object.assign(process.env, {
      AWS_REGION: 'eu-west-1',
      AWS_LAMBDA_FUNCTION_NAME: 'Labelguard-ScannerFunction',
      AWS_LAMBDA_LOG_STREAM_NAME: '2026/03/02/[$LATEST]0123456789abcdef',
      AWS_ENDPOINT_URL_EKS: eks.url,
      AWS_ENDPOINT_URL_DYNAMODB: await endpointOf(table),
      AWS_ENDPOINT_URL_SECRETS_MANAGER: secrets.url,
      NODE_EXTRA_CA_CERTS: undefined,
    });
    // Powertools writes log lines (and EMF metrics) to stdout, errors to stderr.
    for (const stream of [process.stdout, process.stderr]) {
      vi.spyOn(stream, 'write').mockImplementation((chunk: string | Uint8Array) => {
        output.push(String(chunk));
        return true;
      });
    }
    ({ handler } = (await import(pathToFileURL(bundle).href)) as { handler: Handler });
  }, 300_000);

  afterAll(async () => {
    vi.restoreAllMocks();
    await Promise.all([
      kubeClosed ? undefined : kube?.close(),
      eks?.close(),
      table?.close(),
      secrets?.close(),
      slack?.close(),
    ]);
    rmSync(dir, { recursive: true, force: true });
  });

  const context = (): unknown => ({
    awsRequestId: `req-${Math.random().toString(16).slice(2)}`,
    functionName: 'Labelguard-ScannerFunction',
    functionVersion: '$LATEST',
    invokedFunctionArn: 'arn:aws:lambda:eu-west-1:123456789012:function:Labelguard-ScannerFunction',
    memoryLimitInMB: '1024',
    getRemainingTimeInMillis: () => 290_000,
  });
  const itemCount = async (): Promise<number> =>
    (await table.client.send(new ScanCommand({ TableName: table.tableName, Select: 'COUNT' }))).Count ?? 0;
  const logLines = (): Record<string, unknown>[] =>
    output
      .join('')
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as Record<string, unknown>);

  it('is one minified ESM file with its source map and the validated config next to it', () => {
    const code = readFileSync(bundle, 'utf8');
    expect(
      code.startsWith("import { createRequire } from 'module'; const require = createRequire(import.meta.url);"),
    ).toBe(true);
    expect(code.length / code.split('\n').length).toBeGreaterThan(5_000); // minified: long lines, no indentation
    expect(readFileSync(`${bundle}.map`, 'utf8')).toContain('"mappings"');
    const shipped = JSON.parse(readFileSync(join(bundle, '..', 'labelguard.config.json'), 'utf8')) as unknown;
    expect(parseConfig(shipped)).toEqual({ ok: true, config: shipped });
    expect(shipped).toMatchObject({ clusters: [{ name: 'shop-prod', kind: 'eks', region: 'eu-west-1' }] });
    expect(Object.keys(environment).sort()).toEqual(
      [
        LAMBDA_ENV.slackSecretId,
        LAMBDA_ENV.table,
        'NODE_OPTIONS',
        'POWERTOOLS_LOG_LEVEL',
        'POWERTOOLS_METRICS_NAMESPACE',
        'POWERTOOLS_SERVICE_NAME',
      ].sort(),
    );
  });

  it('scans on a scheduled event: a run in the table, a digest in Slack, one summary line and the metrics', async () => {
    const summary = await handler(SCHEDULED_EVENT, context());
    expect(summary).toMatchObject({
      runId: '2026-03-02T06:00:00.000Z',
      ClustersScanned: 1,
      ClustersComplete: 1,
      ClustersFailed: 0,
      ClustersReplayed: 0,
      StoreFailures: 0,
      clusters: [{ cluster: 'shop-prod', status: 'complete', recording: 'recorded', errors: [] }],
      notifications: { runs: 1, failed: 0, pending: 0, problems: [] },
    });
    expect(summary.Findings).toBeGreaterThan(0);
    expect(summary.notifications?.delivered).toBeGreaterThan(0);

    const store = createDynamoStore({
      client: table.client,
      tableName: table.tableName,
      retentionDays: 400,
      clock: { now: () => new Date() },
      holder: 'test',
    });
    const runs = await store.runs('shop-prod');
    expect(runs.map((r) => [r.runId, r.status, r.seq])).toEqual([['2026-03-02T06:00:00.000Z', 'complete', 1]]);

    const posts = slack.posts();
    expect(posts.length).toBe(summary.notifications?.delivered);
    expect(posts[0]?.token).toBe(TEST_TOKEN);
    expect(slack.topLevel('C0SECURITY')).toHaveLength(1);
    expect(eks.calls.filter((c) => c.action === 'DescribeCluster').map((c) => c.params.name)).toEqual(['shop-prod']);
    expect(secrets.calls).toEqual([
      { operation: 'GetSecretValue', secretId: SECRET, accessKeyId: 'AKIDEXAMPLETESTONLY', status: 200 },
    ]);

    const lines = logLines();
    const summaries = lines.filter((l) => l.message === 'scan summary');
    expect(summaries).toHaveLength(1);
    expect(summaries[0]).toMatchObject({
      level: 'INFO',
      service: 'labelguard',
      runId: '2026-03-02T06:00:00.000Z',
      ClustersScanned: 1,
    });
    const emf = lines.find((l) => '_aws' in l) as
      | {
          _aws: { CloudWatchMetrics: { Namespace: string; Dimensions: string[][]; Metrics: { Name: string }[] }[] };
          service: string;
          ClustersPartial: number;
        }
      | undefined;
    expect(emf?._aws.CloudWatchMetrics[0]?.Namespace).toBe('Labelguard');
    expect(emf?._aws.CloudWatchMetrics[0]?.Dimensions).toEqual([['service']]);
    expect(emf?._aws.CloudWatchMetrics[0]?.Metrics.map((m) => m.Name).sort()).toEqual(
      [
        'ClustersComplete',
        'ClustersFailed',
        'ClustersPartial',
        'ClustersReplayed',
        'ClustersScanned',
        'DriftEvents',
        'Findings',
        'ScanDuration',
        'StoreFailures',
      ].sort(),
    );
    expect(emf).toMatchObject({ service: 'labelguard', ClustersPartial: 0 });
    // No token reaches the logs.
    expect(output.join('')).not.toContain(TEST_TOKEN);
  });

  it('replays the same event: nothing read, written or posted again', async () => {
    const items = await itemCount();
    const posts = slack.posts().length;
    const kubeRequests = kube.requests.length;
    const eksCalls = eks.calls.length;

    const summary = await handler(SCHEDULED_EVENT, context());
    expect(summary).toMatchObject({
      runId: '2026-03-02T06:00:00.000Z',
      ClustersScanned: 0,
      ClustersReplayed: 1,
      StoreFailures: 0,
      clusters: [{ cluster: 'shop-prod', status: 'complete', recording: 'replayed' }],
    });
    expect(await itemCount()).toBe(items);
    expect(slack.posts().length).toBe(posts);
    expect(kube.requests.length).toBe(kubeRequests);
    expect(eks.calls.length).toBe(eksCalls);
  });

  it('runs the fan-out steps: plan, one entry (recorded, not posted), then one delivery for the run', async () => {
    const time = '2026-03-02T08:00:00Z';
    expect(await handler({ labelguard: 'plan', time }, context())).toEqual({
      runId: '2026-03-02T08:00:00.000Z',
      clusters: ['shop-prod'],
    });

    // Someone drops the ns label of payments: drift to announce.
    const objects = (await objectsOfManifests([`${FIXTURES}manifests/shop-prod`])) as {
      kind: string;
      metadata: { name: string; labels?: Record<string, string> };
    }[];
    kube.setObjects(
      objects.map((o) =>
        o.kind === 'Namespace' && o.metadata.name === 'payments'
          ? {
              ...o,
              metadata: { ...o.metadata, labels: { team: 'payments', 'kubernetes.io/metadata.name': 'payments' } },
            }
          : o,
      ),
    );
    const posts = slack.posts().length;
    const step = await handler(
      { labelguard: 'cluster', runId: '2026-03-02T08:00:00.000Z', cluster: 'shop-prod' },
      context(),
    );
    expect(step).toEqual({ cluster: 'shop-prod', clusters: 1, failed: 0 });
    expect(slack.posts().length).toBe(posts);
    expect(logLines().find((l) => l.message === 'cluster step summary')).toMatchObject({
      entry: 'shop-prod',
      DriftEvents: expect.any(Number) as number,
    });

    const notified = await handler(
      { labelguard: 'notify', runId: '2026-03-02T08:00:00.000Z', clusters: ['shop-prod'], results: [step] },
      context(),
    );
    expect(notified).toEqual({ runId: '2026-03-02T08:00:00.000Z', clusters: 1, failed: 0 });
    expect(slack.posts().length).toBeGreaterThan(posts);
    expect(
      JSON.stringify(
        slack
          .posts()
          .slice(posts)
          .map((p) => p.params),
      ),
    ).toContain('payments');

    // A step that failed after its retries left an error, not a result: its clusters count as failed.
    expect(
      await handler(
        {
          labelguard: 'notify',
          runId: '2026-03-02T08:00:00Z',
          clusters: ['shop-prod'],
          results: [{ Error: 'States.TaskFailed' }],
        },
        context(),
      ),
    ).toEqual({ runId: '2026-03-02T08:00:00.000Z', clusters: 1, failed: 1 });
  });

  it('throws, for Lambda to retry, when every cluster failed', async () => {
    await kube.close();
    kubeClosed = true;
    const later = { ...SCHEDULED_EVENT, time: '2026-03-02T09:00:00Z' };
    await expect(handler(later, context())).rejects.toThrow(
      /run 2026-03-02T09:00:00.000Z: every cluster failed \(shop-prod: /,
    );
    const failure = logLines().find((l) => l.message === 'labelguard invocation failed');
    expect(failure).toMatchObject({ level: 'ERROR', code: 'every-cluster-failed', request: 'scan' });
  });
});

/** The URL the test table's client talks to (dynalite's). */
async function endpointOf(table: DynaliteTable): Promise<string> {
  const provider = table.client.config.endpoint as unknown as () => Promise<{
    protocol: string;
    hostname: string;
    port?: number;
  }>;
  const e = await provider();
  return `${e.protocol}//${e.hostname}:${e.port}`;
}
