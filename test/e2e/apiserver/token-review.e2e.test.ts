/**
 * The harness's EKS authenticator, checked before anything relies on it: the signer reproduces
 * aws-iam-authenticator's golden vector, the verifier refuses what `Verify` refuses, and the real
 * kube-apiserver, through the webhook, authenticates a reader token as the labelguard-readers group.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { READER, STRANGER, startControlPlane, type ControlPlane } from './harness.js';
import { createKubeClient } from './kube-client.js';
import { eksTokenOf, presignGetCallerIdentity, signEksToken } from './sigv4.js';
import { verifyEksToken } from './token-review.js';

const GOLDEN_URL =
  'https://sts.us-west-2.amazonaws.com/?Action=GetCallerIdentity&Version=2011-06-15&X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=ASIAR2TG44V6AS3ZZE7C%2F20230428%2Fus-west-2%2Fsts%2Faws4_request&X-Amz-Date=20230428T000000Z&X-Amz-Expires=60&X-Amz-SignedHeaders=host%3Bx-k8s-aws-id&X-Amz-Signature=e211dba77aba9dc44b0b6be38b8eaad092599c5157f6314444c5b9d85747f5ce';
const GOLDEN_CREDENTIALS = {
  accessKeyId: 'ASIAR2TG44V6AS3ZZE7C',
  secretAccessKey: '4KD5cntGcVmLWRdF5wvNRuzNL5Qxmp6OKVY6Fz/Q',
};
const GOLDEN_DATE = new Date('2023-04-28T00:00:00Z');
const GOLDEN_PRINCIPAL = {
  credentials: GOLDEN_CREDENTIALS,
  arn: 'arn:aws:sts::123456789012:assumed-role/r/s',
  groups: ['g'],
};

describe('the test signer and verifier', () => {
  it('reproduce aws-iam-authenticator TestGetWithSTS byte for byte', () => {
    const url = presignGetCallerIdentity({
      credentials: GOLDEN_CREDENTIALS,
      region: 'us-west-2',
      clusterId: 'test-cluster',
      date: GOLDEN_DATE,
    });
    expect(url).toBe(GOLDEN_URL);
    const verdict = verifyEksToken(
      eksTokenOf(url),
      'test-cluster',
      [GOLDEN_PRINCIPAL],
      new Date(GOLDEN_DATE.getTime() + 60_000),
    );
    expect(verdict).toMatchObject({ ok: true, identity: { username: GOLDEN_PRINCIPAL.arn, groups: ['g'] } });
  });

  const at = new Date(GOLDEN_DATE.getTime() + 60_000);
  const withQuery = (edit: (q: URLSearchParams) => void): string => {
    const u = new URL(GOLDEN_URL);
    const q = new URLSearchParams(u.search);
    edit(q);
    u.search = q.toString();
    return eksTokenOf(u.toString());
  };
  const cases: [string, string, string | Date, RegExp][] = [
    ['another cluster', eksTokenOf(GOLDEN_URL), 'other-cluster', /SignatureDoesNotMatch/],
    ['no prefix', Buffer.from(GOLDEN_URL).toString('base64url'), 'test-cluster', /prefix/],
    ['padding', `${eksTokenOf(GOLDEN_URL)}==`, 'test-cluster', /not properly formatted/],
    ['http', eksTokenOf(GOLDEN_URL.replace('https:', 'http:')), 'test-cluster', /scheme/],
    [
      'a foreign host',
      eksTokenOf(GOLDEN_URL.replace('sts.us-west-2.amazonaws.com', 'sts.example.com')),
      'test-cluster',
      /hostname/,
    ],
    ['a path', eksTokenOf(GOLDEN_URL.replace('.com/?', '.com/foo?')), 'test-cluster', /path/],
    ['a duplicate key', withQuery((q) => q.append('Action', 'GetCallerIdentity')), 'test-cluster', /exactly once/],
    ['a foreign key', withQuery((q) => q.set('X-Amz-Foo', 'bar')), 'test-cluster', /non-whitelisted/],
    ['another action', withQuery((q) => q.set('Action', 'AssumeRole')), 'test-cluster', /action/],
    ['x-k8s-aws-id unsigned', withQuery((q) => q.set('X-Amz-SignedHeaders', 'host')), 'test-cluster', /x-k8s-aws-id/],
    ['expires out of range', withQuery((q) => q.set('X-Amz-Expires', '901')), 'test-cluster', /out of range/],
    [
      'a bad signature',
      withQuery((q) => q.set('X-Amz-Signature', '0'.repeat(64))),
      'test-cluster',
      /SignatureDoesNotMatch/,
    ],
    [
      'a session token the key does not have',
      withQuery((q) => q.set('X-Amz-Security-Token', 'x')),
      'test-cluster',
      /session token/,
    ],
    ['an expired date', eksTokenOf(GOLDEN_URL), new Date(GOLDEN_DATE.getTime() + 16 * 60_000), /expired/],
    ['too large', `k8s-aws-v1.${'A'.repeat(4096)}`, 'test-cluster', /too large/],
  ];
  it.each(cases)('refuse a token with %s', (_name, token, clusterOrTime, reason) => {
    const cluster = typeof clusterOrTime === 'string' ? clusterOrTime : 'test-cluster';
    const now = clusterOrTime instanceof Date ? clusterOrTime : at;
    const verdict = verifyEksToken(token, cluster, [GOLDEN_PRINCIPAL], now);
    expect(verdict.ok).toBe(false);
    expect(verdict.ok ? '' : verdict.reason).toMatch(reason);
  });
});

describe('kube-apiserver with the EKS webhook authenticator', () => {
  let cp: ControlPlane;
  beforeAll(async () => {
    cp = await startControlPlane();
  });
  afterAll(async () => {
    await cp?.stop();
  });

  const as = (token: string) => createKubeClient({ server: cp.server, caPem: cp.caPem, token });

  it('authenticates a reader token as the mapped user in labelguard-readers', async () => {
    const client = as(cp.signToken());
    try {
      const review = (await client.must('POST', '/apis/authentication.k8s.io/v1/selfsubjectreviews', {
        apiVersion: 'authentication.k8s.io/v1',
        kind: 'SelfSubjectReview',
      })) as { status: { userInfo: { username: string; groups: string[] } } };
      expect(review.status.userInfo.username).toBe(READER.arn);
      expect(review.status.userInfo.groups).toEqual(
        expect.arrayContaining(['labelguard-readers', 'system:authenticated']),
      );
      expect((await client.request('GET', '/api/v1/namespaces?limit=1')).status).toBe(200);
      expect((await client.request('GET', '/api/v1/namespaces/default/secrets')).status).toBe(403);
    } finally {
      client.close();
    }
  });

  it('rejects tokens signed for another cluster, too old, or with an unknown key (401)', async () => {
    const tokens = [
      cp.signToken({ clusterId: 'some-other-cluster' }),
      cp.signToken({ date: new Date(Date.now() - 16 * 60_000) }),
      signEksToken({
        credentials: { ...READER.credentials, secretAccessKey: 'wrong' },
        region: cp.region,
        clusterId: cp.clusterId,
      }),
    ];
    for (const token of tokens) {
      const client = as(token);
      try {
        expect((await client.request('GET', '/api/v1/namespaces')).status).toBe(401);
      } finally {
        client.close();
      }
    }
    expect(cp.tokenReview.reviews.filter((r) => r.username === null).length).toBeGreaterThanOrEqual(3);
  });

  it('authenticates a principal without an access entry group but authorizes nothing (403)', async () => {
    const client = as(cp.signToken({ credentials: STRANGER.credentials }));
    try {
      expect((await client.request('GET', '/api/v1/namespaces')).status).toBe(403);
    } finally {
      client.close();
    }
  });
});
