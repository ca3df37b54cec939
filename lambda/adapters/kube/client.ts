/**
 * One cluster's API, as labelguard uses it: a few list and discovery calls on the real
 * `@kubernetes/client-node` client, each with
 *   - a per-request timeout set by the client's own request middleware (an AbortSignal on the request),
 *   - bounded retries with jittered backoff on 429/5xx/resets/timeouts, honouring Retry-After,
 *   - one re-authentication on 401 (an expired token is re-signed and the request tried again),
 *   - at most `maxInFlight` requests in flight, over a keep-alive connection pool for the cluster,
 *   - TLS verification always on: a kubeconfig that asks to skip it, or plain http, is refused.
 * Errors come out as `KubeRequestError`s whose messages never carry a credential.
 */
import { readFileSync } from 'node:fs';
import { Agent } from 'node:https';
import { createSecureContext } from 'node:tls';
import {
  ApiException,
  ApisApi,
  CoreV1Api,
  HttpInfo,
  CustomObjectsApi,
  Observable,
  ServerConfiguration,
  createConfiguration,
  type KubeConfig,
  type ObservableMiddleware,
  type RequestContext,
  type ResponseContext,
} from '@kubernetes/client-node';
import { KubeRequestError, classifyKubeError } from './errors.js';
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

/** A client for the current context of `kubeConfig`. Throws KubeRequestError('config') when it cannot be set up safely. */
export function createKubeClient(kubeConfig: KubeConfig, options: KubeClientOptions = {}): KubeClient {
  const cluster = kubeConfig.getCurrentCluster();
  const user = kubeConfig.getCurrentUser();
  if (cluster === null) {
    throw new KubeRequestError('config', `context "${kubeConfig.getCurrentContext()}" names no cluster`);
  }
  if (cluster.skipTLSVerify) {
    throw new KubeRequestError(
      'config',
      'insecure-skip-tls-verify is set for this cluster; labelguard always verifies TLS: give certificate-authority-data instead',
    );
  }
  if (!/^https:\/\//i.test(cluster.server)) {
    throw new KubeRequestError('config', `the API server must be https:// (found "${safeUrl(cluster.server)}")`);
  }

  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const maxInFlight = options.maxInFlight ?? DEFAULT_MAX_IN_FLIGHT;
  const policy: RetryPolicy = { ...DEFAULT_RETRY_POLICY, ...options.retry };
  const random = options.random ?? Math.random;
  const controller = new AbortController();
  const semaphore = createSemaphore(maxInFlight);
  const stats: KubeClientStats = { requests: 0, retries: 0 };

  // One keep-alive pool and one TLS context per cluster: the client would otherwise open a new TLS
  // connection, and parse the CA again, for every request. A proxied cluster keeps the client's own
  // proxy agent.
  const userCert = readMaterial('client-certificate', user?.certFile, user?.certData);
  const ca = readMaterial('certificate-authority', cluster.caFile, cluster.caData);
  const key = readMaterial('client-key', user?.keyFile, user?.keyData);
  const agent =
    cluster.proxyUrl === undefined
      ? new Agent({
          keepAlive: true,
          maxSockets: maxInFlight,
          rejectUnauthorized: true,
          secureContext: createSecureContext({
            ...(ca ? { ca } : {}),
            ...(userCert ? { cert: userCert } : {}),
            ...(key ? { key } : {}),
          }),
          ...(cluster.tlsServerName ? { servername: cluster.tlsServerName } : {}),
        })
      : undefined;

  const auth = {
    getName: () => 'labelguard',
    async applySecurityAuthentication(context: RequestContext): Promise<void> {
      // Credentials (an exec plugin, an EKS token, a token file) that cannot be had end the cluster's
      // read at once, with a reason, instead of being retried like a network error.
      await withDeadline(kubeConfig.applySecurityAuthentication(context), timeoutMs).catch((e: unknown) => {
        if (e instanceof KubeRequestError) throw e;
        const why = e instanceof Error ? (e.message.split('\n', 1)[0] ?? '') : String(e);
        throw new KubeRequestError('config', `cannot get credentials for this cluster: ${why}`, { cause: e });
      });
      // An exec plugin may hand out a client certificate of its own: then keep the agent made for it.
      const made = context.getAgent() as Agent | undefined;
      const execCert = made?.options?.cert !== undefined && userCert === undefined;
      if (agent !== undefined && !execCert) context.setAgent(agent);
    },
  };

  const timeout: ObservableMiddleware = {
    pre(context: RequestContext) {
      context.setSignal(AbortSignal.any([AbortSignal.timeout(timeoutMs), controller.signal]));
      return new Observable(Promise.resolve(context));
    },
    post(response: ResponseContext) {
      return new Observable(Promise.resolve(response));
    },
  };

  const configuration = createConfiguration({
    baseServer: new ServerConfiguration(cluster.server.replace(/\/+$/, ''), {}),
    authMethods: { default: auth },
    middleware: [timeout],
  });
  // Namespaces come back as plain JSON: the generated processor would build a typed object per
  // item (V1Namespace, V1ObjectMeta, Dates...) only for us to read name and labels, which is most of
  // the CPU and garbage of a large cluster's read. The constructor takes a response processor;
  // this one answers the one call we make, with the generated processor's error behaviour.
  const core = new CoreV1Api(configuration, undefined, rawNamespaceListProcessor);
  const apis = new ApisApi(configuration);
  const custom = new CustomObjectsApi(configuration);

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

  return {
    server: safeUrl(cluster.server),
    stats,
    signal: controller.signal,
    async listNamespaces(page) {
      const list: unknown = await call(() =>
        core.listNamespace({ limit: page.limit, ...(page.continueToken ? { _continue: page.continueToken } : {}) }),
      );
      const body = list as { items?: unknown; metadata?: { continue?: unknown } } | null;
      if (typeof body !== 'object' || body === null || !Array.isArray(body.items)) throw invalidList('NamespaceList');
      const token = body.metadata?.continue;
      return {
        items: (body.items as { metadata?: { name?: unknown; labels?: unknown } }[]).map((ns) => ({
          name: typeof ns?.metadata?.name === 'string' ? ns.metadata.name : '',
          labels:
            typeof ns?.metadata?.labels === 'object' && ns.metadata.labels !== null
              ? (ns.metadata.labels as Record<string, unknown>)
              : undefined,
        })),
        continueToken: typeof token === 'string' && token !== '' ? token : undefined,
      };
    },
    async listResource(gvr, page) {
      const list: unknown = await call(() =>
        custom.listClusterCustomObject({
          group: gvr.group,
          version: gvr.version,
          plural: gvr.plural,
          limit: page.limit,
          ...(page.continueToken ? { _continue: page.continueToken } : {}),
        }),
      );
      const body = list as { items?: unknown; metadata?: { continue?: unknown } } | null;
      if (typeof body !== 'object' || body === null || !Array.isArray(body.items))
        throw invalidList(`${gvr.plural} list`);
      const token = body.metadata?.continue;
      return {
        items: body.items as unknown[],
        continueToken: typeof token === 'string' && token !== '' ? token : undefined,
      };
    },
    async apiGroups() {
      const list = await call(() => apis.getAPIVersions());
      if (!Array.isArray(list.groups)) throw invalidList('APIGroupList');
      return list.groups.map((g) => {
        const preferred = g.preferredVersion?.version;
        const versions = (g.versions ?? []).map((v) => v.version);
        return {
          name: g.name,
          versions: preferred ? [preferred, ...versions.filter((v) => v !== preferred)] : versions,
        };
      });
    },
    async apiResources(group, version) {
      const list = await call(() => custom.getAPIResources({ group, version }));
      if (!Array.isArray(list.resources)) throw invalidList('APIResourceList');
      return list.resources.map((r) => ({
        name: r.name,
        kind: r.kind,
        namespaced: r.namespaced,
        verbs: Array.isArray(r.verbs) ? r.verbs : [],
      }));
    },
    abort(reason) {
      if (!controller.signal.aborted) controller.abort(reason);
    },
    close() {
      agent?.destroy();
    },
  };
}

type CoreV1ResponseProcessor = NonNullable<ConstructorParameters<typeof CoreV1Api>[2]>;

/** `listNamespace` answered as parsed JSON (as CustomObjectsApi answers); errors as the generated code throws them. */
const rawNamespaceListProcessor = {
  async listNamespaceWithHttpInfo(response: ResponseContext): Promise<HttpInfo<unknown>> {
    if (response.httpStatusCode >= 200 && response.httpStatusCode <= 299) {
      const data = JSON.parse(await response.body.text()) as unknown;
      return new HttpInfo(response.httpStatusCode, response.headers, response.body, data);
    }
    if (response.httpStatusCode === 401) throw new ApiException(401, 'Unauthorized', undefined, response.headers);
    throw new ApiException(
      response.httpStatusCode,
      'Unknown API Status Code!',
      await response.getBodyAsAny(),
      response.headers,
    );
  },
} as unknown as CoreV1ResponseProcessor;

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

function readMaterial(what: string, file: string | undefined, data: string | undefined): Buffer | undefined {
  if (file) {
    try {
      return readFileSync(file);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code ?? 'unreadable';
      throw new KubeRequestError('config', `cannot read the ${what} file ${file} (${code})`, { cause: e });
    }
  }
  return data ? Buffer.from(data, 'base64') : undefined;
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
