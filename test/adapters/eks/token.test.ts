/**
 * The EKS bearer token: the upstream golden vector byte for byte, and the EKS authenticator's
 * checks (as the test API server applies them) accepting our tokens and rejecting tampered ones.
 */
import { describe, expect, it } from 'vitest';
import { createEksTokenProvider, signEksToken } from '../../../lambda/adapters/eks/token.js';
import { CredentialStore, verifyEksToken } from '../../helpers/eks-endpoint.js';

// kubernetes-sigs/aws-iam-authenticator pkg/token/token_test.go TestGetWithSTS
const GOLDEN = {
  credentials: { accessKeyId: 'ASIAR2TG44V6AS3ZZE7C', secretAccessKey: '4KD5cntGcVmLWRdF5wvNRuzNL5Qxmp6OKVY6Fz/Q' },
  region: 'us-west-2',
  cluster: 'test-cluster',
  date: new Date('2023-04-28T00:00:00Z'),
  url:
    'https://sts.us-west-2.amazonaws.com/?Action=GetCallerIdentity&Version=2011-06-15&X-Amz-Algorithm=AWS4-HMAC-SHA256' +
    '&X-Amz-Credential=ASIAR2TG44V6AS3ZZE7C%2F20230428%2Fus-west-2%2Fsts%2Faws4_request&X-Amz-Date=20230428T000000Z' +
    '&X-Amz-Expires=60&X-Amz-SignedHeaders=host%3Bx-k8s-aws-id' +
    '&X-Amz-Signature=e211dba77aba9dc44b0b6be38b8eaad092599c5157f6314444c5b9d85747f5ce',
};

const decode = (token: string): string => Buffer.from(token.slice('k8s-aws-v1.'.length), 'base64url').toString('utf8');
const encode = (url: string): string => `k8s-aws-v1.${Buffer.from(url).toString('base64url')}`;

function goldenStore(): CredentialStore {
  const store = new CredentialStore();
  store.add({ ...GOLDEN.credentials, account: '123456789012', arn: 'arn:aws:iam::123456789012:user/golden' });
  return store;
}

describe('signEksToken', () => {
  it('reproduces the aws-iam-authenticator golden vector byte for byte', async () => {
    const t = await signEksToken({
      cluster: GOLDEN.cluster,
      region: GOLDEN.region,
      credentials: GOLDEN.credentials,
      signingDate: GOLDEN.date,
    });
    expect(t.token.startsWith('k8s-aws-v1.')).toBe(true);
    expect(t.token).not.toMatch(/=/);
    expect(decode(t.token)).toBe(GOLDEN.url);
    expect(t.token).toBe(encode(GOLDEN.url));
    expect(t.expiresAt.toISOString()).toBe('2023-04-28T00:14:00.000Z');
  });

  it('signs the session token of temporary credentials into the URL, and stops at the credentials expiry', async () => {
    const expiration = new Date(GOLDEN.date.getTime() + 5 * 60_000);
    const t = await signEksToken({
      cluster: GOLDEN.cluster,
      region: GOLDEN.region,
      credentials: { ...GOLDEN.credentials, sessionToken: 'FwoGZXIvYXdzEXAMPLE+/=', expiration },
      signingDate: GOLDEN.date,
    });
    const url = new URL(decode(t.token));
    expect(url.searchParams.get('X-Amz-Security-Token')).toBe('FwoGZXIvYXdzEXAMPLE+/=');
    expect(decode(t.token)).toContain('X-Amz-Security-Token=FwoGZXIvYXdzEXAMPLE%2B%2F%3D&X-Amz-SignedHeaders=');
    expect(t.expiresAt).toEqual(expiration);
    const store = new CredentialStore();
    store.add({ ...GOLDEN.credentials, sessionToken: 'FwoGZXIvYXdzEXAMPLE+/=', account: '1', arn: 'x' });
    expect(
      verifyEksToken(t.token, { clusterName: GOLDEN.cluster, credentials: store, now: GOLDEN.date }),
    ).toMatchObject({ ok: true });
  });

  it('uses the regional STS host of the cluster region (and the China partition host)', async () => {
    const cn = await signEksToken({
      cluster: 'c',
      region: 'cn-north-1',
      credentials: GOLDEN.credentials,
      signingDate: GOLDEN.date,
    });
    expect(new URL(decode(cn.token)).host).toBe('sts.cn-north-1.amazonaws.com.cn');
  });
});

describe('the EKS authenticator checks (test API server)', () => {
  const verify = (token: string, clusterName = GOLDEN.cluster, now = GOLDEN.date) =>
    verifyEksToken(token, { clusterName, credentials: goldenStore(), now });

  it('accepts the golden token for its cluster, and rejects it for another cluster or when stale', () => {
    const token = encode(GOLDEN.url);
    expect(verify(token)).toMatchObject({ ok: true });
    expect(verify(token, 'other-cluster')).toEqual({
      ok: false,
      reason: expect.stringContaining('SignatureDoesNotMatch') as string,
    });
    expect(verify(token, GOLDEN.cluster, new Date(GOLDEN.date.getTime() + 16 * 60_000))).toEqual({
      ok: false,
      reason: 'X-Amz-Date parameter is expired (15 minute expiration)',
    });
  });

  const tamper = (f: (u: string) => string): string => encode(f(GOLDEN.url));
  it.each([
    ['a token over 4096 bytes', `k8s-aws-v1.${'A'.repeat(4100)}`, 'too large'],
    ['no prefix', Buffer.from(GOLDEN.url).toString('base64url'), 'prefix'],
    ['a wrong prefix', `k8s-aws-v2.${Buffer.from(GOLDEN.url).toString('base64url')}`, 'prefix'],
    ['not base64url', 'k8s-aws-v1.#$%', 'base64url'],
    ['not a URL', encode('not a url'), 'malformed'],
    ['http', tamper((u) => u.replace('https://', 'http://')), 'scheme'],
    ['a foreign host', tamper((u) => u.replace('sts.us-west-2.amazonaws.com', 'sts.evil.example.com')), 'hostname'],
    [
      'a host that only ends like STS',
      tamper((u) => u.replace('sts.us-west-2', 'sts.us-west-2.amazonaws.com.evil')),
      'hostname',
    ],
    ['a path', tamper((u) => u.replace('.com/?', '.com/path?')), 'path'],
    ['a duplicate key', tamper((u) => `${u}&Action=GetCallerIdentity`), 'duplicate'],
    ['a duplicate key in other case', tamper((u) => `${u}&action=GetCallerIdentity`), 'duplicate'],
    ['an unknown key', tamper((u) => `${u}&X-Amz-Foo=1`), 'non-whitelisted'],
    ['another action', tamper((u) => u.replace('GetCallerIdentity', 'AssumeRole')), 'action'],
    ['x-k8s-aws-id not signed', tamper((u) => u.replace('host%3Bx-k8s-aws-id', 'host')), 'x-k8s-aws-id'],
    ['X-Amz-Expires over 900', tamper((u) => u.replace('X-Amz-Expires=60', 'X-Amz-Expires=901')), 'Expires'],
    ['X-Amz-Expires negative', tamper((u) => u.replace('X-Amz-Expires=60', 'X-Amz-Expires=-1')), 'Expires'],
    ['X-Amz-Expires not a number', tamper((u) => u.replace('X-Amz-Expires=60', 'X-Amz-Expires=abc')), 'Expires'],
    ['a malformed date', tamper((u) => u.replace('20230428T000000Z', '2023-04-28')), 'X-Amz-Date'],
    [
      'an unknown access key',
      tamper((u) => u.replace(/ASIAR2TG44V6AS3ZZE7C/, 'ASIAXXXXXXXXXXXXXXXX')),
      'InvalidClientTokenId',
    ],
    ['a changed signature', tamper((u) => u.replace(/e211dba7/, 'e211dba8')), 'SignatureDoesNotMatch'],
  ])('rejects %s', (_what, token, reason) => {
    const result = verify(token);
    expect(result.ok).toBe(false);
    expect(result.ok ? '' : result.reason).toContain(reason);
  });
});

describe('createEksTokenProvider', () => {
  it('reuses a token until a minute before its 14 minutes are up, then re-signs; a 401 drops it', async () => {
    let now = GOLDEN.date.getTime();
    let fetches = 0;
    const tokens = createEksTokenProvider({
      cluster: GOLDEN.cluster,
      region: GOLDEN.region,
      credentials: () => {
        fetches++;
        return Promise.resolve(GOLDEN.credentials);
      },
      clock: { now: () => new Date(now) },
    });
    const first = await tokens.token();
    expect(decode(first)).toBe(GOLDEN.url);
    now += 12 * 60_000;
    expect(await tokens.token()).toBe(first);
    now += 61_000; // 13:01 after signing: within the last minute of the 14
    const second = await tokens.token();
    expect(second).not.toBe(first);
    expect(decode(second)).toContain('X-Amz-Date=20230428T001301Z');
    tokens.invalidate();
    const [a, b] = await Promise.all([tokens.token(), tokens.token()]);
    expect(a).toBe(b); // concurrent callers share one signing
    expect(fetches).toBe(3);
  });
});
