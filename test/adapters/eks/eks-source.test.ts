/**
 * EKS sources against a local EKS/STS endpoint and local HTTPS API servers that authenticate like
 * EKS: DescribeCluster (found, not found, access denied), tokens bound to their cluster, a token
 * re-signed mid-read, cross-account roles with an ExternalId, and fleet discovery by tags.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createEksAccess } from '../../../lambda/adapters/eks/access.js';
import { memoizeCredentials } from '../../../lambda/adapters/eks/credentials.js';
import { describeEksCluster, EksError } from '../../../lambda/adapters/eks/describe.js';
import { createEksDiscoverySources, discoverEksClusters } from '../../../lambda/adapters/eks/discover.js';
import { createEksClusterSource } from '../../../lambda/adapters/eks/source.js';
import { CredentialStore, ENV_CREDENTIALS, startEksEndpoint, type EksEndpoint } from '../../helpers/eks-endpoint.js';
import { generatedObjects, startKubeApiServer, type KubeApiServer } from '../../helpers/kube-api-server.js';

const base = memoizeCredentials(() =>
  Promise.resolve({ accessKeyId: ENV_CREDENTIALS.accessKeyId, secretAccessKey: ENV_CREDENTIALS.secretAccessKey }),
);
const FAST = { retry: { attempts: 2, baseDelayMs: 5 }, timeoutMs: 2_000 };

describe('EKS clusters', () => {
  const credentials = new CredentialStore();
  credentials.add({ ...ENV_CREDENTIALS });
  let clock = Date.now();
  const servers: KubeApiServer[] = [];
  let eks: EksEndpoint;
  const access = () =>
    createEksAccess({
      baseCredentials: base,
      sessionName: 'labelguard-scan',
      eksEndpoint: eks.url,
      stsEndpoint: eks.url,
    });

  const server = async (
    name: string,
    extra: Partial<Parameters<typeof startKubeApiServer>[0]> = {},
  ): Promise<KubeApiServer> => {
    const s = await startKubeApiServer({
      name,
      objects: generatedObjects(5),
      auth: { kind: 'eks', credentials, now: () => new Date(clock) },
      ...extra,
    });
    servers.push(s);
    return s;
  };

  beforeAll(async () => {
    eks = await startEksEndpoint({
      credentials,
      roles: [
        {
          arn: 'arn:aws:iam::222222222222:role/labelguard-reader',
          externalId: 'lg-prod',
          trustedAccounts: ['111111111111'],
        },
      ],
      deny: ['111111111111/ap-south-1'],
    });
  });
  afterEach(() => {
    clock = Date.now();
  });
  afterAll(async () => {
    await Promise.all(servers.map((s) => s.close()));
    await eks.close();
  });

  it('describes a cluster: endpoint, CA, status, tags, authentication mode', async () => {
    eks.clusters.push({
      name: 'described',
      region: 'eu-west-1',
      endpoint: 'https://x.example',
      caData: 'Q0E=',
      tags: { team: 'a' },
    });
    const a = access();
    await expect(describeEksCluster(a.eksFor({}, 'eu-west-1'), 'described', 'eu-west-1')).resolves.toMatchObject({
      name: 'described',
      endpoint: 'https://x.example',
      caData: 'Q0E=',
      status: 'ACTIVE',
      tags: { team: 'a' },
      authenticationMode: 'API',
      arn: 'arn:aws:eks:eu-west-1:111111111111:cluster/described',
    });
    const notFound = describeEksCluster(a.eksFor({}, 'eu-west-1'), 'ghost', 'eu-west-1');
    await expect(notFound).rejects.toBeInstanceOf(EksError);
    await expect(notFound).rejects.toMatchObject({ code: 'eks-cluster-not-found' });
    await expect(describeEksCluster(a.eksFor({}, 'ap-south-1'), 'described', 'ap-south-1')).rejects.toMatchObject({
      code: 'eks-access-denied',
      message: expect.stringContaining('is not authorized to perform: eks:DescribeCluster') as string,
    });
  });

  it('reads a cluster with a token signed for it; the same identity is refused by another cluster', async () => {
    const a = await server('cluster-a');
    const b = await server('cluster-b');
    eks.clusters.push(
      { name: 'cluster-a', region: 'eu-west-1', endpoint: a.url, caData: a.caData },
      // cluster-b's endpoint, but named cluster-a: the token says "cluster-a", B replays it as "cluster-b".
      { name: 'impostor', region: 'eu-west-1', endpoint: b.url, caData: b.caData },
    );
    const acc = access();
    const source = (cluster: string) =>
      createEksClusterSource({
        cluster,
        region: 'eu-west-1',
        eks: acc.eksFor({}, 'eu-west-1'),
        credentials: base,
        read: FAST,
      });
    const good = await source('cluster-a').read();
    expect(good.namespaces?.map((n) => n.name)).toHaveLength(5);
    expect(good.reads.every((r) => r.status === 'complete' || r.status === 'not-installed')).toBe(true);

    const refused = await source('impostor').read();
    expect(refused.namespaces).toBeNull();
    expect(refused.reads[0]).toEqual({
      resource: 'namespaces',
      status: 'failed',
      reason: '401 Unauthorized: the cluster rejected the credentials',
    });
    // B answered nothing but 401 (namespaces, NetworkPolicies and discovery went out at once; each may
    // be tried once more with a re-signed token), and the read stopped there.
    expect(b.requests.every((r) => r.status === 401)).toBe(true);
    expect(b.requests.length).toBeGreaterThanOrEqual(2);
    expect(b.requests.length).toBeLessThanOrEqual(6);
    for (const token of [...a.tokensSeen, ...b.tokensSeen]) {
      expect(JSON.stringify([good, refused])).not.toContain(token.slice(11, 50));
    }
  });

  it('re-signs the token before it expires during a long read', async () => {
    let page = 0;
    const s = await server('long-read', {
      objects: generatedObjects(6, { policies: false }),
      latencyMs: 5,
      onRequest: (r) => {
        // After the first page of namespaces, 14.5 minutes pass: the first token is now stale.
        if (r.path === '/api/v1/namespaces' && ++page === 2) clock += 14.5 * 60_000;
      },
    });
    eks.clusters.push({ name: 'long-read', region: 'eu-west-1', endpoint: s.url, caData: s.caData });
    const acc = access();
    const snapshot = await createEksClusterSource({
      cluster: 'long-read',
      region: 'eu-west-1',
      eks: acc.eksFor({}, 'eu-west-1'),
      credentials: base,
      clock: { now: () => new Date(clock) },
      read: { ...FAST, pageSize: 2, maxInFlight: 1 },
    }).read();
    expect(snapshot.namespaces?.map((n) => n.name)).toEqual(
      generatedObjects(6, { policies: false }).map((o) => (o as { metadata: { name: string } }).metadata.name),
    );
    expect(s.tokensSeen.size).toBe(2);
    expect(s.requests.filter((r) => r.status === 401)).toEqual([]);
  });

  it('a token the cluster finds expired (our clock 20 minutes behind) fails the cluster clearly, after one re-sign', async () => {
    const s = await server('skewed');
    eks.clusters.push({ name: 'skewed', region: 'eu-west-1', endpoint: s.url, caData: s.caData });
    clock = Date.now() + 20 * 60_000; // the server's clock is 20 minutes ahead of ours
    const snapshot = await createEksClusterSource({
      cluster: 'skewed',
      region: 'eu-west-1',
      eks: access().eksFor({}, 'eu-west-1'),
      credentials: base,
      read: FAST,
    }).read();
    expect(snapshot.namespaces).toBeNull();
    expect(snapshot.reads[0]?.reason).toBe('401 Unauthorized: the cluster rejected the credentials');
    expect(snapshot.reads.every((r) => r.status === 'failed')).toBe(true);
    expect(s.requests.length).toBeLessThanOrEqual(6);
  });

  it('assumes a cross-account role with its ExternalId and a meaningful session name, once per role', async () => {
    const s1 = await server('prod-1');
    const s2 = await server('prod-2');
    eks.clusters.push(
      { name: 'prod-1', region: 'us-east-1', account: '222222222222', endpoint: s1.url, caData: s1.caData },
      { name: 'prod-2', region: 'us-east-1', account: '222222222222', endpoint: s2.url, caData: s2.caData },
    );
    const acc = access();
    const scope = { roleArn: 'arn:aws:iam::222222222222:role/labelguard-reader', externalId: 'lg-prod' };
    const read = (cluster: string) =>
      createEksClusterSource({
        cluster,
        region: 'us-east-1',
        eks: acc.eksFor(scope, 'us-east-1'),
        credentials: acc.credentialsFor(scope, 'us-east-1'),
        read: FAST,
      }).read();
    const [r1, r2] = await Promise.all([read('prod-1'), read('prod-2')]);
    expect([r1.namespaces?.length, r2.namespaces?.length]).toEqual([5, 5]);
    const assumed = eks.calls.filter((c) => c.service === 'sts');
    expect(assumed).toHaveLength(1);
    expect(assumed[0]?.params).toMatchObject({
      Action: 'AssumeRole',
      RoleArn: scope.roleArn,
      RoleSessionName: 'labelguard-scan',
      ExternalId: 'lg-prod',
    });
    // DescribeCluster ran as the assumed role (an ASIA session key), and so did the tokens.
    const describes = eks.calls.filter((c) => c.action === 'DescribeCluster' && c.params.name?.startsWith('prod-'));
    expect(describes.every((c) => c.accessKeyId.startsWith('ASIA'))).toBe(true);
    expect(
      [...s1.tokensSeen].every((t) =>
        Buffer.from(t.slice(11), 'base64url').toString().includes('X-Amz-Security-Token='),
      ),
    ).toBe(true);

    const wrongId = await createEksClusterSource({
      cluster: 'prod-1',
      region: 'us-east-1',
      eks: acc.eksFor({ roleArn: scope.roleArn, externalId: 'wrong' }, 'us-east-1'),
      credentials: acc.credentialsFor({ roleArn: scope.roleArn, externalId: 'wrong' }, 'us-east-1'),
      read: FAST,
    }).read();
    expect(wrongId.namespaces).toBeNull();
    expect(wrongId.reads[0]?.reason).toMatch(/AccessDenied|not authorized to perform: sts:AssumeRole/);
  });

  it('discovers clusters by tags across accounts and regions; a region it cannot list is a failed cluster', async () => {
    const s = await server('tagged');
    eks.clusters.push(
      {
        name: 'tagged',
        region: 'eu-central-1',
        endpoint: s.url,
        caData: s.caData,
        tags: { 'labelguard/scan': 'true', env: 'prod' },
      },
      { name: 'untagged', region: 'eu-central-1', endpoint: s.url, caData: s.caData, tags: { env: 'prod' } },
      { name: 'off', region: 'eu-central-1', endpoint: s.url, caData: s.caData, tags: { 'labelguard/scan': 'false' } },
      {
        name: 'tagged',
        region: 'us-west-2',
        account: '222222222222',
        endpoint: s.url,
        caData: s.caData,
        tags: { 'labelguard/scan': 'true' },
      },
    );
    const acc = access();
    const options = {
      accounts: [
        { regions: ['eu-central-1', 'ap-south-1'] },
        { roleArn: 'arn:aws:iam::222222222222:role/labelguard-reader', externalId: 'lg-prod', regions: ['us-west-2'] },
      ],
      tags: { 'labelguard/scan': 'true' },
      eksFor: acc.eksFor,
      credentialsFor: acc.credentialsFor,
    };
    const found = await discoverEksClusters(options);
    // Ordered by account (222222222222 before the caller's own, "default"), then region and name.
    expect(found.clusters.map((c) => `${c.info.name}@${c.region}`)).toEqual([
      'tagged@us-west-2',
      'tagged@eu-central-1',
    ]);
    expect(found.failures).toEqual([
      expect.objectContaining({
        region: 'ap-south-1',
        reason: expect.stringContaining('AccessDeniedException') as string,
      }),
    ]);

    const sources = await createEksDiscoverySources({ ...options, name: 'fleet', read: FAST });
    // Same name in two regions: the region tells them apart.
    expect(sources.map((x) => x.cluster)).toEqual([
      'tagged@us-west-2',
      'tagged@eu-central-1',
      'fleet:default/ap-south-1',
    ]);
    const failed = await sources[2]!.read();
    expect(failed.namespaces).toBeNull();
    expect(failed.reads[0]?.reason).toMatch(/^EKS discovery failed: ListClusters \(ap-south-1\): access denied/);
  });

  it('pages through ListClusters', async () => {
    const paged = await startEksEndpoint({
      credentials,
      pageSize: 2,
      clusters: ['c1', 'c2', 'c3', 'c4', 'c5'].map((name) => ({
        name,
        region: 'eu-west-3',
        endpoint: 'https://e',
        caData: 'x',
      })),
    });
    try {
      const acc = createEksAccess({ baseCredentials: base, sessionName: 'labelguard-scan', eksEndpoint: paged.url });
      const found = await discoverEksClusters({ accounts: [{ regions: ['eu-west-3'] }], eksFor: acc.eksFor });
      expect(found.clusters.map((c) => c.info.name)).toEqual(['c1', 'c2', 'c3', 'c4', 'c5']);
      expect(paged.calls.filter((c) => c.action === 'ListClusters')).toHaveLength(3);
    } finally {
      await paged.close();
    }
  });

  it('a cluster that is not ACTIVE is failed with its status', async () => {
    eks.clusters.push({
      name: 'creating',
      region: 'eu-west-1',
      endpoint: 'https://e',
      caData: 'x',
      status: 'CREATING',
    });
    const snapshot = await createEksClusterSource({
      cluster: 'creating',
      region: 'eu-west-1',
      eks: access().eksFor({}, 'eu-west-1'),
      credentials: base,
    }).read();
    expect(snapshot.namespaces).toBeNull();
    expect(snapshot.reads[0]?.reason).toBe('the EKS cluster is CREATING');
  });
});
