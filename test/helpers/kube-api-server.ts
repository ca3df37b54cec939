/**
 * A local HTTPS Kubernetes API server for tests, serving fixture clusters to labelguard's HTTPS
 * client (the kubeconfig sources authenticate through the Kubernetes client library's KubeConfig):
 *   - discovery (`/api`, `/apis`, `/apis/<group>/<version>`) for the built-in groups and the add-ons
 *     installed (Cilium, Calico CRDs and API server, ANP, Istio, Kyverno, Gatekeeper), inferred from
 *     the objects served or named; a group that is not installed answers 404 `404 page not found`;
 *   - lists with real paging: `limit`, opaque continue tokens (base64 JSON, as the API server makes
 *     them), `410 Expired` with a Status object once tokens are compacted away; built-in list items
 *     carry no apiVersion/kind, custom resources do; objects carry managedFields like the real thing;
 *   - authentication: none, static bearer tokens, or EKS tokens checked as the EKS authenticator does;
 *   - faults: any status with a Status body (403 with RBAC's message, 429/503 with Retry-After, ...),
 *     hangs, delays, resets, bodies cut short, invalid JSON, HTML pages, matched by path and counted;
 *   - a fixed latency per request, and a record of every request (bearer tokens only as short ids).
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import { createSecureServer } from 'node:http2';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { createManifestSource, parseManifestText } from '../../lambda/adapters/manifests/read-manifests.js';
import { verifyEksToken, type CredentialStore } from './eks-endpoint.js';
import { encodeNamespaceList, encodeStatus } from './k8s-protobuf.js';
import { createTestCa, issueServerCert, type ServerCert, type TestCa } from './tls.js';

const PROTOBUF = 'application/vnd.kubernetes.protobuf';

// ---------------------------------------------------------------------------------------------
// API groups

interface ResourceDef {
  readonly plural: string;
  readonly kind: string;
  readonly namespaced: boolean;
}

interface GroupDef {
  readonly group: string;
  /** Preferred first. */
  readonly versions: readonly string[];
  readonly resources: readonly ResourceDef[];
}

export type Addon = 'cilium' | 'calico-crds' | 'calico-apiserver' | 'anp' | 'istio' | 'kyverno' | 'gatekeeper';

const calicoResources: ResourceDef[] = [
  { plural: 'networkpolicies', kind: 'NetworkPolicy', namespaced: true },
  { plural: 'globalnetworkpolicies', kind: 'GlobalNetworkPolicy', namespaced: false },
  { plural: 'stagednetworkpolicies', kind: 'StagedNetworkPolicy', namespaced: true },
  { plural: 'stagedglobalnetworkpolicies', kind: 'StagedGlobalNetworkPolicy', namespaced: false },
  { plural: 'tiers', kind: 'Tier', namespaced: false },
];

const BUILT_IN: readonly GroupDef[] = [
  {
    group: 'networking.k8s.io',
    versions: ['v1'],
    resources: [
      { plural: 'networkpolicies', kind: 'NetworkPolicy', namespaced: true },
      { plural: 'ingresses', kind: 'Ingress', namespaced: true },
    ],
  },
  { group: 'apps', versions: ['v1'], resources: [{ plural: 'deployments', kind: 'Deployment', namespaced: true }] },
  {
    group: 'rbac.authorization.k8s.io',
    versions: ['v1'],
    resources: [{ plural: 'clusterroles', kind: 'ClusterRole', namespaced: false }],
  },
];

const ADDONS: Readonly<Record<Exclude<Addon, 'gatekeeper'>, readonly GroupDef[]>> = {
  cilium: [
    {
      group: 'cilium.io',
      versions: ['v2', 'v2alpha1'],
      resources: [
        { plural: 'ciliumnetworkpolicies', kind: 'CiliumNetworkPolicy', namespaced: true },
        { plural: 'ciliumclusterwidenetworkpolicies', kind: 'CiliumClusterwideNetworkPolicy', namespaced: false },
        { plural: 'ciliumendpoints', kind: 'CiliumEndpoint', namespaced: true },
      ],
    },
  ],
  'calico-crds': [{ group: 'crd.projectcalico.org', versions: ['v1'], resources: calicoResources }],
  'calico-apiserver': [{ group: 'projectcalico.org', versions: ['v3'], resources: calicoResources }],
  anp: [
    {
      group: 'policy.networking.k8s.io',
      versions: ['v1alpha1'],
      resources: [
        { plural: 'adminnetworkpolicies', kind: 'AdminNetworkPolicy', namespaced: false },
        { plural: 'baselineadminnetworkpolicies', kind: 'BaselineAdminNetworkPolicy', namespaced: false },
      ],
    },
  ],
  istio: [
    {
      group: 'security.istio.io',
      versions: ['v1', 'v1beta1'],
      resources: [
        { plural: 'authorizationpolicies', kind: 'AuthorizationPolicy', namespaced: true },
        { plural: 'peerauthentications', kind: 'PeerAuthentication', namespaced: true },
      ],
    },
  ],
  kyverno: [
    {
      group: 'kyverno.io',
      versions: ['v1', 'v2beta1'],
      resources: [
        { plural: 'clusterpolicies', kind: 'ClusterPolicy', namespaced: false },
        { plural: 'policies', kind: 'Policy', namespaced: true },
      ],
    },
  ],
};

const ADDON_OF_GROUP: Readonly<Record<string, Addon>> = {
  'cilium.io': 'cilium',
  'crd.projectcalico.org': 'calico-crds',
  'projectcalico.org': 'calico-apiserver',
  'policy.networking.k8s.io': 'anp',
  'security.istio.io': 'istio',
  'kyverno.io': 'kyverno',
  'constraints.gatekeeper.sh': 'gatekeeper',
  'templates.gatekeeper.sh': 'gatekeeper',
};

function gatekeeperGroups(constraintKinds: readonly string[]): GroupDef[] {
  return [
    {
      group: 'templates.gatekeeper.sh',
      versions: ['v1', 'v1beta1'],
      resources: [{ plural: 'constrainttemplates', kind: 'ConstraintTemplate', namespaced: false }],
    },
    {
      group: 'constraints.gatekeeper.sh',
      versions: ['v1beta1', 'v1', 'v1alpha1'],
      resources: constraintKinds.map((kind) => ({ plural: kind.toLowerCase(), kind, namespaced: false })),
    },
  ];
}

// ---------------------------------------------------------------------------------------------
// Faults

export type Fault =
  /** Answer with this status and a Status object like the API server's. */
  | { readonly kind: 'status'; readonly code: number; readonly message?: string; readonly retryAfter?: string }
  /** Never answer (the client must give up on its own). */
  | { readonly kind: 'hang' }
  /** Wait, then answer normally. */
  | { readonly kind: 'delay'; readonly ms: number }
  /** Drop the connection without answering. */
  | { readonly kind: 'reset' }
  /** 200 with correct HTTP framing but a JSON body cut in half. */
  | { readonly kind: 'truncate-json' }
  /** 200 announcing the full Content-Length, half the body, then the connection drops. */
  | { readonly kind: 'cut-body' }
  /** 200 with an HTML page (a proxy's login or error page). */
  | { readonly kind: 'html' }
  /**
   * 200 with the head of the list (everything before its items) at once and the rest only when
   * the list's next page is asked for, or after `ms` (the record says which released it). The
   * last page is answered whole.
   */
  | { readonly kind: 'hold-body'; readonly ms: number };

export interface FaultRule {
  /** Matched against the path (no query): exact string, or a regular expression. */
  readonly path: string | RegExp;
  /** Only continued list requests (with a continue token). */
  readonly continued?: boolean;
  /** How many matching requests it applies to (default: all). */
  times?: number;
  readonly fault: Fault;
}

// ---------------------------------------------------------------------------------------------
// The server

export type KubeAuth =
  | { readonly kind: 'none' }
  | { readonly kind: 'bearer'; readonly tokens: readonly string[] }
  | { readonly kind: 'eks'; readonly credentials: CredentialStore; readonly now?: () => Date };

export interface KubeApiServerOptions {
  /** The cluster's name (the audience of EKS tokens). */
  readonly name: string;
  /** Namespaces and policies, as `kubectl get -o yaml` shows them (Lists are flattened). */
  readonly objects?: readonly unknown[];
  /** Add-ons installed even when no object of theirs is served. */
  readonly installed?: readonly Addon[];
  /** Gatekeeper constraint kinds served (beyond those of the objects). */
  readonly constraintKinds?: readonly string[];
  /** The serving certificate; issued for 127.0.0.1 and localhost by the shared test CA by default. */
  readonly tls?: ServerCert;
  readonly auth?: KubeAuth;
  readonly latencyMs?: number;
  /**
   * Answer `/apis` with aggregated discovery (APIGroupDiscoveryList, every group's resources in one
   * answer) when the client asks for it, as Kubernetes 1.30+ does. Default true. A group version
   * whose own discovery a 5xx fault matches is shown Stale, as the aggregator shows an aggregated
   * API server that is not answering.
   */
  readonly aggregatedDiscovery?: boolean;
  /**
   * Send namespace lists, and their errors, in Kubernetes protobuf to a client that asks for it, as
   * the API server does for built-in types. Default true.
   */
  readonly protobuf?: boolean;
  /** Offer HTTP/2 (ALPN), as the Kubernetes API server does; false: HTTP/1.1 only. Default true. */
  readonly http2?: boolean;
  readonly faults?: readonly FaultRule[];
  /** The user named in 403 messages. */
  readonly user?: string;
  readonly onRequest?: (request: RecordedRequest) => void;
}

export interface RecordedRequest {
  readonly path: string;
  readonly query: Readonly<Record<string, string>>;
  /** sha256 prefix of the bearer token, when one was sent. */
  readonly tokenId?: string;
  status?: number;
  /** Answered in Kubernetes protobuf (a namespace list asked for so). */
  protobuf?: boolean;
  /** For a held body (`hold-body`): what let the rest of it go (the next page asked for, or time). */
  releasedBy?: 'next-request' | 'timeout';
}

export interface KubeApiServer {
  readonly name: string;
  readonly url: string;
  readonly port: number;
  /** The CA that signed the serving certificate, base64 PEM (kubeconfig certificate-authority-data). */
  readonly caData: string;
  readonly requests: RecordedRequest[];
  readonly faults: FaultRule[];
  /** Every bearer token received (for leak tests). */
  readonly tokensSeen: Set<string>;
  /** TLS connections accepted, and the most requests ever in flight at once. */
  readonly stats: { connections: number; active: number; maxActive: number };
  /** Replaces the served objects (bumps the resourceVersion). */
  setObjects(objects: readonly unknown[]): void;
  /** Compacts history: every continue token issued so far now answers 410 Expired. */
  compact(): void;
  close(): Promise<void>;
}

let sharedCa: TestCa | undefined;
let sharedCert: ServerCert | undefined;

/** The CA that signs every test API server's certificate (unless a test brings its own). */
export function testCa(): TestCa {
  sharedCa ??= createTestCa('labelguard test cluster CA');
  return sharedCa;
}

function defaultCert(): ServerCert {
  sharedCert ??= issueServerCert(testCa());
  return sharedCert;
}

interface Stored {
  readonly key: string;
  readonly item: Record<string, unknown>;
}

export async function startKubeApiServer(options: KubeApiServerOptions): Promise<KubeApiServer> {
  const tls = options.tls ?? defaultCert();
  const auth = options.auth ?? { kind: 'none' };
  const user = options.user ?? 'labelguard';
  const faults: FaultRule[] = [...(options.faults ?? [])];
  const requests: RecordedRequest[] = [];
  const tokensSeen = new Set<string>();
  const timers = new Set<NodeJS.Timeout>();
  const onNextRequest = new Set<(next: RecordedRequest) => void>();
  /** Responses to be sent in protobuf (a namespace list asked for so). */
  const protobufAnswers = new WeakSet<ServerResponse>();
  /** A 200 answer's value, in the form negotiated for `res`. */
  const encoded = (res: ServerResponse, value: unknown): { type: string; body: Buffer } =>
    protobufAnswers.has(res)
      ? { type: PROTOBUF, body: encodeNamespaceList(value as { metadata?: unknown; items?: unknown }) }
      : { type: 'application/json', body: Buffer.from(JSON.stringify(value)) };
  const stats = { connections: 0, active: 0, maxActive: 0 };
  let resourceVersion = 1000;
  let compactedBefore = 0;
  let groups: GroupDef[] = [];
  let store = new Map<string, Stored[]>(); // "<group>/<plural>" -> items sorted by key

  const setObjects = (objects: readonly unknown[]): void => {
    resourceVersion += 10;
    const built = buildStore(objects, options.installed ?? [], options.constraintKinds ?? [], resourceVersion);
    groups = built.groups;
    store = built.store;
  };
  setObjects(options.objects ?? []);

  const handler = (req: IncomingMessage, res: ServerResponse): void => {
    const url = new URL(req.url ?? '/', 'https://localhost');
    const authorization = req.headers.authorization;
    const bearer = authorization?.startsWith('Bearer ') ? authorization.slice(7) : undefined;
    if (bearer !== undefined) tokensSeen.add(bearer);
    const record: RecordedRequest = {
      path: url.pathname,
      query: Object.fromEntries(url.searchParams),
      ...(bearer === undefined ? {} : { tokenId: createHash('sha256').update(bearer).digest('hex').slice(0, 12) }),
    };
    requests.push(record);
    for (const release of [...onNextRequest]) release(record);
    stats.active++;
    stats.maxActive = Math.max(stats.maxActive, stats.active);
    let done = false;
    const finish = (): void => {
      if (!done) stats.active--;
      done = true;
    };
    res.on('finish', finish);
    res.on('close', finish);
    options.onRequest?.(record);
    const respond = (): void => {
      try {
        handle(req, res, url, bearer, record);
      } catch (e) {
        sendStatus(res, record, 500, `internal error in the test server: ${String(e)}`);
      }
    };
    const latency = options.latencyMs ?? 0;
    if (latency > 0) later(latency, respond);
    else respond();
  };
  // HTTP/2's compatibility request and response stand in for HTTP/1.1's here: the handler uses only
  // what both have.
  const server: Server =
    options.http2 === false
      ? createServer({ key: tls.key, cert: tls.cert }, handler)
      : (createSecureServer(
          { key: tls.key, cert: tls.cert, allowHTTP1: true },
          handler as unknown as Parameters<typeof createSecureServer>[1],
        ) as unknown as Server);
  server.on('connection', (socket: Socket) => socket.setNoDelay(true));
  const sockets = new Set<Socket>();
  server.on('secureConnection', (socket: Socket) => {
    stats.connections++;
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });

  const later = (ms: number, fn: () => void): void => {
    const t = setTimeout(() => {
      timers.delete(t);
      fn();
    }, ms);
    timers.add(t);
  };

  function handle(
    req: IncomingMessage,
    res: ServerResponse,
    url: URL,
    bearer: string | undefined,
    record: RecordedRequest,
  ): void {
    if (req.method !== 'GET')
      return sendStatus(res, record, 405, `the server does not allow this method on the requested resource`);
    // Authentication comes first: discovery is open to authenticated users, not to anyone.
    const authFailure = authenticate(bearer);
    if (authFailure !== undefined) return sendStatus(res, record, 401, 'Unauthorized');

    const continued = url.searchParams.has('continue');
    // Aggregated discovery when asked for (Kubernetes 1.30+), unless this server plays an older one.
    const aggregated =
      url.pathname === '/apis' &&
      options.aggregatedDiscovery !== false &&
      /as=APIGroupDiscoveryList/.test(req.headers.accept ?? '');
    // Namespace lists (and their errors) in protobuf when asked for, as the API server sends
    // built-in types, unless this server plays one that does not.
    if (
      options.protobuf !== false &&
      url.pathname === '/api/v1/namespaces' &&
      (req.headers.accept ?? '').includes(PROTOBUF)
    ) {
      protobufAnswers.add(res);
      record.protobuf = true;
    }
    const rule = faults.find(
      (f) =>
        (f.times ?? 1) > 0 && matches(f.path, url.pathname) && (f.continued === undefined || f.continued === continued),
    );
    if (rule !== undefined) {
      if (rule.times !== undefined) rule.times--;
      const f = rule.fault;
      switch (f.kind) {
        case 'status':
          return sendStatus(res, record, f.code, f.message ?? defaultMessage(f.code, url.pathname, user), f.retryAfter);
        case 'hang':
          return;
        case 'delay':
          return later(f.ms, () => route(res, url, record, aggregated));
        case 'reset':
          record.status = 0;
          req.socket.destroy();
          return;
        case 'truncate-json': {
          const { type, body } = encoded(res, routeBody(url, aggregated).value);
          record.status = 200;
          res.writeHead(200, { 'content-type': type }).end(body.subarray(0, Math.floor(body.length / 2)));
          return;
        }
        case 'cut-body': {
          const { type, body } = encoded(res, routeBody(url, aggregated).value);
          record.status = 200;
          res.writeHead(200, { 'content-type': type, 'content-length': body.length });
          res.write(body.subarray(0, Math.floor(body.length / 2)), () => res.socket?.destroy());
          return;
        }
        case 'html':
          record.status = 200;
          res.writeHead(200, { 'content-type': 'text/html' }).end('<html><body><h1>Sign in</h1></body></html>');
          return;
        case 'hold-body': {
          const value = routeBody(url, aggregated).value as { metadata?: { continue?: string } } | undefined;
          // The last page has no next page to wait for.
          const token = value?.metadata?.continue;
          if (token === undefined) break;
          const { type, body: text } = encoded(res, value);
          // The head: everything up to the items (in protobuf, a little past the list's metadata).
          const cut = protobufAnswers.has(res)
            ? text.indexOf(token) + token.length + 16
            : Math.max(0, text.indexOf('"items"'));
          record.status = 200;
          res.writeHead(200, { 'content-type': type });
          res.write(text.subarray(0, cut));
          const release = (by: 'next-request' | 'timeout'): void => {
            if (record.releasedBy !== undefined) return;
            record.releasedBy = by;
            onNextRequest.delete(byRequest);
            clearTimeout(timer);
            timers.delete(timer);
            res.end(text.subarray(cut));
          };
          const byRequest = (next: RecordedRequest): void => {
            if (next.path === url.pathname && next.query.continue !== undefined) release('next-request');
          };
          const timer = setTimeout(() => release('timeout'), f.ms);
          timers.add(timer);
          onNextRequest.add(byRequest);
          return;
        }
      }
    }
    route(res, url, record, aggregated);
  }

  function authenticate(bearer: string | undefined): string | undefined {
    if (auth.kind === 'none') return undefined;
    if (bearer === undefined) return 'no credentials';
    if (auth.kind === 'bearer') return auth.tokens.includes(bearer) ? undefined : 'unknown token';
    const result = verifyEksToken(bearer, {
      clusterName: options.name,
      credentials: auth.credentials,
      now: auth.now?.() ?? new Date(),
    });
    return result.ok ? undefined : result.reason;
  }

  // Serialized answers, by URL and resourceVersion: a benchmark measures the client, not this server.
  const answers = new Map<string, Buffer>();
  function route(res: ServerResponse, url: URL, record: RecordedRequest, aggregated: boolean): void {
    const protobuf = protobufAnswers.has(res);
    const type = aggregated
      ? 'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList'
      : protobuf
        ? PROTOBUF
        : 'application/json';
    // Aggregated discovery reflects the faults of the moment: never cached.
    const cacheKey = aggregated
      ? undefined
      : `${resourceVersion}:${compactedBefore}:${protobuf}:${url.pathname}${url.search}`;
    const cached = cacheKey === undefined ? undefined : answers.get(cacheKey);
    if (cached !== undefined) {
      record.status = 200;
      res.writeHead(200, { 'content-type': type }).end(cached);
      return;
    }
    const r = routeBody(url, aggregated);
    if (r.status === 200) {
      record.status = 200;
      const bytes = encoded(res, r.value).body;
      if (cacheKey !== undefined && answers.size < 10_000) answers.set(cacheKey, bytes);
      res.writeHead(200, { 'content-type': type }).end(bytes);
    } else if (r.status === 404) {
      record.status = 404;
      res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end('404 page not found\n');
    } else {
      sendStatus(res, record, r.status, r.message ?? '', undefined, r.continueToken);
    }
  }

  /** The answer to a GET, as data (so faults can cut it short). */
  function routeBody(
    url: URL,
    aggregated = false,
  ): { status: number; value?: unknown; message?: string; continueToken?: string } {
    const parts = url.pathname.split('/').filter((p) => p !== '');
    if (url.pathname === '/api') return ok({ kind: 'APIVersions', versions: ['v1'], serverAddressByClientCIDRs: [] });
    if (url.pathname === '/apis' && aggregated) return ok(aggregatedDiscovery());
    if (url.pathname === '/apis') {
      return ok({
        kind: 'APIGroupList',
        apiVersion: 'v1',
        groups: groups.map((g) => ({
          name: g.group,
          versions: g.versions.map((v) => ({ groupVersion: `${g.group}/${v}`, version: v })),
          preferredVersion: { groupVersion: `${g.group}/${g.versions[0]}`, version: g.versions[0] },
        })),
      });
    }
    if (parts[0] === 'api' && parts[1] === 'v1' && parts[2] === 'namespaces' && parts.length === 3) {
      return list('', 'v1', { plural: 'namespaces', kind: 'Namespace', namespaced: false }, url);
    }
    if (parts[0] !== 'apis' || parts.length < 3) return { status: 404 };
    const g = groups.find((x) => x.group === parts[1] && x.versions.includes(parts[2] ?? ''));
    if (g === undefined) return { status: 404 };
    const version = parts[2] ?? '';
    if (parts.length === 3) {
      return ok({
        kind: 'APIResourceList',
        apiVersion: 'v1',
        groupVersion: `${g.group}/${version}`,
        resources: g.resources.flatMap((r) => [
          {
            name: r.plural,
            singularName: r.kind.toLowerCase(),
            namespaced: r.namespaced,
            kind: r.kind,
            verbs: ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'],
          },
          {
            name: `${r.plural}/status`,
            singularName: '',
            namespaced: r.namespaced,
            kind: r.kind,
            verbs: ['get', 'patch', 'update'],
          },
        ]),
      });
    }
    const r = g.resources.find((x) => x.plural === parts[3]);
    if (parts.length === 4 && r !== undefined) return list(g.group, version, r, url);
    return { status: 404 };
  }

  function list(group: string, version: string, r: ResourceDef, url: URL): ReturnType<typeof routeBody> {
    const all = store.get(`${group}/${r.plural}`) ?? [];
    const limit = Number(url.searchParams.get('limit') ?? '0');
    const token = url.searchParams.get('continue');
    let start = 0;
    let listRv = resourceVersion;
    if (token !== null) {
      let decoded: { v?: string; rv?: number; start?: string };
      try {
        decoded = JSON.parse(Buffer.from(token, 'base64').toString('utf8')) as typeof decoded;
      } catch {
        return { status: 400, message: 'continue key is not valid: illegal base64 data' };
      }
      if (decoded.v !== 'meta.k8s.io/v1' || typeof decoded.rv !== 'number' || typeof decoded.start !== 'string') {
        return {
          status: 400,
          message: 'continue key is not valid: incorrect encoded start resourceVersion (version meta.k8s.io/v1)',
        };
      }
      if (decoded.rv < compactedBefore) {
        return {
          status: 410,
          message:
            'The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter, or use the continue token in this response to retrieve the remainder of the results. Continuing with the provided token results in an inconsistent list - objects that were created, modified, or deleted between the time the first chunk was returned and now may show up in the list.',
          continueToken: encodeContinue(resourceVersion, decoded.start),
        };
      }
      listRv = decoded.rv;
      const after = decoded.start;
      start = all.findIndex((s) => s.key >= after);
      if (start === -1) start = all.length;
    }
    const end = limit > 0 ? Math.min(all.length, start + limit) : all.length;
    const page = all.slice(start, end);
    const last = page[page.length - 1];
    const more = end < all.length && last !== undefined;
    const builtIn = group === '' || group === 'networking.k8s.io';
    return ok({
      kind: `${r.kind}List`,
      apiVersion: group === '' ? version : `${group}/${version}`,
      metadata: {
        resourceVersion: String(listRv),
        ...(more
          ? { continue: encodeContinue(listRv, `${last.key}\u0000`), remainingItemCount: all.length - end }
          : {}),
      },
      items: page.map((s) => {
        if (!builtIn) return s.item;
        const { apiVersion: _a, kind: _k, ...rest } = s.item;
        return rest;
      }),
    });
  }

  /** `/apis` as aggregated discovery (apidiscovery.k8s.io/v2). */
  function aggregatedDiscovery(): unknown {
    const unavailable = (path: string): boolean =>
      faults.some(
        (f) => (f.times ?? 1) > 0 && f.fault.kind === 'status' && f.fault.code >= 500 && matches(f.path, path),
      );
    return {
      kind: 'APIGroupDiscoveryList',
      apiVersion: 'apidiscovery.k8s.io/v2',
      metadata: {},
      items: groups.map((g) => ({
        metadata: { name: g.group, creationTimestamp: null },
        versions: g.versions.map((version) =>
          unavailable(`/apis/${g.group}/${version}`)
            ? { version, freshness: 'Stale' }
            : {
                version,
                resources: g.resources.map((r) => ({
                  resource: r.plural,
                  responseKind: { group: '', version: '', kind: r.kind },
                  scope: r.namespaced ? 'Namespaced' : 'Cluster',
                  singularResource: r.kind.toLowerCase(),
                  verbs: ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'],
                  subresources: [
                    {
                      subresource: 'status',
                      responseKind: { group: '', version: '', kind: r.kind },
                      verbs: ['get', 'patch', 'update'],
                    },
                  ],
                })),
                freshness: 'Current',
              },
        ),
      })),
    };
  }

  function sendStatus(
    res: ServerResponse,
    record: RecordedRequest,
    code: number,
    message: string,
    retryAfter?: string,
    continueToken?: string,
  ): void {
    record.status = code;
    const reason = STATUS_REASONS[code] ?? (code >= 500 ? 'InternalError' : 'BadRequest');
    const status = {
      kind: 'Status',
      apiVersion: 'v1',
      metadata: continueToken ? { continue: continueToken } : {},
      status: 'Failure',
      message,
      reason,
      code,
    };
    const protobuf = protobufAnswers.has(res);
    res
      .writeHead(code, {
        'content-type': protobuf ? PROTOBUF : 'application/json',
        ...(retryAfter === undefined ? {} : { 'retry-after': retryAfter }),
      })
      .end(protobuf ? encodeStatus(status) : JSON.stringify(status));
  }

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    name: options.name,
    url: `https://127.0.0.1:${port}`,
    port,
    caData: testCa().caData,
    requests,
    faults,
    tokensSeen,
    stats,
    setObjects,
    compact() {
      compactedBefore = ++resourceVersion;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const t of timers) clearTimeout(t);
        timers.clear();
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

const STATUS_REASONS: Readonly<Record<number, string>> = {
  400: 'BadRequest',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'NotFound',
  405: 'MethodNotAllowed',
  410: 'Expired',
  429: 'TooManyRequests',
  500: 'InternalError',
  503: 'ServiceUnavailable',
  504: 'Timeout',
};

function defaultMessage(code: number, path: string, user: string): string {
  const parts = path.split('/').filter((p) => p !== '');
  const [group, plural] = parts[0] === 'api' ? ['', parts[2] ?? ''] : [parts[1] ?? '', parts[3] ?? parts[2] ?? ''];
  const resource = group === '' ? plural : `${plural}.${group}`;
  switch (code) {
    case 403:
      return `${resource} is forbidden: User "${user}" cannot list resource "${plural}" in API group "${group}" at the cluster scope`;
    case 404:
      return 'the server could not find the requested resource';
    case 410:
      return 'The provided continue parameter is too old to display a consistent list result.';
    case 429:
      return 'Too many requests, please try again later.';
    case 503:
      return `the server is currently unable to handle the request (get ${resource})`;
    default:
      return 'Internal error occurred: etcdserver: request timed out';
  }
}

function ok(value: unknown): { status: 200; value: unknown } {
  return { status: 200, value };
}

function matches(pattern: string | RegExp, path: string): boolean {
  return typeof pattern === 'string' ? pattern === path : pattern.test(path);
}

function encodeContinue(rv: number, start: string): string {
  return Buffer.from(JSON.stringify({ v: 'meta.k8s.io/v1', rv, start })).toString('base64');
}

// ---------------------------------------------------------------------------------------------
// Objects → what the server serves

function buildStore(
  objects: readonly unknown[],
  installed: readonly Addon[],
  constraintKinds: readonly string[],
  rv: number,
): { groups: GroupDef[]; store: Map<string, Stored[]> } {
  const addons = new Set<Addon>(installed);
  const kinds = new Set(constraintKinds);
  for (const o of objects) {
    const { group, kind } = gvk(o);
    const addon = ADDON_OF_GROUP[group];
    if (addon) addons.add(addon);
    if (group === 'constraints.gatekeeper.sh') kinds.add(kind);
  }
  if (addons.has('gatekeeper') && kinds.size === 0) kinds.add('K8sRequiredLabels');
  const groups: GroupDef[] = [...BUILT_IN];
  for (const a of ['cilium', 'calico-crds', 'calico-apiserver', 'anp', 'istio', 'kyverno'] as const) {
    if (addons.has(a)) groups.push(...ADDONS[a]);
  }
  if (addons.has('gatekeeper')) groups.push(...gatekeeperGroups([...kinds].sort()));

  const store = new Map<string, Stored[]>();
  let n = 0;
  for (const o of objects) {
    const { group, kind } = gvk(o);
    const obj = o as Record<string, unknown>;
    const metadata = { ...((obj.metadata as Record<string, unknown> | undefined) ?? {}) };
    let r: ResourceDef | undefined;
    if (group === '' && kind === 'Namespace') {
      r = { plural: 'namespaces', kind, namespaced: false };
      // The API server labels every namespace with its name (1.21+).
      metadata.labels = {
        ...(metadata.labels as Record<string, string> | undefined),
        'kubernetes.io/metadata.name': metadata.name,
      };
    } else {
      r = groups.find((g) => g.group === group)?.resources.find((x) => x.kind === kind);
    }
    if (r === undefined) continue; // not a kind this server serves (Deployments in a manifest folder, ...)
    if (r.namespaced && typeof metadata.namespace !== 'string') metadata.namespace = 'default';
    n++;
    metadata.uid = `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`;
    metadata.resourceVersion = String(rv);
    metadata.creationTimestamp = '2026-01-01T00:00:00Z';
    metadata.managedFields = [
      {
        manager: 'kubectl',
        operation: 'Update',
        apiVersion: String(obj.apiVersion),
        time: '2026-01-01T00:00:00Z',
        fieldsType: 'FieldsV1',
        fieldsV1: { 'f:metadata': {} },
      },
    ];
    const item = { ...obj, metadata };
    const key = `${typeof metadata.namespace === 'string' ? metadata.namespace : ''}/${String(metadata.name)}`;
    const storeKey = `${group}/${r.plural}`;
    const list = store.get(storeKey) ?? [];
    list.push({ key, item });
    store.set(storeKey, list);
  }
  for (const list of store.values()) list.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  return { groups, store };
}

function gvk(o: unknown): { group: string; kind: string } {
  const obj = (o ?? {}) as { apiVersion?: unknown; kind?: unknown };
  const apiVersion = typeof obj.apiVersion === 'string' ? obj.apiVersion : '';
  return {
    group: apiVersion.includes('/') ? apiVersion.slice(0, apiVersion.lastIndexOf('/')) : '',
    kind: typeof obj.kind === 'string' ? obj.kind : '',
  };
}

// ---------------------------------------------------------------------------------------------
// Fixtures and kubeconfigs

/** The objects of manifest files or folders (as the manifest source reads them), namespaces first. */
export async function objectsOfManifests(paths: readonly string[]): Promise<unknown[]> {
  const snapshot = await createManifestSource({ paths }).read();
  return [
    ...(snapshot.namespaces ?? []).map((ns) => ({
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: { name: ns.name, labels: ns.labels },
    })),
    ...snapshot.objects.map((o) => o.body),
  ];
}

/** The objects of a fixture file (Lists flattened), as `kubectl get -o yaml` wrote them. */
export function objectsOfFile(file: string): unknown[] {
  return parseManifestText(readFileSync(file, 'utf8'), file).objects.map((o) => o.obj);
}

/**
 * `count` namespaces `ns-00000`... labelled `ns=<name>`, plus a default-deny NetworkPolicy in each
 * (or in every `policyEvery`-th one; none with `policies: false`).
 */
export function generatedObjects(count: number, options: { policies?: boolean; policyEvery?: number } = {}): unknown[] {
  const out: unknown[] = [];
  for (let i = 0; i < count; i++) {
    const name = `ns-${String(i).padStart(5, '0')}`;
    out.push({ apiVersion: 'v1', kind: 'Namespace', metadata: { name, labels: { ns: name, team: `team-${i % 20}` } } });
    if (options.policies !== false && i % (options.policyEvery ?? 1) === 0) {
      out.push({
        apiVersion: 'networking.k8s.io/v1',
        kind: 'NetworkPolicy',
        metadata: { name: 'default-deny', namespace: name },
        spec: { podSelector: {}, policyTypes: ['Ingress'] },
      });
    }
  }
  return out;
}

export interface KubeconfigEntry {
  readonly context: string;
  readonly server: string;
  readonly caData?: string;
  readonly token?: string;
  readonly skipTLSVerify?: boolean;
  /** An exec credential plugin instead of a token. */
  readonly exec?: { readonly command: string; readonly args?: readonly string[] };
}

/** A kubeconfig (YAML text) with one cluster, user and context per entry. */
export function kubeconfigYaml(entries: readonly KubeconfigEntry[], currentContext?: string): string {
  const q = (s: string): string => JSON.stringify(s);
  const lines = ['apiVersion: v1', 'kind: Config', 'clusters:'];
  for (const e of entries) {
    lines.push(`- name: ${q(`${e.context}-cluster`)}`, '  cluster:', `    server: ${q(e.server)}`);
    if (e.caData) lines.push(`    certificate-authority-data: ${e.caData}`);
    if (e.skipTLSVerify) lines.push('    insecure-skip-tls-verify: true');
  }
  lines.push('users:');
  for (const e of entries) {
    lines.push(`- name: ${q(`${e.context}-user`)}`, '  user:');
    if (e.exec) {
      lines.push(
        '    exec:',
        '      apiVersion: client.authentication.k8s.io/v1beta1',
        `      command: ${q(e.exec.command)}`,
        `      args: [${(e.exec.args ?? []).map(q).join(', ')}]`,
      );
    } else lines.push(e.token ? `    token: ${q(e.token)}` : '    {}');
  }
  lines.push('contexts:');
  for (const e of entries) {
    lines.push(
      `- name: ${q(e.context)}`,
      '  context:',
      `    cluster: ${q(`${e.context}-cluster`)}`,
      `    user: ${q(`${e.context}-user`)}`,
    );
  }
  lines.push(`current-context: ${q(currentContext ?? entries[0]?.context ?? '')}`);
  return `${lines.join('\n')}\n`;
}
