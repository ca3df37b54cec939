/**
 * `labelguard scan` against live clusters, end to end: the real CLI (spawned as a user runs it)
 * reading local HTTPS Kubernetes API servers through a kubeconfig, and EKS clusters through a local
 * EKS endpoint. The acceptance test: scanning the clusters gives the same findings as scanning
 * their manifests.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createProgress } from '../../lambda/cli/progress.js';
import { runCli } from '../helpers/cli.js';
import { CredentialStore, ENV_CREDENTIALS, startEksEndpoint, type EksEndpoint } from '../helpers/eks-endpoint.js';
import { FIXTURES } from '../helpers/fixtures.js';
import {
  kubeconfigYaml,
  objectsOfManifests,
  startKubeApiServer,
  type KubeApiServer,
} from '../helpers/kube-api-server.js';

interface Finding {
  rule: string;
  cluster: string;
  namespace: string | null;
  source?: unknown;
}
interface Report {
  clusters: {
    cluster: string;
    status: string;
    errors: string[];
    reads: { resource: string; status: string; reason?: string }[];
    namespaces: { name: string }[];
    policies: { kind: string; namespace: string | null; name: string; appliesTo: string[] }[];
  }[];
  findings: Finding[];
}

const CLUSTERS = {
  alpha: [`${FIXTURES}manifests/shop-prod`],
  beta: [`${FIXTURES}clusters/selector-invalid-violating.yaml`],
} as const;
const TOKENS = { alpha: 'alpha-reader-token-0123456789', beta: 'beta-reader-token-9876543210' } as const;

const keyOf = (f: Finding): string => {
  const { source: _source, ...rest } = f;
  return JSON.stringify(rest);
};

describe.concurrent('labelguard scan against live clusters', () => {
  const servers: KubeApiServer[] = [];
  let dir: string;
  let kubeconfig: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'labelguard-scan-live-'));
    for (const [name, paths] of Object.entries(CLUSTERS)) {
      servers.push(
        await startKubeApiServer({
          name,
          objects: await objectsOfManifests(paths),
          auth: { kind: 'bearer', tokens: [TOKENS[name as keyof typeof TOKENS]] },
        }),
      );
    }
    kubeconfig = join(dir, 'kubeconfig.yaml');
    writeFileSync(
      kubeconfig,
      kubeconfigYaml(
        servers.map((s) => ({
          context: s.name,
          server: s.url,
          caData: s.caData,
          token: TOKENS[s.name as keyof typeof TOKENS],
        })),
      ),
    );
  });

  afterAll(async () => {
    await Promise.all(servers.map((s) => s.close()));
    rmSync(dir, { recursive: true, force: true });
  });

  it('--kubeconfig F --all-contexts --format json finds what a scan of their manifests finds', async () => {
    const configFile = join(dir, 'manifests.config.yaml');
    writeFileSync(
      configFile,
      `clusters:\n${Object.entries(CLUSTERS)
        .map(
          ([name, paths]) =>
            `  - { name: ${name}, kind: manifests, paths: [${paths.map((p) => JSON.stringify(p)).join(', ')}] }`,
        )
        .join('\n')}\n`,
    );
    const [live, offline] = await Promise.all([
      runCli([
        'scan',
        '--kubeconfig',
        kubeconfig,
        '--all-contexts',
        '--format',
        'json',
        '--no-store',
        '--fail-on',
        'none',
      ]),
      runCli(['scan', '--config', configFile, '--format', 'json', '--no-store', '--fail-on', 'none']),
    ]);
    expect(live.stderr).toMatch(/alpha: complete/);
    expect(live.code, live.stderr).toBe(0);
    expect(offline.code, offline.stderr).toBe(0);
    const a = JSON.parse(live.stdout) as Report;
    const b = JSON.parse(offline.stdout) as Report;

    expect(a.clusters.map((c) => [c.cluster, c.status, c.errors])).toEqual([
      ['alpha', 'complete', []],
      ['beta', 'complete', []],
    ]);
    expect(a.findings.length).toBeGreaterThan(3);
    expect(a.findings.map(keyOf).sort()).toEqual(b.findings.map(keyOf).sort());
    for (const [i, c] of a.clusters.entries()) {
      const m = b.clusters[i];
      expect(c.namespaces.map((n) => n.name)).toEqual(m?.namespaces.map((n) => n.name));
      const policies = (r: Report['clusters'][number] | undefined): string[] =>
        (r?.policies ?? []).map((p) => `${p.kind} ${p.namespace}/${p.name} -> ${p.appliesTo.join(',')}`).sort();
      expect(policies(c)).toEqual(policies(m));
    }
    // The Calico policy of beta came through the projectcalico.org/v3 API, read instead of the CRDs.
    expect(a.clusters[1]?.reads).toContainEqual({ resource: 'networkpolicies.projectcalico.org', status: 'complete' });
    expect(a.clusters[1]?.reads.some((r) => r.resource.endsWith('.crd.projectcalico.org'))).toBe(false);
    // Credentials never reach the output.
    for (const token of Object.values(TOKENS)) expect(live.stdout + live.stderr).not.toContain(token);
  });

  it('one cluster down: it is failed with its reason, the other is untouched, and the exit code says so', async () => {
    const broken = join(dir, 'broken.kubeconfig.yaml');
    const down = await startKubeApiServer({ name: 'down' });
    const downUrl = down.url;
    await down.close(); // nothing listens there any more
    writeFileSync(
      broken,
      kubeconfigYaml([
        { context: 'alpha', server: servers[0]!.url, caData: servers[0]!.caData, token: TOKENS.alpha },
        { context: 'down', server: downUrl, caData: servers[0]!.caData, token: 'down-token-abcdef' },
      ]),
    );
    // KUBECONFIG from the environment, every context, two clusters read at once.
    const r = await runCli(
      ['scan', '--all-contexts', '--concurrency', '2', '--format', 'json', '--no-store', '--fail-on', 'none'],
      {
        env: { KUBECONFIG: `/nonexistent/kubeconfig:${broken}` },
      },
    );
    expect(r.code, r.stderr).toBe(0);
    const report = JSON.parse(r.stdout) as Report;
    expect(report.clusters.map((c) => [c.cluster, c.status])).toEqual([
      ['alpha', 'complete'],
      ['down', 'failed'],
    ]);
    const errors = report.clusters[1]?.errors ?? [];
    expect(errors[0]).toMatch(/^namespaces: failed: connection refused \(ECONNREFUSED\)/);
    // Every kind is unread for that one reason: no finding may rest on a kind "not installed".
    expect(errors.every((e) => e.includes('connection refused'))).toBe(true);
    expect(
      report.clusters[1]?.reads.some((r) => r.resource === 'clusterpolicies.kyverno.io' && r.status === 'failed'),
    ).toBe(true);
    expect(report.findings.filter((f) => f.cluster === 'down')).toEqual([]);
    expect(r.stderr).toMatch(/down: failed/);
  });
});

describe.concurrent('labelguard scan --eks', () => {
  let eks: EksEndpoint;
  let prod: KubeApiServer;
  let tagged: KubeApiServer;

  beforeAll(async () => {
    const credentials = new CredentialStore();
    credentials.add({ ...ENV_CREDENTIALS });
    prod = await startKubeApiServer({
      name: 'prod',
      objects: await objectsOfManifests(CLUSTERS.alpha),
      auth: { kind: 'eks', credentials },
    });
    // Authenticates the sessions the fake STS issues (they go into the same store).
    tagged = await startKubeApiServer({
      name: 'tagged',
      objects: await objectsOfManifests(CLUSTERS.beta),
      auth: { kind: 'eks', credentials },
    });
    eks = await startEksEndpoint({
      credentials,
      clusters: [{ name: 'prod', region: 'eu-west-1', endpoint: prod.url, caData: prod.caData }],
      roles: [{ arn: 'arn:aws:iam::333333333333:role/labelguard-reader', externalId: 'fleet-id' }],
    });
  });

  afterAll(async () => {
    await prod.close();
    await tagged.close();
    await eks.close();
  });

  it('reads an EKS cluster with a locally signed token; a missing one is failed, not empty', async () => {
    const r = await runCli(
      [
        'scan',
        '--eks',
        'prod@eu-west-1',
        '--eks',
        'ghost@eu-west-1',
        '--format',
        'json',
        '--no-store',
        '--fail-on',
        'none',
      ],
      { env: { AWS_ENDPOINT_URL_EKS: eks.url, AWS_REGION: 'eu-west-1' } },
    );
    expect(r.code, r.stderr).toBe(0);
    const report = JSON.parse(r.stdout) as Report;
    expect(report.clusters.map((c) => [c.cluster, c.status])).toEqual([
      ['prod', 'complete'],
      ['ghost', 'failed'],
    ]);
    expect(report.clusters[1]?.errors[0]).toMatch(/DescribeCluster ghost \(eu-west-1\): cluster not found/);
    expect(prod.tokensSeen.size).toBe(1);
    const [token] = prod.tokensSeen;
    expect(token).toMatch(/^k8s-aws-v1\./);
    expect(r.stdout + r.stderr).not.toContain(token!.slice(11, 60));
  });

  it('discovers a tagged fleet from the config file, through a cross-account role', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'labelguard-fleet-'));
    try {
      const config = join(dir, 'labelguard.config.yaml');
      writeFileSync(
        config,
        [
          'clusters:',
          '  - name: fleet',
          '    kind: eks-discovery',
          "    tags: { 'labelguard/scan': 'true' }",
          '    accounts:',
          '      - { regions: [eu-west-1] }',
          '      - { roleArn: "arn:aws:iam::333333333333:role/labelguard-reader", externalId: fleet-id, regions: [us-east-2] }',
          '',
        ].join('\n'),
      );
      eks.clusters.push(
        {
          name: 'tagged',
          region: 'us-east-2',
          account: '333333333333',
          endpoint: tagged.url,
          caData: tagged.caData,
          tags: { 'labelguard/scan': 'true' },
        },
        { name: 'skipped', region: 'us-east-2', account: '333333333333', endpoint: tagged.url, caData: tagged.caData },
      );
      const r = await runCli(['scan', '--config', config, '--format', 'json', '--no-store', '--fail-on', 'none'], {
        env: { AWS_ENDPOINT_URL_EKS: eks.url, AWS_ENDPOINT_URL_STS: eks.url, AWS_REGION: 'eu-west-1' },
      });
      expect(r.code, r.stderr).toBe(0);
      const report = JSON.parse(r.stdout) as Report;
      // "prod" (eu-west-1) is untagged: only the tagged cluster of the other account is scanned,
      // through the role assumed there (a session key), once.
      expect(report.clusters.map((c) => [c.cluster, c.status, c.errors])).toEqual([['tagged', 'complete', []]]);
      expect(eks.calls.filter((c) => c.params.ExternalId === 'fleet-id').map((c) => c.params.RoleSessionName)).toEqual([
        'labelguard-scan',
      ]);
      const [token] = tagged.tokensSeen;
      expect(Buffer.from(token!.slice(11), 'base64url').toString()).toMatch(
        /X-Amz-Credential=ASIA[^&]*%2Fus-east-2%2Fsts/,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('progress on stderr', () => {
  const result = (cluster: string, status: 'complete' | 'failed') =>
    ({ cluster, status, namespaces: [], policyCount: 0, findings: [] }) as unknown as Parameters<
      ReturnType<typeof createProgress>['done']
    >[0];

  it('prints one line per cluster, and on a TTY a live line of what is being read', async () => {
    const out: string[] = [];
    const progress = createProgress({
      stream: { write: (t: string) => out.push(t), isTTY: true, columns: 80 },
      total: 2,
    });
    const [a, b] = progress.track([
      {
        cluster: 'a',
        read: () => Promise.resolve({ cluster: 'a', namespaces: [], objects: [], reads: [], problems: [] }),
      },
      {
        cluster: 'b',
        read: () => Promise.resolve({ cluster: 'b', namespaces: [], objects: [], reads: [], problems: [] }),
      },
    ]);
    await Promise.all([a!.read(), b!.read()]);
    progress.done(result('a', 'complete'));
    progress.done(result('b', 'failed'));
    progress.finish();
    const text = out.join('');
    expect(text).toContain('labelguard: 0/2 clusters done, 2 being read: a, b');
    expect(text).toContain('labelguard: a: complete (0 namespaces, 0 policies, 0 findings)\n');
    expect(text).toContain('labelguard: b: failed (0 namespaces, 0 policies, 0 findings)\n');

    const plain: string[] = [];
    const quiet = createProgress({ stream: { write: (t: string) => plain.push(t) }, total: 1 });
    quiet.done(result('a', 'complete'));
    quiet.finish();
    expect(plain).toEqual(['labelguard: a: complete (0 namespaces, 0 policies, 0 findings)\n']);
  });
});
