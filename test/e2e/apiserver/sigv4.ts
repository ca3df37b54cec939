/**
 * A small, independent SigV4 query-string presigner for the one request EKS tokens carry
 * (`GET https://sts.<region>.amazonaws.com/?Action=GetCallerIdentity&Version=2011-06-15`, with the
 * `x-k8s-aws-id` header signed). The e2e suite signs the tokens it hands labelguard with it, and
 * the TokenReview server recomputes signatures with it; it shares no code with labelguard's own
 * signer, so a bug there cannot hide behind the same bug here. Checked against aws-iam-authenticator's
 * golden vector in token-review.e2e.test.ts.
 */
import { createHash, createHmac } from 'node:crypto';

export interface TestCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken?: string;
}

const EMPTY_SHA256 = createHash('sha256').update('').digest('hex');
const ALGORITHM = 'AWS4-HMAC-SHA256';

/** RFC 3986 encoding as SigV4 wants it: everything but A-Z a-z 0-9 - _ . ~ is %XX (upper-case hex). */
export function uriEncode(text: string): string {
  return encodeURIComponent(text).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

/** `20230428T000000Z` */
export function amzDate(date: Date): string {
  return date
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d{3}/, '');
}

/** The canonical query string: keys and values encoded, then sorted by key (then value). */
export function canonicalQuery(params: readonly (readonly [string, string])[]): string {
  return params
    .map(([k, v]) => [uriEncode(k), uriEncode(v)] as const)
    .sort(([ka, va], [kb, vb]) => (ka < kb ? -1 : ka > kb ? 1 : va < vb ? -1 : va > vb ? 1 : 0))
    .map(([k, v]) => `${k}=${v}`)
    .join('&');
}

/**
 * The hex signature of a presigned GET on path `/` whose query already holds every X-Amz-* field
 * but X-Amz-Signature, signing the headers named (lower-case) with the values given.
 */
export function signatureOf(input: {
  readonly secretAccessKey: string;
  readonly host: string;
  readonly query: readonly (readonly [string, string])[];
  readonly headers: Readonly<Record<string, string>>;
  readonly signedHeaders: readonly string[];
  readonly amzDate: string;
  readonly scope: string;
}): string {
  const headerLines = input.signedHeaders
    .map((name) => `${name}:${(name === 'host' ? input.host : (input.headers[name] ?? '')).trim()}\n`)
    .join('');
  const canonicalRequest = [
    'GET',
    '/',
    canonicalQuery(input.query),
    headerLines,
    input.signedHeaders.join(';'),
    EMPTY_SHA256,
  ].join('\n');
  const stringToSign = [
    ALGORITHM,
    input.amzDate,
    input.scope,
    createHash('sha256').update(canonicalRequest).digest('hex'),
  ].join('\n');
  const [date, region, service, terminator] = input.scope.split('/');
  let key: Buffer = createHmac('sha256', `AWS4${input.secretAccessKey}`)
    .update(date ?? '')
    .digest();
  for (const part of [region, service, terminator])
    key = createHmac('sha256', key)
      .update(part ?? '')
      .digest();
  return createHmac('sha256', key).update(stringToSign).digest('hex');
}

/** The presigned STS URL inside an EKS token, exactly as aws-iam-authenticator's `GetWithSTS` lays it out. */
export function presignGetCallerIdentity(input: {
  readonly credentials: TestCredentials;
  readonly region: string;
  readonly clusterId: string;
  readonly date: Date;
  readonly expiresSeconds?: number;
}): string {
  const host = `sts.${input.region}.amazonaws.com`;
  const date = amzDate(input.date);
  const scope = `${date.slice(0, 8)}/${input.region}/sts/aws4_request`;
  const query: [string, string][] = [
    ['Action', 'GetCallerIdentity'],
    ['Version', '2011-06-15'],
    ['X-Amz-Algorithm', ALGORITHM],
    ['X-Amz-Credential', `${input.credentials.accessKeyId}/${scope}`],
    ['X-Amz-Date', date],
    ['X-Amz-Expires', String(input.expiresSeconds ?? 60)],
    ['X-Amz-SignedHeaders', 'host;x-k8s-aws-id'],
  ];
  if (input.credentials.sessionToken !== undefined)
    query.push(['X-Amz-Security-Token', input.credentials.sessionToken]);
  const signature = signatureOf({
    secretAccessKey: input.credentials.secretAccessKey,
    host,
    query,
    headers: { 'x-k8s-aws-id': input.clusterId },
    signedHeaders: ['host', 'x-k8s-aws-id'],
    amzDate: date,
    scope,
  });
  return `https://${host}/?${canonicalQuery(query)}&X-Amz-Signature=${signature}`;
}

/** `k8s-aws-v1.` + base64url(url) without padding. */
export function eksTokenOf(url: string): string {
  return `k8s-aws-v1.${Buffer.from(url, 'utf8').toString('base64url')}`;
}

/** A token for `clusterId` signed now (or at `date`) with the test credentials. */
export function signEksToken(input: {
  readonly credentials: TestCredentials;
  readonly region: string;
  readonly clusterId: string;
  readonly date?: Date;
  readonly expiresSeconds?: number;
}): string {
  return eksTokenOf(presignGetCallerIdentity({ ...input, date: input.date ?? new Date() }));
}
