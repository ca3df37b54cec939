/**
 * One cluster's API, as labelguard uses it: a few list and discovery GETs over HTTPS (HTTP/2 when
 * the server offers it: `transport.ts`), each with
 *   - a per-request timeout, from sending the request to the end of the body,
 *   - bounded retries with jittered backoff on 429/5xx/resets/timeouts, honouring Retry-After,
 *   - one re-authentication on 401 (an expired token is re-signed and the request tried again),
 *   - at most `maxInFlight` requests in flight, over one connection (or keep-alive pool) per cluster,
 *   - TLS verification always on: plain http is refused, and nothing can turn verification off.
 * Bodies are parsed as plain JSON and only the fields the reader needs are kept: no typed model
 * object is built per item. Errors come out as `KubeRequestError`s whose messages never carry a
 * credential.
 */
import { Agent } from 'node:https';
import { createSecureContext, type SecureContext } from 'node:tls';
import type { KubeCredentials, KubeEndpoint } from './endpoint.js';
import { KubeRequestError, classifyKubeError } from './errors.js';
import { listHeadReader } from './list-head.js';
import { PROTOBUF_CONTENT_TYPE, decodeNamespaceList, decodeStatus, isProtobuf } from './protobuf.js';
import { parseJsonBody } from './parse-pool.js';
import { clusterConnection, http1Connection, type Connection, type RawResponse } from './transport.js';
import { DEFAULT_RETRY_POLICY, backoffDelay, createSemaphore, sleep, type RetryPolicy } from './retry.js';

export interface KubeClientOptions {
  /** Per-request timeout, from sending the request to the end of the body. Default 15 s. */
  readonly timeoutMs?: number;
  /** Requests in flight to this cluster at once. Default 4. */
  readonly maxInFlight?: number;
  readonly retry?: Partial<RetryPolicy>;
  /** For tests: the jitter source (default Math.random). */
  readonly random?: () => number;
  /** Called once on a 401 before the request is tried again (e.g. drop a cached token). */
  readonly onUnauthorized?: () => void | Promise<void>;
}

export interface PageRequest {
  readonly limit: number;
  readonly continueToken?: string;
  /**
   * Called with the next page's continue token as soon as the head of this page's body shows it,
   * before the rest has arrived (at most once per attempt; not at all when the head does not show
   * one early). The page's own `continueToken` remains the authority.
   */
  readonly onContinueToken?: (token: string) => void;
}

export interface Page<T> {
  readonly items: readonly T[];
  /** The next page's token; undefined on the last page. */
  readonly continueToken: string | undefined;
}

export interface GroupVersionResource {
  readonly group: string;
  readonly version: string;
  readonly plural: string;
}

export interface ApiGroupInfo {
  readonly name: string;
  /** Versions served, the preferred one first. */
  readonly versions: readonly string[];
  /**
   * The resources of each version, when discovery gave them along with the groups (aggregated
   * discovery) and they are current. A version missing here is asked for on its own.
   */
  readonly resources?: ReadonlyMap<string, readonly ApiResourceInfo[]>;
}

export interface ApiResourceInfo {
  readonly name: string;
  readonly kind: string;
  readonly namespaced: boolean;
  readonly verbs: readonly string[];
}

export interface NamespaceItem {
  readonly name: string;
  readonly labels: Readonly<Record<string, unknown>> | undefined;
}

export interface KubeClientStats {
  requests: number;
  retries: number;
}

export interface KubeClient {
  /** The API server URL (no credentials). */
  readonly server: string;
  readonly stats: KubeClientStats;
  /** Aborted when the read of this cluster is given up (see `abort`). */
  readonly signal: AbortSignal;
  listNamespaces(page: PageRequest): Promise<Page<NamespaceItem>>;
  listResource(gvr: GroupVersionResource, page: PageRequest): Promise<Page<unknown>>;
  apiGroups(): Promise<ApiGroupInfo[]>;
  apiResources(group: string, version: string): Promise<ApiResourceInfo[]>;
  /** Gives up on every request in flight or waiting (the cluster as a whole failed). */
  abort(reason: KubeRequestError): void;
  /** Closes the connection pool. */
  close(): void;
}

export const DEFAULT_TIMEOUT_MS = 15_000;
export const DEFAULT_MAX_IN_FLIGHT = 4;

/** A client for `endpoint`. Throws KubeRequestError('config') when it cannot be set up safely. */
export function createKubeClient(endpoint: KubeEndpoint, options: KubeClientOptions = {}): KubeClient {
  if (!/^https:\/\//i.test(endpoint.server)) {
    throw new KubeRequestError('config', `the API server must be https:// (found "${safeUrl(endpoint.server)}")`);
  }
  let base: URL;
  try {
    base = new URL(endpoint.server.replace(/\/+$/, ''));
  } catch (e) {
    throw new KubeRequestError('config', 'the API server URL is not valid', { cause: e });
  }

  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const maxInFlight = options.maxInFlight ?? DEFAULT_MAX_IN_FLIGHT;
  const policy: RetryPolicy = { ...DEFAULT_RETRY_POLICY, ...options.retry };
  const random = options.random ?? Math.random;
  const controller = new AbortController();
  const semaphore = createSemaphore(maxInFlight);
  const stats: KubeClientStats = { requests: 0, retries: 0 };

  // One connection per cluster (HTTP/2 when the server offers it, else a keep-alive HTTP/1.1 pool)
  // and one TLS context (the CA parsed once). Credentials that bring their own client certificate
  // (an exec plugin's) or their own agent (a proxy) get an HTTP/1.1 connection of their own.
  const contextFor = (cert: Buffer | undefined, key: Buffer | undefined): SecureContext =>
    createSecureContext({
      ...(endpoint.ca ? { ca: endpoint.ca } : {}),
      ...(cert ? { cert } : {}),
      ...(key ? { key } : {}),
    });
  const poolFor = (secureContext: SecureContext): Agent =>
    new Agent({
      keepAlive: true,
      maxSockets: maxInFlight,
      rejectUnauthorized: true,
      secureContext,
      ...(endpoint.tlsServerName ? { servername: endpoint.tlsServerName } : {}),
    });
  const mainContext = contextFor(endpoint.cert, endpoint.key);
  const main = clusterConnection({
    base,
    secureContext: mainContext,
    ...(endpoint.tlsServerName ? { servername: endpoint.tlsServerName } : {}),
    http1Agent: () => poolFor(mainContext),
  });
  const others = new Map<unknown, Connection>();
  const connectionFor = (creds: KubeCredentials): Connection => {
    if (creds.agent !== undefined) {
      let c = others.get(creds.agent);
      if (c === undefined) others.set(creds.agent, (c = http1Connection(base, creds.agent)));
      return c;
    }
    if (creds.cert === undefined || sameBytes(creds.cert, endpoint.cert)) return main;
    const id = creds.cert.toString('base64');
    let c = others.get(id);
    if (c === undefined) others.set(id, (c = http1Connection(base, poolFor(contextFor(creds.cert, creds.key)))));
    return c;
  };

  async function credentials(): Promise<KubeCredentials> {
    // Credentials (an exec plugin, an EKS token, a token file) that cannot be had end the cluster's
    // read at once, with a reason, instead of being retried like a network error.
    return withDeadline(endpoint.credentials(), timeoutMs).catch((e: unknown) => {
      if (e instanceof KubeRequestError) throw e;
      const why = e instanceof Error ? (e.message.split('\n', 1)[0] ?? '') : String(e);
      throw new KubeRequestError('config', `cannot get credentials for this cluster: ${why}`, { cause: e });
    });
  }

  /**
   * One GET of `path` (with its query): the 2xx response, of a content type in `accept`. A non-2xx
   * answer throws with its Status (decoded from protobuf when the server sent that).
   */
  async function get(path: string, accept: string, onChunk?: (chunk: Buffer) => void): Promise<RawResponse> {
    const creds = await credentials();
    const timeout = new AbortController();
    const timer = setTimeout(() => timeout.abort(), timeoutMs);
    const onCancel = (): void => timeout.abort();
    controller.signal.addEventListener('abort', onCancel, { once: true });
    let res;
    try {
      res = await connectionFor(creds).get(
        path,
        { Accept: accept, 'User-Agent': 'labelguard', ...creds.headers },
        timeout.signal,
        onChunk,
      );
    } finally {
      clearTimeout(timer);
      controller.signal.removeEventListener('abort', onCancel);
    }
    if (res.status < 200 || res.status > 299) throw new KubeHttpError(res.status, errorText(res), res.headers);
    const type = res.headers['content-type'] ?? '';
    if (!/json/i.test(type) && !(accept.includes(PROTOBUF_CONTENT_TYPE) && type.startsWith(PROTOBUF_CONTENT_TYPE))) {
      // A proxy's sign-in or error page answered instead of the API server.
      const shown = type.split(';', 1)[0]?.trim() || 'no content type';
      throw new KubeRequestError('invalid-response', `the response is not JSON (${shown})`);
    }
    return res;
  }

  /** One GET of `path`, parsed as JSON. */
  async function getJson(path: string, accept = 'application/json'): Promise<unknown> {
    return parseJsonBody((await get(path, accept)).body, 'none');
  }

  async function call<T>(request: () => Promise<T>): Promise<T> {
    let reauthenticated = false;
    for (let attempt = 1; ; attempt++) {
      if (controller.signal.aborted) throw cancelled(controller.signal);
      let error: KubeRequestError;
      try {
        stats.requests++;
        return await semaphore.run(request);
      } catch (e) {
        error = classifyKubeError(e, { cancelled: controller.signal.aborted, timeoutMs });
      }
      if (error.kind === 'cancelled') throw cancelled(controller.signal);
      if (error.kind === 'unauthorized' && !reauthenticated && options.onUnauthorized) {
        reauthenticated = true;
        await options.onUnauthorized();
        attempt--;
        continue;
      }
      if (!error.retryable || attempt >= policy.attempts) throw attempt > 1 ? afterAttempts(error, attempt) : error;
      stats.retries++;
      try {
        await sleep(backoffDelay(attempt, policy, random, error.retryAfterMs), controller.signal);
      } catch {
        throw cancelled(controller.signal);
      }
    }
  }

  /**
   * One page of the list at `path`, decoded by `decode` inside the retried call (a body cut short
   * is asked for again), its head watched for the next continue token when the page asks for it.
   */
  async function list<T>(
    path: string,
    page: PageRequest,
    accept: string,
    decode: (res: RawResponse) => Promise<Page<T>> | Page<T>,
  ): Promise<Page<T>> {
    const onChunk = page.onContinueToken && listHeadReader(page.onContinueToken);
    return call(async () => decode(await get(path + pageQuery(page), accept, onChunk)));
  }

  return {
    server: safeUrl(endpoint.server),
    stats,
    signal: controller.signal,
    async listNamespaces(page) {
      // Protobuf, as kubectl asks for built-in types: a namespace's managedFields, annotations,
      // spec and status are then skipped by their length instead of parsed. JSON otherwise.
      return list('/api/v1/namespaces', page, NAMESPACES_ACCEPT, async (res) => {
        if ((res.headers['content-type'] ?? '').startsWith(PROTOBUF_CONTENT_TYPE)) {
          const list = decodeNamespaceList(res.body);
          return { items: list.items, continueToken: list.continueToken || undefined };
        }
        const { items, continueToken } = listOf(await parseJsonBody(res.body, 'namespaces'), 'NamespaceList');
        return {
          items: (items as ({ metadata?: { name?: unknown; labels?: unknown } } | null)[]).map((ns) => ({
            name: typeof ns?.metadata?.name === 'string' ? ns.metadata.name : '',
            labels:
              typeof ns?.metadata?.labels === 'object' && ns.metadata.labels !== null
                ? (ns.metadata.labels as Record<string, unknown>)
                : undefined,
          })),
          continueToken,
        };
      });
    },
    async listResource(gvr, page) {
      return list(
        `${groupPath(gvr.group, gvr.version)}/${encodeURIComponent(gvr.plural)}`,
        page,
        'application/json',
        async (res) => listOf(await parseJsonBody(res.body, 'objects'), `${gvr.plural} list`),
      );
    },
    async apiGroups() {
      // Aggregated discovery (every group with its resources, in one answer) when the server has
      // it, as kubectl asks; a server without it answers the plain APIGroupList.
      const list = (await call(() => getJson('/apis', AGGREGATED_DISCOVERY))) as {
        kind?: unknown;
        groups?: unknown;
        items?: unknown;
      } | null;
      if (
        typeof list === 'object' &&
        list !== null &&
        list.kind === 'APIGroupDiscoveryList' &&
        Array.isArray(list.items)
      )
        return aggregatedGroups(list.items as AggregatedGroupJson[]);
      if (typeof list !== 'object' || list === null || !Array.isArray(list.groups)) throw invalidList('APIGroupList');
      return (list.groups as ApiGroupJson[]).flatMap((g) => {
        if (typeof g?.name !== 'string') return [];
        const preferred = typeof g.preferredVersion?.version === 'string' ? g.preferredVersion.version : undefined;
        const listed: readonly ({ readonly version?: unknown } | null)[] = Array.isArray(g.versions) ? g.versions : [];
        const versions = listed.map((v) => v?.version).filter((v): v is string => typeof v === 'string');
        return [
          {
            name: g.name,
            versions: preferred ? [preferred, ...versions.filter((v) => v !== preferred)] : versions,
          },
        ];
      });
    },
    async apiResources(group, version) {
      const list = (await call(() => getJson(groupPath(group, version)))) as { resources?: unknown } | null;
      if (typeof list !== 'object' || list === null || !Array.isArray(list.resources))
        throw invalidList('APIResourceList');
      return (list.resources as ApiResourceJson[]).flatMap((r) =>
        typeof r?.name === 'string' && typeof r.kind === 'string'
          ? [
              {
                name: r.name,
                kind: r.kind,
                namespaced: r.namespaced === true,
                verbs: Array.isArray(r.verbs) ? r.verbs.filter((v): v is string => typeof v === 'string') : [],
              },
            ]
          : [],
      );
    },
    abort(reason) {
      if (!controller.signal.aborted) controller.abort(reason);
    },
    close() {
      main.close();
      for (const c of others.values()) c.close();
      others.clear();
    },
  };
}

interface ApiGroupJson {
  readonly name?: unknown;
  readonly versions?: readonly ({ readonly version?: unknown } | null)[];
  readonly preferredVersion?: { readonly version?: unknown };
}

/** What `/apis` is asked for: aggregated discovery (v2, then v2beta1), else the plain group list. */
const AGGREGATED_DISCOVERY =
  'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,' +
  'application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList,application/json';

interface AggregatedResourceJson {
  readonly resource?: unknown;
  readonly responseKind?: { readonly kind?: unknown } | null;
  readonly scope?: unknown;
  readonly verbs?: readonly unknown[];
}

interface AggregatedVersionJson {
  readonly version?: unknown;
  readonly freshness?: unknown;
  readonly resources?: readonly (AggregatedResourceJson | null)[];
}

interface AggregatedGroupJson {
  readonly metadata?: { readonly name?: unknown } | null;
  readonly versions?: readonly (AggregatedVersionJson | null)[];
}

/**
 * Groups from an APIGroupDiscoveryList: versions in the server's order of preference, and the
 * resources of each version that is current (a stale one, an aggregated API server that is not
 * answering, is left to be asked for on its own, so its failure is seen and reported).
 */
function aggregatedGroups(items: readonly (AggregatedGroupJson | null)[]): ApiGroupInfo[] {
  return items.flatMap((g) => {
    const name = g?.metadata?.name;
    if (typeof name !== 'string') return [];
    const versions: string[] = [];
    const resources = new Map<string, ApiResourceInfo[]>();
    const listed: readonly (AggregatedVersionJson | null)[] = Array.isArray(g?.versions) ? (g?.versions ?? []) : [];
    for (const v of listed) {
      if (typeof v?.version !== 'string') continue;
      versions.push(v.version);
      if (v.freshness === 'Stale' || !Array.isArray(v.resources)) continue;
      const served: readonly (AggregatedResourceJson | null)[] = v.resources ?? [];
      resources.set(
        v.version,
        served.flatMap((r) =>
          typeof r?.resource === 'string'
            ? [
                {
                  name: r.resource,
                  kind: typeof r.responseKind?.kind === 'string' ? r.responseKind.kind : '',
                  namespaced: r.scope === 'Namespaced',
                  verbs: Array.isArray(r.verbs)
                    ? r.verbs.filter((x: unknown): x is string => typeof x === 'string')
                    : [],
                },
              ]
            : [],
        ),
      );
    }
    return [{ name, versions, resources }];
  });
}

interface ApiResourceJson {
  readonly name?: unknown;
  readonly kind?: unknown;
  readonly namespaced?: unknown;
  readonly verbs?: readonly unknown[];
}

/** `/api/v1` for the core group, `/apis/<group>/<version>` for the others. */
function groupPath(group: string, version: string): string {
  return group === ''
    ? `/api/${encodeURIComponent(version)}`
    : `/apis/${encodeURIComponent(group)}/${encodeURIComponent(version)}`;
}

/** A non-2xx answer: the status, the body as text (a Status object, usually) and the headers. */
class KubeHttpError extends Error {
  override readonly name = 'KubeHttpError';
  constructor(
    readonly code: number,
    readonly body: string,
    readonly headers: Readonly<Record<string, string>>,
  ) {
    super(`HTTP ${code}`);
  }
}

/** `?limit=N[&continue=T]` */
function pageQuery(page: PageRequest): string {
  return `?limit=${page.limit}${page.continueToken ? `&continue=${encodeURIComponent(page.continueToken)}` : ''}`;
}

/** A parsed list body's items and continue token; throws unless it is a list. */
function listOf(value: unknown, what: string): Page<unknown> {
  const body = value as { items?: unknown; metadata?: { continue?: unknown } } | null;
  if (typeof body !== 'object' || body === null || !Array.isArray(body.items)) throw invalidList(what);
  const token = body.metadata?.continue;
  return {
    items: body.items as unknown[],
    continueToken: typeof token === 'string' && token !== '' ? token : undefined,
  };
}

/** What a namespace list is asked for as: protobuf first, as kubectl asks for built-in types. */
const NAMESPACES_ACCEPT = `${PROTOBUF_CONTENT_TYPE}, application/json`;

/**
 * A non-2xx body as text for the error: a protobuf Status becomes the JSON Status it stands for
 * (message, reason, code, continue token), so errors read the same whichever the server sent.
 */
function errorText(res: RawResponse): string {
  if (!isProtobuf(res.body)) return res.body.toString('utf8');
  try {
    const status = decodeStatus(res.body);
    return JSON.stringify({
      kind: 'Status',
      ...(status.message === undefined ? {} : { message: status.message }),
      ...(status.reason === undefined ? {} : { reason: status.reason }),
      ...(status.code === undefined ? {} : { code: status.code }),
      metadata: status.continueToken === undefined ? {} : { continue: status.continueToken },
    });
  } catch {
    return '';
  }
}

function sameBytes(a: Buffer, b: Buffer | undefined): boolean {
  return b !== undefined && a.equals(b);
}

/** `promise`, or a KubeRequestError('config') when it has not settled within `ms`. */
async function withDeadline<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () =>
        reject(new KubeRequestError('config', `cannot get credentials for this cluster: no answer within ${ms} ms`)),
      ms,
    );
  });
  try {
    return await Promise.race([promise, deadline]);
  } finally {
    clearTimeout(timer);
  }
}

function cancelled(signal: AbortSignal): KubeRequestError {
  const reason: unknown = signal.reason;
  return reason instanceof KubeRequestError ? reason : new KubeRequestError('cancelled', 'cancelled');
}

function afterAttempts(error: KubeRequestError, attempts: number): KubeRequestError {
  return new KubeRequestError(error.kind, `${error.message} (after ${attempts} attempts)`, {
    ...(error.status === undefined ? {} : { status: error.status }),
    cause: error.cause,
  });
}

function invalidList(what: string): KubeRequestError {
  return new KubeRequestError('invalid-response', `the response is not a ${what}`);
}

/** The server URL without any user info or query (kubeconfigs rarely have them; logs must never show them). */
export function safeUrl(server: string): string {
  try {
    const u = new URL(server);
    return `${u.protocol}//${u.host}${u.pathname === '/' ? '' : u.pathname}`;
  } catch {
    return '(invalid URL)';
  }
}
