/**
 * The webhook token authenticator the e2e kube-apiserver calls (`--authentication-token-webhook-config-file`):
 * a TokenReview server that accepts `k8s-aws-v1.` tokens by aws-iam-authenticator's checks
 * (pkg/token/token.go `Verify`), then does what STS would do with the presigned URL, by recomputing
 * the SigV4 signature with the test credentials it knows, and maps the signer to a Kubernetes user
 * the way an EKS access entry with `kubernetesGroups: [labelguard-readers]` does.
 */
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { signatureOf, type TestCredentials } from './sigv4.js';

export const TOKEN_PREFIX = 'k8s-aws-v1.';
const MAX_TOKEN_BYTES = 4096;
/** STS honours a presigned GetCallerIdentity for 15 minutes after X-Amz-Date. */
const PRESIGNED_URL_LIFETIME_MS = 15 * 60 * 1000;
const ALLOWED_QUERY_KEYS = new Set([
  'action',
  'version',
  'x-amz-algorithm',
  'x-amz-credential',
  'x-amz-date',
  'x-amz-expires',
  'x-amz-security-token',
  'x-amz-signature',
  'x-amz-signedheaders',
]);
const STS_HOST_RE = /^sts(?:\.([a-z0-9-]+))?\.amazonaws\.com$/;
const AMZ_DATE_RE = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/;

/** A principal the fake STS knows, and the access entry that maps it into the cluster. */
export interface KnownPrincipal {
  readonly credentials: TestCredentials;
  /** What GetCallerIdentity would return, e.g. arn:aws:sts::111122223333:assumed-role/labelguard-reader/e2e */
  readonly arn: string;
  readonly groups: readonly string[];
}

export interface ReviewedIdentity {
  readonly username: string;
  readonly uid: string;
  readonly groups: readonly string[];
  readonly extra: Readonly<Record<string, readonly string[]>>;
}

export type TokenVerdict =
  { readonly ok: true; readonly identity: ReviewedIdentity } | { readonly ok: false; readonly reason: string };

/** Verifies one bearer token for the cluster `clusterId` at time `now`. Pure. */
export function verifyEksToken(
  token: string,
  clusterId: string,
  principals: readonly KnownPrincipal[],
  now: Date,
): TokenVerdict {
  const fail = (reason: string): TokenVerdict => ({ ok: false, reason });
  if (Buffer.byteLength(token, 'utf8') > MAX_TOKEN_BYTES) return fail('token is too large');
  if (!token.startsWith(TOKEN_PREFIX)) return fail('token is missing expected "k8s-aws-v1." prefix');
  const encoded = token.slice(TOKEN_PREFIX.length);
  // Go's base64.RawURLEncoding: URL alphabet, no padding.
  if (!/^[A-Za-z0-9_-]*$/.test(encoded) || encoded.length % 4 === 1)
    return fail('input token was not properly formatted');
  const text = Buffer.from(encoded, 'base64url').toString('utf8');
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return fail('input token was not properly formatted: not a URL');
  }
  if (url.protocol !== 'https:') return fail(`unexpected scheme "${url.protocol.slice(0, -1)}" in pre-signed URL`);
  const host = STS_HOST_RE.exec(url.host);
  if (!host) return fail(`unexpected hostname "${url.host}" in pre-signed URL`);
  const hostRegion = host[1] ?? 'us-east-1';
  if (url.pathname !== '/') return fail('unexpected path in pre-signed URL');
  if (url.username !== '' || url.password !== '' || url.hash !== '') return fail('unexpected parts in pre-signed URL');

  const raw: [string, string][] = [];
  const lower = new Map<string, string>();
  for (const [key, value] of new URLSearchParams(url.search)) {
    const k = key.toLowerCase();
    if (!ALLOWED_QUERY_KEYS.has(k)) return fail(`non-whitelisted query parameter "${key}"`);
    if (lower.has(k)) return fail(`query parameter "${key}" must appear exactly once`);
    lower.set(k, value);
    raw.push([key, value]);
  }
  if (lower.get('action') !== 'GetCallerIdentity') return fail('unexpected action parameter in pre-signed URL');
  const signedHeaders = (lower.get('x-amz-signedheaders') ?? '').split(';');
  if (!signedHeaders.includes('x-k8s-aws-id')) {
    return fail('client did not sign the x-k8s-aws-id header in the pre-signed URL');
  }
  const expiresText = lower.get('x-amz-expires');
  if (expiresText === undefined || !/^\d+$/.test(expiresText)) return fail('X-Amz-Expires is missing or not a number');
  const expires = Number(expiresText);
  if (expires < 0 || expires > 900) return fail(`X-Amz-Expires parameter out of range: ${expires}`);
  const dateText = lower.get('x-amz-date') ?? '';
  const d = AMZ_DATE_RE.exec(dateText);
  if (!d) return fail('X-Amz-Date is missing or malformed');
  const signedAt = Date.UTC(Number(d[1]), Number(d[2]) - 1, Number(d[3]), Number(d[4]), Number(d[5]), Number(d[6]));
  if (now.getTime() > signedAt + PRESIGNED_URL_LIFETIME_MS)
    return fail('X-Amz-Date parameter is expired (15 minute expiration)');
  if (signedAt > now.getTime() + PRESIGNED_URL_LIFETIME_MS) return fail('X-Amz-Date is in the future');

  // What STS does with the URL: the credential scope, the session token and the signature.
  if (lower.get('x-amz-algorithm') !== 'AWS4-HMAC-SHA256') return fail('sts: unsupported X-Amz-Algorithm');
  const credential = (lower.get('x-amz-credential') ?? '').split('/');
  if (credential.length !== 5) return fail('sts: malformed X-Amz-Credential');
  const [accessKeyId, scopeDate, scopeRegion, scopeService, terminator] = credential as [
    string,
    string,
    string,
    string,
    string,
  ];
  if (scopeDate !== dateText.slice(0, 8) || scopeService !== 'sts' || terminator !== 'aws4_request') {
    return fail('sts: credential scope does not match the request');
  }
  if (scopeRegion !== hostRegion)
    return fail(`sts: credential scope region ${scopeRegion} is not the endpoint's ${hostRegion}`);
  const principal = principals.find((p) => p.credentials.accessKeyId === accessKeyId);
  if (!principal) return fail('sts: InvalidClientTokenId: the security token included in the request is invalid');
  if (lower.get('x-amz-security-token') !== principal.credentials.sessionToken) {
    return fail('sts: InvalidClientTokenId: the session token does not match the access key');
  }
  const expected = signatureOf({
    secretAccessKey: principal.credentials.secretAccessKey,
    host: url.host,
    query: raw.filter(([k]) => k.toLowerCase() !== 'x-amz-signature'),
    headers: { 'x-k8s-aws-id': clusterId },
    signedHeaders,
    amzDate: dateText,
    scope: credential.slice(1).join('/'),
  });
  if (lower.get('x-amz-signature') !== expected) {
    return fail('sts: SignatureDoesNotMatch (wrong secret, or a token for another cluster)');
  }
  return { ok: true, identity: identityOf(principal, accessKeyId) };
}

/** As aws-iam-authenticator maps `arn:aws:sts::ACCOUNT:assumed-role/ROLE/SESSION` through an access entry. */
function identityOf(principal: KnownPrincipal, accessKeyId: string): ReviewedIdentity {
  const m = /^arn:(aws[a-z-]*):sts::(\d{12}):assumed-role\/([^/]+)\/(.+)$/.exec(principal.arn);
  const canonicalArn = m ? `arn:${m[1]}:iam::${m[2]}:role/${m[3]}` : principal.arn;
  return {
    username: principal.arn,
    uid: `aws-iam-authenticator:${m?.[2] ?? 'unknown'}:${accessKeyId}`,
    groups: principal.groups,
    extra: {
      arn: [principal.arn],
      canonicalArn: [canonicalArn],
      sessionName: [m?.[4] ?? ''],
      accessKeyId: [accessKeyId],
    },
  };
}

export interface TokenReviewServer {
  readonly url: string;
  /** Every review answered, in order (the tests check the EKS path was really taken). */
  readonly reviews: readonly { readonly username: string | null; readonly reason: string | null }[];
  close(): Promise<void>;
}

/** Starts the HTTPS TokenReview endpoint on 127.0.0.1 with an ephemeral port. */
export async function startTokenReviewServer(options: {
  readonly key: string;
  readonly cert: string;
  readonly clusterId: string;
  readonly principals: readonly KnownPrincipal[];
  readonly now?: () => Date;
}): Promise<TokenReviewServer> {
  const reviews: { username: string | null; reason: string | null }[] = [];
  const server: Server = createServer({ key: options.key, cert: options.cert }, (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      let review: { apiVersion?: string; spec?: { token?: string; audiences?: string[] } };
      try {
        review = JSON.parse(Buffer.concat(chunks).toString('utf8')) as typeof review;
      } catch {
        res.writeHead(400).end();
        return;
      }
      const verdict = verifyEksToken(
        review.spec?.token ?? '',
        options.clusterId,
        options.principals,
        (options.now ?? (() => new Date()))(),
      );
      reviews.push(
        verdict.ok ? { username: verdict.identity.username, reason: null } : { username: null, reason: verdict.reason },
      );
      const status = verdict.ok
        ? { authenticated: true, user: verdict.identity, audiences: review.spec?.audiences }
        : { authenticated: false, error: verdict.reason };
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify({ apiVersion: review.apiVersion ?? 'authentication.k8s.io/v1', kind: 'TokenReview', status }),
      );
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `https://127.0.0.1:${port}/tokenreview`,
    reviews,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
