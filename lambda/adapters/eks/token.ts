/**
 * The EKS bearer token, signed locally (what `aws eks get-token` prints): a SigV4-presigned
 * `GET https://sts.<region>.amazonaws.com/?Action=GetCallerIdentity&Version=2011-06-15` whose signed
 * headers include `x-k8s-aws-id: <cluster>`, base64url-encoded without padding behind `k8s-aws-v1.`.
 * Nothing is sent to STS: the cluster's authenticator replays the URL. The token is honoured for
 * 15 minutes from its date; clients treat it as valid for 14, and this module re-signs before that.
 */
import { Hash } from '@smithy/hash-node';
import { HttpRequest } from '@smithy/protocol-http';
import { SignatureV4 } from '@smithy/signature-v4';
import { systemClock, type Clock } from '../../ports.js';
import type { AwsCredentials, AwsCredentialsProvider } from './credentials.js';

export const EKS_TOKEN_PREFIX = 'k8s-aws-v1.';
/** How long a token is treated as valid after its signing date (STS accepts it for 15 minutes). */
export const EKS_TOKEN_LIFETIME_MS = 14 * 60_000;
/** The presigned URL's own X-Amz-Expires, as aws-iam-authenticator and the AWS CLI set it. */
const PRESIGN_EXPIRES_SECONDS = 60;
const CLUSTER_ID_HEADER = 'x-k8s-aws-id';

export interface EksToken {
  readonly token: string;
  /** When clients should stop using it: signing date + 14 minutes, or earlier if the credentials expire first. */
  readonly expiresAt: Date;
}

export interface SignEksTokenInput {
  readonly cluster: string;
  readonly region: string;
  readonly credentials: AwsCredentials;
  readonly signingDate: Date;
}

/** The STS host the token is presigned for: the regional endpoint of the cluster's region. */
export function stsHost(region: string): string {
  return region.startsWith('cn-') ? `sts.${region}.amazonaws.com.cn` : `sts.${region}.amazonaws.com`;
}

export async function signEksToken(input: SignEksTokenInput): Promise<EksToken> {
  const host = stsHost(input.region);
  const signer = new SignatureV4({
    service: 'sts',
    region: input.region,
    credentials: {
      accessKeyId: input.credentials.accessKeyId,
      secretAccessKey: input.credentials.secretAccessKey,
      ...(input.credentials.sessionToken ? { sessionToken: input.credentials.sessionToken } : {}),
    },
    sha256: Hash.bind(null, 'sha256'),
    uriEscapePath: true,
  });
  const request = new HttpRequest({
    method: 'GET',
    protocol: 'https:',
    hostname: host,
    path: '/',
    query: { Action: 'GetCallerIdentity', Version: '2011-06-15' },
    headers: { host, [CLUSTER_ID_HEADER]: input.cluster },
  });
  const presigned = await signer.presign(request, {
    expiresIn: PRESIGN_EXPIRES_SECONDS,
    signingDate: input.signingDate,
  });
  const url = `https://${host}/?${formatQuery(presigned.query as Record<string, string | string[] | null>)}`;
  const lifetimeEnd = input.signingDate.getTime() + EKS_TOKEN_LIFETIME_MS;
  const credentialsEnd = input.credentials.expiration?.getTime() ?? Infinity;
  return {
    token: EKS_TOKEN_PREFIX + Buffer.from(url, 'utf8').toString('base64url'),
    expiresAt: new Date(Math.min(lifetimeEnd, credentialsEnd)),
  };
}

/** Action, Version, the other parameters in code-point order, and the signature last (as the AWS SDKs emit it). */
function formatQuery(query: Record<string, string | string[] | null>): string {
  const first = ['Action', 'Version'];
  const last = 'X-Amz-Signature';
  const middle = Object.keys(query)
    .filter((k) => !first.includes(k) && k !== last)
    .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  return [...first, ...middle, last]
    .filter((k) => typeof query[k] === 'string')
    .map((k) => `${uriEncode(k)}=${uriEncode(query[k] as string)}`)
    .join('&');
}

/** RFC 3986 encoding as SigV4 requires: everything but A-Z a-z 0-9 - _ . ~ is percent-encoded. */
function uriEncode(value: string): string {
  return encodeURIComponent(value).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

export interface EksTokenProviderOptions {
  readonly cluster: string;
  readonly region: string;
  readonly credentials: AwsCredentialsProvider;
  readonly clock?: Clock;
  /** Re-sign this long before the token's 14 minutes are up. Default 60 s. */
  readonly refreshMarginMs?: number;
}

export interface EksTokenProvider {
  /** A token valid for at least the refresh margin; re-signed when the cached one is too old. */
  token(): Promise<string>;
  /** Drops the cached token (after a 401), so the next call signs a fresh one. */
  invalidate(): void;
}

export function createEksTokenProvider(options: EksTokenProviderOptions): EksTokenProvider {
  const clock = options.clock ?? systemClock;
  const margin = options.refreshMarginMs ?? 60_000;
  let cached: EksToken | undefined;
  let signing: Promise<EksToken> | undefined;
  return {
    async token() {
      const now = clock.now();
      if (cached !== undefined && now.getTime() < cached.expiresAt.getTime() - margin) return cached.token;
      signing ??= (async () => {
        try {
          const credentials = await options.credentials();
          cached = await signEksToken({
            cluster: options.cluster,
            region: options.region,
            credentials,
            signingDate: clock.now(),
          });
          return cached;
        } finally {
          signing = undefined;
        }
      })();
      return (await signing).token;
    },
    invalidate() {
      cached = undefined;
    },
  };
}
