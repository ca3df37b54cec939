/**
 * AWS credentials for one account: the caller's own, or a role assumed with
 * `fromTemporaryCredentials` (a meaningful RoleSessionName, the ExternalId when the trust policy
 * asks for one). The same memoized provider serves `eks:DescribeCluster`/`ListClusters` and token
 * signing, so one scan assumes each role once and refreshes it only when it is about to expire.
 */
import { fromTemporaryCredentials } from '@aws-sdk/credential-providers';
import { systemClock, type Clock } from '../../ports.js';

/** Structurally the SDK's AwsCredentialIdentity (our own type at the edge). */
export interface AwsCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken?: string;
  readonly expiration?: Date;
}

export type AwsCredentialsProvider = () => Promise<AwsCredentials>;

export interface AssumeRoleOptions {
  readonly roleArn: string;
  readonly externalId?: string;
  /** Shown in CloudTrail and in the cluster's audit log as the session: say who and why. */
  readonly sessionName: string;
  /** The region of the STS endpoint used to assume the role. */
  readonly region: string;
  /** The credentials that assume the role (the default chain when absent). */
  readonly baseCredentials?: AwsCredentialsProvider;
  /** For tests and private STS endpoints: the STS endpoint URL. */
  readonly stsEndpoint?: string;
  readonly durationSeconds?: number;
  readonly clock?: Clock;
}

export function createAssumedRoleCredentials(options: AssumeRoleOptions): AwsCredentialsProvider {
  const provider = fromTemporaryCredentials({
    params: {
      RoleArn: options.roleArn,
      RoleSessionName: roleSessionName(options.sessionName),
      ...(options.externalId === undefined ? {} : { ExternalId: options.externalId }),
      ...(options.durationSeconds === undefined ? {} : { DurationSeconds: options.durationSeconds }),
    },
    ...(options.baseCredentials ? { masterCredentials: options.baseCredentials } : {}),
    clientConfig: {
      region: options.region,
      ...(options.stsEndpoint === undefined ? {} : { endpoint: options.stsEndpoint }),
    },
  });
  return memoizeCredentials(() => provider(), options.clock ? { clock: options.clock } : {});
}

/**
 * Caches credentials until `refreshBeforeMs` before they expire (forever when they never do);
 * concurrent callers share one fetch, and a failed fetch is not cached.
 */
export function memoizeCredentials(
  provider: AwsCredentialsProvider,
  options: { clock?: Clock; refreshBeforeMs?: number } = {},
): AwsCredentialsProvider {
  const clock = options.clock ?? systemClock;
  const before = options.refreshBeforeMs ?? 5 * 60_000;
  let cached: AwsCredentials | undefined;
  let pending: Promise<AwsCredentials> | undefined;
  return async () => {
    const fresh =
      cached !== undefined &&
      (cached.expiration === undefined || clock.now().getTime() < cached.expiration.getTime() - before);
    if (fresh && cached) return cached;
    pending ??= provider().then(
      (c) => {
        cached = c;
        pending = undefined;
        return c;
      },
      (e: unknown) => {
        pending = undefined;
        throw e;
      },
    );
    return pending;
  };
}

/** A valid RoleSessionName ([\w+=,.@-], 2 to 64 characters) from any text. */
export function roleSessionName(text: string): string {
  const cleaned = text.replace(/[^\w+=,.@-]/g, '-').slice(0, 64);
  return cleaned.length >= 2 ? cleaned : `labelguard-${cleaned}`.slice(0, 64);
}
