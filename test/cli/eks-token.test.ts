/**
 * `labelguard eks-token`: an ExecCredential like `aws eks get-token`, whose token the EKS
 * authenticator accepts for that cluster only; with --role-arn, signed as the assumed role.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import {
  CredentialStore,
  ENV_CREDENTIALS,
  startEksEndpoint,
  verifyEksToken,
  type EksEndpoint,
} from '../helpers/eks-endpoint.js';

interface ExecCredential {
  kind: string;
  apiVersion: string;
  spec: Record<string, never>;
  status: { expirationTimestamp: string; token: string };
}

describe.concurrent('labelguard eks-token', () => {
  let sts: EksEndpoint;
  const credentials = new CredentialStore();

  beforeAll(async () => {
    credentials.add({ ...ENV_CREDENTIALS });
    sts = await startEksEndpoint({
      credentials,
      roles: [{ arn: 'arn:aws:iam::222222222222:role/labelguard-reader', externalId: 'xid' }],
    });
  });
  afterAll(async () => {
    await sts.close();
  });

  it('prints an ExecCredential whose token is valid for that cluster only, for 14 minutes', async () => {
    const before = Date.now();
    const [plain, assumed, noRegion] = await Promise.all([
      runCli(['eks-token', '--cluster', 'prod', '--region', 'eu-west-1']),
      // The region from AWS_REGION, and the ExecCredential version kubectl asks for.
      runCli(
        [
          'eks-token',
          '--cluster',
          'prod',
          '--role-arn',
          'arn:aws:iam::222222222222:role/labelguard-reader',
          '--external-id',
          'xid',
        ],
        {
          env: {
            AWS_ENDPOINT_URL_STS: sts.url,
            AWS_REGION: 'eu-west-1',
            KUBERNETES_EXEC_INFO: JSON.stringify({
              apiVersion: 'client.authentication.k8s.io/v1',
              kind: 'ExecCredential',
            }),
          },
        },
      ),
      runCli(['eks-token', '--cluster', 'prod'], { env: { AWS_REGION: '', AWS_DEFAULT_REGION: '' } }),
    ]);

    expect(plain.code, plain.stderr).toBe(0);
    const credential = JSON.parse(plain.stdout) as ExecCredential;
    expect(credential).toMatchObject({
      kind: 'ExecCredential',
      apiVersion: 'client.authentication.k8s.io/v1beta1',
      spec: {},
    });
    expect(credential.status.expirationTimestamp).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    const expires = Date.parse(credential.status.expirationTimestamp);
    expect(expires - before).toBeGreaterThan(13 * 60_000);
    expect(expires - before).toBeLessThanOrEqual(14 * 60_000 + 60_000);
    const now = new Date();
    expect(verifyEksToken(credential.status.token, { clusterName: 'prod', credentials, now })).toMatchObject({
      ok: true,
    });
    expect(verifyEksToken(credential.status.token, { clusterName: 'staging', credentials, now }).ok).toBe(false);
    const url = new URL(Buffer.from(credential.status.token.slice(11), 'base64url').toString());
    expect(url.host).toBe('sts.eu-west-1.amazonaws.com');
    expect(plain.stderr).toBe('');

    expect(assumed.code, assumed.stderr).toBe(0);
    const role = JSON.parse(assumed.stdout) as ExecCredential;
    expect(role.apiVersion).toBe('client.authentication.k8s.io/v1');
    const verified = verifyEksToken(role.status.token, { clusterName: 'prod', credentials, now: new Date() });
    expect(verified).toMatchObject({
      ok: true,
      principal: { arn: 'arn:aws:sts::222222222222:assumed-role/labelguard-reader/labelguard-eks-token' },
    });
    expect(sts.calls.filter((c) => c.params.ExternalId === 'xid').map((c) => c.params.RoleSessionName)).toEqual([
      'labelguard-eks-token',
    ]);

    expect(noRegion.code).toBe(2);
    expect(noRegion.stderr).toContain('--region: expected an AWS region');
  });

  it('a role it may not assume is a clear error that shows no credential', async () => {
    const r = await runCli(
      [
        'eks-token',
        '--cluster',
        'prod',
        '--region',
        'eu-west-1',
        '--role-arn',
        'arn:aws:iam::222222222222:role/labelguard-reader',
      ],
      {
        env: { AWS_ENDPOINT_URL_STS: sts.url },
      },
    );
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(
      /^labelguard: cannot get AWS credentials for arn:aws:iam::222222222222:role\/labelguard-reader: .*not authorized to perform: sts:AssumeRole/,
    );
    expect(r.stderr).not.toContain(ENV_CREDENTIALS.secretAccessKey);
  });
});
