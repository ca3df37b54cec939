/**
 * A local AWS endpoint for the EKS and STS calls labelguard makes, and the EKS authenticator's
 * token check, for tests:
 *   - EKS (REST-JSON): DescribeCluster `GET /clusters/<name>`, ListClusters `GET /clusters` (paged),
 *     with ResourceNotFoundException and AccessDeniedException as the service sends them;
 *   - STS (query protocol): AssumeRole, which issues temporary credentials into a shared store;
 *   - `verifyEksToken`: the checks aws-iam-authenticator makes before it calls STS, then the SigV4
 *     signature recomputed here, independently (node:crypto, not the signer under test), with the
 *     secret of the access key and the *server's own* cluster name, as STS would on the replay.
 * Clusters are scoped by the account of the caller's access key and the region of the request's
 * SigV4 credential scope, like the real service.
 */
import { createHash, createHmac, randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

// ---------------------------------------------------------------------------------------------
// Credentials

export interface StoredCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken?: string;
  /** The account the key belongs to (12 digits). */
  readonly account: string;
  /** The principal, for messages: arn:aws:iam::<account>:user/x or an assumed-role ARN. */
  readonly arn: string;
}

/** Access keys known to the fake AWS: the base (test) credentials and every issued session. */
export class CredentialStore {
  private readonly keys = new Map<string, StoredCredentials>();

  add(c: StoredCredentials): StoredCredentials {
    this.keys.set(c.accessKeyId, c);
    return c;
  }

  get(accessKeyId: string): StoredCredentials | undefined {
    return this.keys.get(accessKeyId);
  }
}

/** The fake access key vitest.config.ts puts in the environment. */
export const ENV_CREDENTIALS = {
  accessKeyId: 'AKIDEXAMPLETESTONLY',
  secretAccessKey: 'test-secret-not-real',
  account: '111111111111',
  arn: 'arn:aws:iam::111111111111:user/labelguard-test',
} as const;

// ---------------------------------------------------------------------------------------------
// The EKS token check

export interface VerifyTokenOptions {
  /** The cluster the API server belongs to: the signed x-k8s-aws-id must be this. */
  readonly clusterName: string;
  readonly credentials: CredentialStore;
  readonly now: Date;
}

export type VerifyResult =
  { readonly ok: true; readonly principal: StoredCredentials } | { readonly ok: false; readonly reason: string };

const TOKEN_PREFIX = 'k8s-aws-v1.';
const MAX_TOKEN_BYTES = 4096;
/** STS honours a presigned GetCallerIdentity for 15 minutes after X-Amz-Date. */
const PRESIGNED_URL_LIFETIME_MS = 15 * 60 * 1000;
const ALLOWED_KEYS = new Set([
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
const STS_HOST_RE = /^sts(?:\.([a-z0-9-]+))?\.amazonaws\.com(?:\.cn)?$/;
const AMZ_DATE_RE = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/;
const EMPTY_SHA256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';

/**
 * aws-iam-authenticator's `Verify` checks (pkg/token/token.go), then what STS does with the
 * presigned URL: the credential scope, the session token and the signature. Used by the test API
 * server and by the e2e suite's TokenReview webhook.
 */
export function verifyEksToken(token: string, options: VerifyTokenOptions): VerifyResult {
  const fail = (reason: string): VerifyResult => ({ ok: false, reason });
  if (Buffer.byteLength(token, 'utf8') > MAX_TOKEN_BYTES) return fail('token is too large');
  if (!token.startsWith(TOKEN_PREFIX)) return fail('token is missing expected "k8s-aws-v1." prefix');
  const encoded = token.slice(TOKEN_PREFIX.length);
  // Go's base64.RawURLEncoding: URL alphabet, no padding.
  if (!/^[A-Za-z0-9_-]*$/.test(encoded) || encoded.length % 4 === 1)
    return fail('input token was not properly formatted: not base64url');
  const text = Buffer.from(encoded, 'base64url').toString('utf8');
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return fail('input token was not properly formatted: malformed pre-signed URL');
  }
  if (url.protocol !== 'https:') return fail(`unexpected scheme "${url.protocol.slice(0, -1)}" in pre-signed URL`);
  const host = STS_HOST_RE.exec(url.host);
  if (!host) return fail(`unexpected hostname "${url.host}" in pre-signed URL`);
  const hostRegion = host[1] ?? 'us-east-1';
  if (url.pathname !== '/') return fail('unexpected path in pre-signed URL');
  if (url.username !== '' || url.password !== '' || url.hash !== '') return fail('unexpected parts in pre-signed URL');

  const params = new Map<string, string>();
  for (const [key, value] of url.searchParams) {
    const k = key.toLowerCase();
    if (!ALLOWED_KEYS.has(k)) return fail(`non-whitelisted query parameter "${key}"`);
    if (params.has(k)) return fail(`duplicate query parameter "${key}": it must appear exactly once`);
    params.set(k, value);
  }
  if (params.get('action') !== 'GetCallerIdentity') return fail('unexpected action parameter in pre-signed URL');
  const signedHeaders = (params.get('x-amz-signedheaders') ?? '').split(';');
  if (!signedHeaders.includes('x-k8s-aws-id')) {
    return fail('client did not sign the x-k8s-aws-id header in the pre-signed URL');
  }
  const expiresText = params.get('x-amz-expires');
  if (expiresText === undefined || !/^\d+$/.test(expiresText)) return fail('X-Amz-Expires is missing or not a number');
  const expires = Number(expiresText);
  if (expires > 900) return fail(`X-Amz-Expires parameter out of range: ${expires}`);
  const amzDate = params.get('x-amz-date') ?? '';
  const d = AMZ_DATE_RE.exec(amzDate);
  if (!d) return fail('X-Amz-Date is missing or malformed');
  const signedAt = Date.UTC(Number(d[1]), Number(d[2]) - 1, Number(d[3]), Number(d[4]), Number(d[5]), Number(d[6]));
  const now = options.now.getTime();
  if (now > signedAt + PRESIGNED_URL_LIFETIME_MS) return fail('X-Amz-Date parameter is expired (15 minute expiration)');
  if (signedAt > now + PRESIGNED_URL_LIFETIME_MS) return fail('X-Amz-Date is in the future');

  // What STS does with the replayed request: the scope, the key and its session, the signature.
  if (params.get('x-amz-algorithm') !== 'AWS4-HMAC-SHA256') return fail('sts: unsupported X-Amz-Algorithm');
  const credential = (params.get('x-amz-credential') ?? '').split('/');
  const [accessKeyId = '', scopeDate, region, service, terminator] = credential;
  if (
    credential.length !== 5 ||
    scopeDate !== amzDate.slice(0, 8) ||
    service !== 'sts' ||
    terminator !== 'aws4_request'
  ) {
    return fail('sts: malformed credential scope');
  }
  if (region !== hostRegion) return fail(`sts: credential scope region ${region} is not the endpoint's ${hostRegion}`);
  const principal = options.credentials.get(accessKeyId);
  if (principal === undefined)
    return fail('sts: InvalidClientTokenId: the security token included in the request is invalid');
  if (params.get('x-amz-security-token') !== principal.sessionToken) {
    return fail('sts: InvalidClientTokenId: the session token does not match the access key');
  }
  const headers: Record<string, string> = { host: url.host, 'x-k8s-aws-id': options.clusterName };
  const canonicalHeaders = signedHeaders.map((h) => `${h}:${(headers[h] ?? '').trim()}\n`).join('');
  const canonicalQuery = [...url.searchParams]
    .filter(([k]) => k !== 'X-Amz-Signature')
    .map(([k, v]) => [rfc3986(k), rfc3986(v)] as const)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([k, v]) => `${k}=${v}`)
    .join('&');
  const canonicalRequest = ['GET', '/', canonicalQuery, canonicalHeaders, signedHeaders.join(';'), EMPTY_SHA256].join(
    '\n',
  );
  const scope = `${scopeDate}/${region}/sts/aws4_request`;
  const stringToSign = ['AWS4-HMAC-SHA256', amzDate, scope, sha256Hex(canonicalRequest)].join('\n');
  const key = [scopeDate, region, 'sts', 'aws4_request'].reduce<Buffer | string>(
    (k, part) => createHmac('sha256', k).update(part).digest(),
    `AWS4${principal.secretAccessKey}`,
  );
  const expected = createHmac('sha256', key).update(stringToSign).digest('hex');
  if (expected !== params.get('x-amz-signature')) {
    return fail('sts: SignatureDoesNotMatch: the signature (cluster name, key or time) does not match');
  }
  return { ok: true, principal };
}

function rfc3986(s: string): string {
  return encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

function sha256Hex(s: string): string {
  return createHash('sha256').update(s).digest('hex');
}

// ---------------------------------------------------------------------------------------------
// The EKS + STS endpoint

export interface FakeEksCluster {
  readonly name: string;
  readonly region: string;
  /** Defaults to the account of ENV_CREDENTIALS. */
  readonly account?: string;
  readonly endpoint: string;
  readonly caData: string;
  readonly status?: string;
  readonly tags?: Readonly<Record<string, string>>;
  readonly authenticationMode?: string;
}

export interface FakeRole {
  readonly arn: string;
  readonly externalId?: string;
  /** Principals (access key accounts) allowed to assume it; any when absent. */
  readonly trustedAccounts?: readonly string[];
}

export interface EksEndpointOptions {
  readonly clusters?: readonly FakeEksCluster[];
  readonly roles?: readonly FakeRole[];
  readonly credentials?: CredentialStore;
  /** (account, region) pairs where every EKS call is denied, e.g. "222222222222/eu-west-1". */
  readonly deny?: readonly string[];
  /** Clusters per ListClusters page (to exercise paging). */
  readonly pageSize?: number;
  readonly now?: () => Date;
}

export interface EksCall {
  readonly service: 'eks' | 'sts';
  readonly action: string;
  readonly accessKeyId: string;
  readonly region: string;
  readonly params: Readonly<Record<string, string>>;
}

export interface EksEndpoint {
  readonly url: string;
  readonly credentials: CredentialStore;
  readonly calls: EksCall[];
  readonly clusters: FakeEksCluster[];
  close(): Promise<void>;
}

export async function startEksEndpoint(options: EksEndpointOptions = {}): Promise<EksEndpoint> {
  const credentials = options.credentials ?? new CredentialStore();
  if (credentials.get(ENV_CREDENTIALS.accessKeyId) === undefined) credentials.add({ ...ENV_CREDENTIALS });
  const clusters = [...(options.clusters ?? [])];
  const calls: EksCall[] = [];
  const now = options.now ?? (() => new Date());
  const pageSize = options.pageSize ?? 100;

  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      try {
        handle(req, res, Buffer.concat(chunks).toString('utf8'));
      } catch (e) {
        res.writeHead(500, { 'content-type': 'application/json' }).end(JSON.stringify({ message: String(e) }));
      }
    });
  });

  function handle(req: IncomingMessage, res: ServerResponse, body: string): void {
    const auth = parseAuthorization(req.headers.authorization);
    const caller = auth ? credentials.get(auth.accessKeyId) : undefined;
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (req.method === 'POST' && url.pathname === '/') {
      const form = Object.fromEntries(new URLSearchParams(body));
      calls.push({
        service: 'sts',
        action: form.Action ?? '',
        accessKeyId: auth?.accessKeyId ?? '',
        region: auth?.region ?? '',
        params: form,
      });
      return sts(res, form, caller);
    }
    const json = (status: number, value: unknown, errorType?: string): void => {
      res
        .writeHead(status, {
          'content-type': 'application/json',
          'x-amzn-requestid': randomBytes(8).toString('hex'),
          ...(errorType
            ? { 'x-amzn-errortype': `${errorType}:http://internal.amazon.com/coral/com.amazonaws.eks/` }
            : {}),
        })
        .end(JSON.stringify(value));
    };
    const action = req.method === 'GET' && url.pathname === '/clusters' ? 'ListClusters' : 'DescribeCluster';
    const params: Record<string, string> = Object.fromEntries(url.searchParams);
    const describeName = decodeURIComponent(/^\/clusters\/([^/]+)$/.exec(url.pathname)?.[1] ?? '');
    if (action === 'DescribeCluster') params.name = describeName;
    calls.push({ service: 'eks', action, accessKeyId: auth?.accessKeyId ?? '', region: auth?.region ?? '', params });
    if (!auth || !caller) {
      return json(
        403,
        { message: 'The security token included in the request is invalid.' },
        'UnrecognizedClientException',
      );
    }
    if (caller.sessionToken !== undefined && req.headers['x-amz-security-token'] !== caller.sessionToken) {
      return json(
        403,
        { message: 'The security token included in the request is invalid.' },
        'UnrecognizedClientException',
      );
    }
    if (options.deny?.includes(`${caller.account}/${auth.region}`)) {
      return json(
        403,
        {
          message: `User: ${caller.arn} is not authorized to perform: eks:${action} on resource: arn:aws:eks:${auth.region}:${caller.account}:cluster/*`,
        },
        'AccessDeniedException',
      );
    }
    const visible = clusters.filter(
      (c) => c.region === auth.region && (c.account ?? ENV_CREDENTIALS.account) === caller.account,
    );
    if (action === 'ListClusters') {
      const names = visible.map((c) => c.name).sort();
      const start = Number(url.searchParams.get('nextToken') ?? '0');
      const size = Math.min(pageSize, Number(url.searchParams.get('maxResults') ?? pageSize));
      const page = names.slice(start, start + size);
      const next = start + size < names.length ? String(start + size) : undefined;
      return json(200, { clusters: page, ...(next ? { nextToken: next } : {}) });
    }
    if (req.method !== 'GET' || describeName === '')
      return json(404, { message: 'not found' }, 'ResourceNotFoundException');
    const c = visible.find((x) => x.name === describeName);
    if (c === undefined)
      return json(404, { message: `No cluster found for name: ${describeName}.` }, 'ResourceNotFoundException');
    const account = c.account ?? ENV_CREDENTIALS.account;
    return json(200, {
      cluster: {
        name: c.name,
        arn: `arn:aws:eks:${c.region}:${account}:cluster/${c.name}`,
        createdAt: 1.7e9,
        version: '1.31',
        endpoint: c.endpoint,
        status: c.status ?? 'ACTIVE',
        certificateAuthority: { data: c.caData },
        tags: c.tags ?? {},
        accessConfig: { authenticationMode: c.authenticationMode ?? 'API' },
      },
    });
  }

  function sts(res: ServerResponse, form: Record<string, string>, caller: StoredCredentials | undefined): void {
    const xmlError = (status: number, code: string, message: string): void => {
      res
        .writeHead(status, { 'content-type': 'text/xml' })
        .end(
          `<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>Sender</Type><Code>${code}</Code><Message>${escapeXml(message)}</Message></Error><RequestId>${randomBytes(8).toString('hex')}</RequestId></ErrorResponse>`,
        );
    };
    if (form.Action !== 'AssumeRole') return xmlError(400, 'InvalidAction', `unsupported action ${form.Action ?? ''}`);
    if (!caller) return xmlError(403, 'InvalidClientTokenId', 'The security token included in the request is invalid.');
    const role = options.roles?.find((r) => r.arn === form.RoleArn);
    const denied = (): void =>
      xmlError(
        403,
        'AccessDenied',
        `User: ${caller.arn} is not authorized to perform: sts:AssumeRole on resource: ${form.RoleArn ?? ''}`,
      );
    if (role === undefined) return denied();
    if (role.trustedAccounts && !role.trustedAccounts.includes(caller.account)) return denied();
    if (role.externalId !== undefined && form.ExternalId !== role.externalId) return denied();
    if (!/^[\w+=,.@-]{2,64}$/.test(form.RoleSessionName ?? '')) {
      return xmlError(400, 'ValidationError', 'RoleSessionName is invalid');
    }
    const account = /^arn:aws:iam::(\d{12}):role\//.exec(role.arn)?.[1] ?? '000000000000';
    const issued = credentials.add({
      accessKeyId: `ASIA${randomBytes(8).toString('hex').toUpperCase()}`,
      secretAccessKey: randomBytes(30).toString('base64'),
      sessionToken: randomBytes(60).toString('base64'),
      account,
      arn: `arn:aws:sts::${account}:assumed-role/${role.arn.split('/').pop() ?? 'role'}/${form.RoleSessionName ?? ''}`,
    });
    const expiration = new Date(now().getTime() + 3_600_000).toISOString();
    res
      .writeHead(200, { 'content-type': 'text/xml' })
      .end(
        `<AssumeRoleResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><AssumeRoleResult>` +
          `<AssumedRoleUser><AssumedRoleId>AROA:${escapeXml(form.RoleSessionName ?? '')}</AssumedRoleId><Arn>${escapeXml(issued.arn)}</Arn></AssumedRoleUser>` +
          `<Credentials><AccessKeyId>${issued.accessKeyId}</AccessKeyId><SecretAccessKey>${escapeXml(issued.secretAccessKey)}</SecretAccessKey>` +
          `<SessionToken>${escapeXml(issued.sessionToken ?? '')}</SessionToken><Expiration>${expiration}</Expiration></Credentials>` +
          `</AssumeRoleResult><ResponseMetadata><RequestId>${randomBytes(8).toString('hex')}</RequestId></ResponseMetadata></AssumeRoleResponse>`,
      );
  }

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    credentials,
    calls,
    clusters,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function parseAuthorization(header: string | undefined): { accessKeyId: string; region: string } | undefined {
  const m = /Credential=([^/]+)\/\d{8}\/([^/]+)\/[^/]+\/aws4_request/.exec(header ?? '');
  return m ? { accessKeyId: m[1]!, region: m[2]! } : undefined;
}

function escapeXml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}
