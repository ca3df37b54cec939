/**
 * `labelguard eks-token --cluster NAME --region R [--role-arn ARN]`: prints an ExecCredential with a
 * freshly signed EKS bearer token, like `aws eks get-token`, so a kubectl exec plugin (or a curl)
 * can check exactly the access labelguard has. Signed locally; nothing is sent to STS unless a
 * role is to be assumed first.
 */
import { UsageError } from '../errors.js';
import { systemClock } from '../ports.js';

export interface EksTokenOptions {
  readonly cluster?: string;
  readonly region?: string;
  readonly roleArn?: string;
  readonly externalId?: string;
}

const EXEC_CREDENTIAL_VERSIONS = ['client.authentication.k8s.io/v1beta1', 'client.authentication.k8s.io/v1'];

export async function eksTokenCommand(opts: EksTokenOptions): Promise<number> {
  const cluster = opts.cluster;
  if (cluster === undefined || !/^[A-Za-z0-9][A-Za-z0-9_-]{0,99}$/.test(cluster)) {
    throw new UsageError(`--cluster ${cluster ?? ''}: expected an EKS cluster name`);
  }
  const region = opts.region ?? (process.env.AWS_REGION || process.env.AWS_DEFAULT_REGION);
  if (region === undefined || !/^[a-z0-9-]+$/.test(region)) {
    throw new UsageError('--region: expected an AWS region such as eu-west-1 (or set AWS_REGION)');
  }
  if (opts.externalId !== undefined && opts.roleArn === undefined)
    throw new UsageError('--external-id needs --role-arn');

  // Only what signing needs: not the Kubernetes client, not the EKS client.
  const [{ fromNodeProviderChain }, credentialsModule, tokenModule, errorsModule] = await Promise.all([
    import('@aws-sdk/credential-providers'),
    import('../adapters/eks/credentials.js'),
    import('../adapters/eks/token.js'),
    import('../adapters/eks/errors.js'),
  ]);
  const eks = { ...credentialsModule, ...tokenModule, ...errorsModule };
  const chain = fromNodeProviderChain();
  const base = eks.memoizeCredentials(() => chain());
  const credentials =
    opts.roleArn === undefined
      ? base
      : eks.createAssumedRoleCredentials({
          roleArn: opts.roleArn,
          ...(opts.externalId === undefined ? {} : { externalId: opts.externalId }),
          sessionName: 'labelguard-eks-token',
          region,
          baseCredentials: base,
        });
  let resolved;
  try {
    resolved = await credentials();
  } catch (e) {
    const why = e instanceof Error ? (e.message.split('\n', 1)[0] ?? '') : String(e);
    throw new eks.EksError(
      'eks-access-denied',
      `cannot get AWS credentials${opts.roleArn ? ` for ${opts.roleArn}` : ''}: ${why}`,
      {
        cause: e,
      },
    );
  }
  const { token, expiresAt } = await eks.signEksToken({
    cluster,
    region,
    credentials: resolved,
    signingDate: systemClock.now(),
  });

  // kubectl tells an exec plugin which ExecCredential version it wants in KUBERNETES_EXEC_INFO.
  const asked = execInfoApiVersion(process.env.KUBERNETES_EXEC_INFO);
  const credential = {
    kind: 'ExecCredential',
    apiVersion: asked ?? EXEC_CREDENTIAL_VERSIONS[0],
    spec: {},
    status: { expirationTimestamp: expiresAt.toISOString().replace(/\.\d{3}Z$/, 'Z'), token },
  };
  process.stdout.write(`${JSON.stringify(credential)}\n`);
  return 0;
}

function execInfoApiVersion(text: string | undefined): string | undefined {
  if (!text) return undefined;
  try {
    const v = (JSON.parse(text) as { apiVersion?: unknown }).apiVersion;
    return typeof v === 'string' && EXEC_CREDENTIAL_VERSIONS.includes(v) ? v : undefined;
  } catch {
    return undefined;
  }
}
