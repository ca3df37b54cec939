/**
 * The fault matrix: one cluster misbehaves (RBAC, missing APIs, expired continue tokens, throttling,
 * server errors, hangs, TLS, refused connections, broken bodies, rejected tokens), read at the same
 * time as two healthy neighbours through runScan. In every case:
 *   - no namespace is reported missing that exists: the namespace list is either complete or unknown;
 *   - the cluster's status and the reason of each unread kind are right;
 *   - nothing is claimed that the healthy read would not claim (findings ⊆ the healthy findings);
 *   - the neighbours' results are exactly what they are alone;
 *   - no credential appears in any reason.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEksTokenProvider } from '../../../lambda/adapters/eks/token.js';
import { eksEndpoint } from '../../../lambda/adapters/eks/source.js';
import { kubeconfigFromText } from '../../../lambda/adapters/kube/kubeconfig.js';
import { readEndpoint, type KubeReadOptions } from '../../../lambda/adapters/kube/read-endpoint.js';
import { createKubeconfigSource } from '../../../lambda/adapters/kube/source.js';
import {
  DEFAULT_AUDIT_SETTINGS,
  type ClusterResult,
  type ClusterStatus,
  type Finding,
  type ReadStatus,
} from '../../../lambda/audit/index.js';
import type { ClusterSource } from '../../../lambda/ports.js';
import { runScan } from '../../../lambda/scan.js';
import { CredentialStore, ENV_CREDENTIALS } from '../../helpers/eks-endpoint.js';
import {
  generatedObjects,
  kubeconfigYaml,
  startKubeApiServer,
  testCa,
  type FaultRule,
  type KubeApiServer,
  type KubeApiServerOptions,
  type RecordedRequest,
} from '../../helpers/kube-api-server.js';
import { createTestCa, issueServerCert } from '../../helpers/tls.js';

const TOKEN = 'faulty-cluster-secret-token-5f2c9a';
const FAST: KubeReadOptions = {
  timeoutMs: 300,
  pageSize: 5,
  retry: { attempts: 3, baseDelayMs: 5, maxDelayMs: 20, maxRetryAfterMs: 250 },
};
const clock = { now: () => new Date('2026-11-25T00:00:00Z') };

const namespace = (name: string, labels: Record<string, string> = { ns: name }) => ({
  apiVersion: 'v1',
  kind: 'Namespace',
  metadata: { name, labels },
});
const denyAll = (ns: string) => ({
  apiVersion: 'networking.k8s.io/v1',
  kind: 'NetworkPolicy',
  metadata: { name: 'default-deny', namespace: ns },
  spec: { podSelector: {}, policyTypes: ['Ingress', 'Egress'] },
});

/** 12 namespaces (3 pages of 5), NetworkPolicies, a Cilium policy, a Kyverno policy that only audits. */
const SCENARIO: unknown[] = [
  namespace('team-a'),
  namespace('team-b', {}), // label-missing
  namespace('sandbox'), // namespace-unprotected
  namespace('cil'), // protected only by a Cilium policy
  ...Array.from({ length: 8 }, (_, i) => [namespace(`app-${i}`), denyAll(`app-${i}`)]).flat(),
  denyAll('team-a'),
  denyAll('team-b'),
  {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'NetworkPolicy',
    metadata: { name: 'allow-monitoring', namespace: 'team-a' },
    spec: {
      podSelector: {},
      ingress: [{ from: [{ namespaceSelector: { matchLabels: { ns: 'monitoring' } } }] }], // peer-selects-nothing
    },
  },
  {
    apiVersion: 'cilium.io/v2',
    kind: 'CiliumNetworkPolicy',
    metadata: { name: 'default-deny', namespace: 'cil' },
    spec: { endpointSelector: {}, ingress: [{ fromEndpoints: [{}] }] },
  },
  {
    apiVersion: 'kyverno.io/v1',
    kind: 'ClusterPolicy',
    metadata: { name: 'require-ns-label' },
    spec: {
      validationFailureAction: 'Audit', // enforcement-missing
      rules: [
        {
          name: 'require-ns',
          match: { any: [{ resources: { kinds: ['Namespace'] } }] },
          validate: { pattern: { metadata: { labels: { ns: '{{request.object.metadata.name}}' } } } },
        },
      ],
    },
  },
];
const SCENARIO_NAMESPACES = SCENARIO.filter((o) => (o as { kind: string }).kind === 'Namespace')
  .map((o) => (o as { metadata: { name: string } }).metadata.name)
  .sort();

const status = (code: number, path: string | RegExp, extra: Partial<FaultRule> = {}): FaultRule => ({
  path,
  fault: { kind: 'status', code },
  ...extra,
});

interface Case {
  readonly name: string;
  readonly faults?: readonly FaultRule[];
  readonly server?: Partial<KubeApiServerOptions>;
  /** Build the source differently (TLS, kubeconfig or token problems). */
  readonly source?: 'refused' | 'skip-tls' | 'wrong-token' | 'eks-expired' | 'exec-fails';
  readonly onRequest?: (server: KubeApiServer, request: RecordedRequest) => void;
  readonly status: ClusterStatus;
  readonly reads?: Readonly<Record<string, ReadStatus>>;
  readonly error?: RegExp;
  /** Rules that must not fire for this cluster (they would need what could not be read). */
  readonly silent?: readonly Finding['rule'][];
  /** An extra check on the faulty server (e.g. how often it was asked). */
  readonly check?: (server: KubeApiServer | undefined, result: ClusterResult) => void;
}

const NS = '/api/v1/namespaces';
const NP = '/apis/networking.k8s.io/v1/networkpolicies';
const CNP = '/apis/cilium.io/v2/ciliumnetworkpolicies';
const CCNP = '/apis/cilium.io/v2/ciliumclusterwidenetworkpolicies';
const KCP = '/apis/kyverno.io/v1/clusterpolicies';
const requestsTo = (s: KubeApiServer | undefined, path: string): RecordedRequest[] =>
  (s?.requests ?? []).filter((r) => r.path === path);

const CASES: readonly Case[] = [
  // --- RBAC: 403 with the API server's Status
  {
    name: '403 on namespaces',
    faults: [status(403, NS)],
    status: 'failed',
    reads: { namespaces: 'forbidden', 'networkpolicies.networking.k8s.io': 'complete' },
    error:
      /^namespaces: forbidden: 403 Forbidden: namespaces is forbidden: User "labelguard" cannot list resource "namespaces" in API group "" at the cluster scope$/,
  },
  {
    name: '403 on NetworkPolicies',
    faults: [status(403, NP)],
    status: 'partial',
    reads: { 'networkpolicies.networking.k8s.io': 'forbidden' },
    error:
      /networkpolicies\.networking\.k8s\.io: forbidden: 403 Forbidden: networkpolicies\.networking\.k8s\.io is forbidden/,
    silent: ['namespace-unprotected'],
  },
  {
    name: '403 on CiliumNetworkPolicies (cil is protected only by one)',
    faults: [status(403, CNP)],
    status: 'partial',
    reads: { 'ciliumnetworkpolicies.cilium.io': 'forbidden', 'ciliumclusterwidenetworkpolicies.cilium.io': 'complete' },
    silent: ['namespace-unprotected'],
  },
  {
    name: '403 on Kyverno ClusterPolicies',
    faults: [status(403, KCP)],
    status: 'partial',
    reads: { 'clusterpolicies.kyverno.io': 'forbidden', 'policies.kyverno.io': 'complete' },
    silent: ['enforcement-missing'],
  },
  {
    name: '403 on API discovery',
    faults: [status(403, '/apis')],
    status: 'partial',
    reads: {
      'ciliumnetworkpolicies.cilium.io': 'forbidden',
      'clusterpolicies.kyverno.io': 'forbidden',
      'k8srequiredlabels.constraints.gatekeeper.sh': 'forbidden',
    },
    error: /API discovery failed: 403 Forbidden/,
    silent: ['namespace-unprotected', 'enforcement-missing'],
  },
  {
    name: '403 on everything (the role is not bound)',
    faults: [status(403, /^\/api(s\/[^/]+\/[^/]+\/[^/]+)?\/?.*$/)],
    status: 'failed',
    reads: {
      namespaces: 'forbidden',
      'networkpolicies.networking.k8s.io': 'forbidden',
      'clusterpolicies.kyverno.io': 'forbidden',
    },
  },
  // --- 404: not installed, or a broken proxy in front of a built-in API
  {
    name: '404 on a CRD list after discovery (uninstalled mid-scan)',
    faults: [
      { path: CCNP, fault: { kind: 'status', code: 404, message: 'the server could not find the requested resource' } },
    ],
    status: 'complete',
    reads: {
      'ciliumclusterwidenetworkpolicies.cilium.io': 'not-installed',
      'ciliumnetworkpolicies.cilium.io': 'complete',
    },
  },
  {
    name: '404 on the built-in NetworkPolicy API (a broken proxy, not "not installed")',
    faults: [status(404, NP)],
    status: 'partial',
    reads: { 'networkpolicies.networking.k8s.io': 'failed' },
    silent: ['namespace-unprotected'],
  },
  // --- 410: continue tokens
  {
    name: '410 Expired on a continued page, once: the list restarts and completes',
    faults: [status(410, NS, { continued: true, times: 1 })],
    status: 'complete',
    check: (s) => expect(requestsTo(s, NS).filter((r) => r.query.continue === undefined)).toHaveLength(2),
  },
  {
    name: 'a real stale token (history compacted mid-list): restart, complete, no duplicates',
    onRequest: (s, r) => {
      if (r.path === NS && r.query.continue !== undefined && requestsTo(s, NS).length === 2) s.compact();
    },
    status: 'complete',
    check: (s) => expect(requestsTo(s, NS).some((r) => r.status === 410)).toBe(true),
  },
  {
    name: '410 on every continued page: gives up after 3 restarts',
    faults: [status(410, NS, { continued: true })],
    status: 'failed',
    reads: { namespaces: 'failed' },
    error: /namespaces: failed: 410 Gone: .*\(the list was restarted 3 times\)/,
  },
  // --- throttling and server errors
  {
    name: '429 with Retry-After: waits at least that long (capped), then completes',
    faults: [{ path: NS, times: 1, fault: { kind: 'status', code: 429, retryAfter: '1' } }],
    status: 'complete',
    check: (s) => expect(requestsTo(s, NS)[0]?.status).toBe(429),
  },
  {
    name: '429 on every attempt',
    faults: [status(429, NP)],
    status: 'partial',
    reads: { 'networkpolicies.networking.k8s.io': 'failed' },
    error: /networkpolicies\.networking\.k8s\.io: failed: 429 Too Many Requests: .* \(after 3 attempts\)/,
    check: (s) => expect(requestsTo(s, NP)).toHaveLength(3),
  },
  {
    name: '500 once: retried',
    faults: [status(500, NS, { times: 1 })],
    status: 'complete',
  },
  {
    name: '500 on every attempt on a continued page of namespaces',
    faults: [status(500, NS, { continued: true })],
    status: 'failed',
    reads: { namespaces: 'failed' },
    error:
      /namespaces: failed: 500 Internal Server Error: Internal error occurred: etcdserver: request timed out \(after 3 attempts\)/,
  },
  {
    name: '503 from an aggregated API group (discovery of cilium.io/v2)',
    faults: [status(503, '/apis/cilium.io/v2')],
    status: 'partial',
    reads: { 'ciliumnetworkpolicies.cilium.io': 'failed', 'clusterpolicies.kyverno.io': 'complete' },
    error: /discovery of cilium\.io\/v2 failed: 503 Service Unavailable/,
    silent: ['namespace-unprotected'],
  },
  // --- timeouts
  {
    name: 'a request that hangs, once: timed out and retried',
    faults: [{ path: NS, times: 1, fault: { kind: 'hang' } }],
    status: 'complete',
  },
  {
    name: 'namespaces hang on every attempt',
    faults: [{ path: NS, fault: { kind: 'hang' } }],
    status: 'failed',
    reads: { namespaces: 'failed', 'networkpolicies.networking.k8s.io': 'complete' },
    error: /namespaces: failed: no answer within 300 ms \(after 3 attempts\)/,
  },
  {
    name: 'a slow answer within the timeout',
    faults: [{ path: NS, fault: { kind: 'delay', ms: 120 } }],
    status: 'complete',
  },
  // --- broken connections and bodies
  {
    name: 'connection reset once',
    faults: [{ path: NP, times: 1, fault: { kind: 'reset' } }],
    status: 'complete',
  },
  {
    name: 'truncated JSON (valid framing), once',
    faults: [{ path: NS, continued: true, times: 1, fault: { kind: 'truncate-json' } }],
    status: 'complete',
  },
  {
    // Namespace lists come as protobuf (as the API server sends them to clients that ask).
    name: 'truncated protobuf namespace list on every attempt',
    faults: [{ path: NS, continued: true, fault: { kind: 'truncate-json' } }],
    status: 'failed',
    reads: { namespaces: 'failed' },
    error: /namespaces: failed: the response is not valid protobuf \(truncated\?\)/,
  },
  {
    name: 'truncated JSON on every attempt',
    faults: [{ path: NP, fault: { kind: 'truncate-json' } }],
    status: 'partial',
    reads: { 'networkpolicies.networking.k8s.io': 'failed' },
    error: /networkpolicies\.networking\.k8s\.io: failed: the response is not valid JSON \(truncated\?\)/,
  },
  {
    // The client (node-fetch 2) does not notice a body cut short by a closed connection: the
    // per-request timeout is what ends the wait, and the read fails instead of hanging.
    name: 'the body cut short by a dropped connection, on every attempt',
    faults: [{ path: KCP, fault: { kind: 'cut-body' } }],
    status: 'partial',
    reads: { 'clusterpolicies.kyverno.io': 'failed' },
    error: /clusterpolicies\.kyverno\.io: failed: (the connection broke mid-request|no answer within 300 ms)/,
    silent: ['enforcement-missing'],
  },
  {
    name: 'an HTML page from a proxy instead of discovery',
    faults: [{ path: '/apis', fault: { kind: 'html' } }],
    status: 'partial',
    reads: { 'ciliumnetworkpolicies.cilium.io': 'failed', 'clusterpolicies.kyverno.io': 'failed' },
    error: /API discovery failed: the response is not JSON \(text\/html\)/,
    silent: ['namespace-unprotected', 'enforcement-missing'],
  },
  // --- TLS (verification is always on)
  {
    name: 'TLS: the server certificate is from another CA',
    server: { tls: issueServerCert(createTestCa('some other CA')) },
    status: 'failed',
    error:
      /^namespaces: failed: TLS verification failed: the server certificate is not signed by the cluster CA \(UNABLE_TO_VERIFY_LEAF_SIGNATURE\)$/,
    check: (s) => expect(s?.requests).toEqual([]),
  },
  {
    name: 'TLS: the certificate is for another host',
    server: { tls: issueServerCert(testCa(), ['other.example.com']) },
    status: 'failed',
    error:
      /TLS verification failed: the server certificate is not valid for this host name \(ERR_TLS_CERT_ALTNAME_INVALID\)/,
  },
  {
    name: 'TLS: the certificate has expired',
    server: {
      tls: issueServerCert(testCa(), ['127.0.0.1'], {
        notBefore: new Date(Date.now() - 72 * 3_600_000),
        notAfter: new Date(Date.now() - 24 * 3_600_000),
      }),
    },
    status: 'failed',
    error: /TLS verification failed: the server certificate has expired \(CERT_HAS_EXPIRED\)/,
  },
  {
    name: 'insecure-skip-tls-verify in the kubeconfig is refused',
    source: 'skip-tls',
    status: 'failed',
    error: /insecure-skip-tls-verify is set for this cluster; labelguard always verifies TLS/,
    check: (s) => expect(s?.requests).toEqual([]),
  },
  // --- the cluster is down, or refuses the credentials
  {
    name: 'connection refused (one of many clusters down)',
    source: 'refused',
    status: 'failed',
    error: /^namespaces: failed: connection refused \(ECONNREFUSED\) \(after 3 attempts\)$/,
  },
  {
    name: 'a wrong bearer token (401)',
    source: 'wrong-token',
    status: 'failed',
    error: /^namespaces: failed: 401 Unauthorized: the cluster rejected the credentials$/,
  },
  {
    name: 'the credentials cannot be had (the exec plugin fails)',
    source: 'exec-fails',
    status: 'failed',
    error: /^namespaces: failed: cannot get credentials for this cluster: /,
    check: (s) => expect(s?.requests).toEqual([]),
  },
  {
    name: 'an EKS token the cluster finds expired (its clock 20 minutes ahead)',
    source: 'eks-expired',
    status: 'failed',
    error: /^namespaces: failed: 401 Unauthorized: the cluster rejected the credentials$/,
  },
];

const keyOf = (f: Finding): string => JSON.stringify({ ...f, source: undefined, cluster: undefined });
const summary = (r: ClusterResult | undefined) => ({
  status: r?.status,
  errors: r?.errors,
  reads: r?.reads,
  namespaces: r?.namespaces,
  policyCount: r?.policyCount,
  findings: r?.findings,
});

// Every case over HTTP/2 (what API servers offer) and over HTTP/1.1 (servers and proxies without it).
describe.each([
  ['HTTP/2', true],
  ['HTTP/1.1', false],
] as const)('fault matrix over %s', (_protocol, http2) => {
  const neighbours: KubeApiServer[] = [];
  const neighbourSources: ClusterSource[] = [];
  const baseline = new Map<string, ClusterResult>();
  let healthy: ClusterResult;

  const sourceFor = (
    name: string,
    server: { url: string; caData: string },
    extra: { token?: string; skipTLSVerify?: boolean; exec?: { command: string; args?: string[] } } = {},
  ) =>
    createKubeconfigSource({
      kubeConfig: kubeconfigFromText(
        kubeconfigYaml([
          { context: name, server: server.url, caData: server.caData, token: extra.token ?? TOKEN, ...extra },
        ]),
      ),
      context: name,
      read: FAST,
    });

  const scan = (sources: ClusterSource[]) =>
    runScan({ sources, clock, concurrency: sources.length }, DEFAULT_AUDIT_SETTINGS);

  beforeAll(async () => {
    for (const [name, objects] of [
      ['north', generatedObjects(7)],
      ['south', SCENARIO],
    ] as const) {
      const s = await startKubeApiServer({ name, objects, http2, auth: { kind: 'bearer', tokens: [TOKEN] } });
      neighbours.push(s);
      neighbourSources.push(sourceFor(name, s));
    }
    const reference = await startKubeApiServer({
      name: 'faulty',
      objects: SCENARIO,
      http2,
      auth: { kind: 'bearer', tokens: [TOKEN] },
    });
    try {
      const results = await scan([...neighbourSources, sourceFor('faulty', reference)]);
      for (const r of results) baseline.set(r.cluster, r);
      healthy = results[2]!;
    } finally {
      await reference.close();
    }
  });

  afterAll(async () => {
    await Promise.all(neighbours.map((s) => s.close()));
  });

  it('the healthy read is complete and trips the rules the faults must not fake', () => {
    expect(healthy.status).toBe('complete');
    expect(healthy.errors).toEqual([]);
    expect(healthy.namespaces.map((n) => n.name)).toEqual(SCENARIO_NAMESPACES);
    expect(new Set(healthy.findings.map((f) => `${f.rule}:${f.namespace}`))).toEqual(
      new Set([
        'label-missing:team-b',
        'namespace-unprotected:sandbox',
        'peer-selects-nothing:team-a',
        'enforcement-missing:null',
      ]),
    );
    expect(CASES.length).toBeGreaterThanOrEqual(20);
  });

  it.each(CASES.map((c) => [c.name, c] as const))('%s', async (_name, c) => {
    let server: KubeApiServer | undefined;
    let source: ClusterSource;
    const credentials = new CredentialStore();
    credentials.add({ ...ENV_CREDENTIALS });
    if (c.source === 'refused') {
      const gone = await startKubeApiServer({ name: 'faulty' });
      await gone.close();
      source = sourceFor('faulty', gone);
    } else {
      const self: { server?: KubeApiServer } = {};
      server = await startKubeApiServer({
        name: 'faulty',
        objects: SCENARIO,
        http2,
        auth:
          c.source === 'eks-expired'
            ? { kind: 'eks', credentials, now: () => new Date(Date.now() + 20 * 60_000) }
            : { kind: 'bearer', tokens: [TOKEN] },
        faults: (c.faults ?? []).map((f) => ({ ...f })), // each run counts its own `times`
        ...(c.onRequest ? { onRequest: (r: RecordedRequest) => self.server && c.onRequest?.(self.server, r) } : {}),
        ...c.server,
      });
      self.server = server;
      if (c.source === 'eks-expired') {
        const tokens = createEksTokenProvider({
          cluster: 'faulty',
          region: 'eu-west-1',
          credentials: () => Promise.resolve({ ...ENV_CREDENTIALS }),
        });
        const endpoint = eksEndpoint(
          { name: 'faulty', region: 'eu-west-1', endpoint: server.url, caData: server.caData, tags: {} },
          tokens,
        );
        source = {
          cluster: 'faulty',
          read: () => readEndpoint(endpoint, 'faulty', { ...FAST, onUnauthorized: () => tokens.invalidate() }),
        };
      } else {
        source = sourceFor('faulty', server, {
          ...(c.source === 'wrong-token' ? { token: 'not-the-token-7d1e' } : {}),
          ...(c.source === 'skip-tls' ? { skipTLSVerify: true } : {}),
          ...(c.source === 'exec-fails'
            ? {
                exec: {
                  command: process.execPath,
                  args: ['-e', 'process.stderr.write("no SSO session"); process.exit(3)'],
                },
              }
            : {}),
        });
      }
    }

    try {
      const started = Date.now();
      const results = await scan([neighbourSources[0]!, source, neighbourSources[1]!]);
      const elapsed = Date.now() - started;
      const result = results[1]!;

      // Status, reads and reasons.
      expect(result.status, JSON.stringify(result.errors)).toBe(c.status);
      for (const [resource, expected] of Object.entries(c.reads ?? {})) {
        expect(result.reads.find((r) => r.resource === resource)?.status, resource).toBe(expected);
      }
      if (c.error)
        expect(
          result.errors.some((e) => c.error?.test(e)),
          JSON.stringify(result.errors, null, 1),
        ).toBe(true);
      if (c.status === 'complete') expect(result.errors).toEqual([]);
      for (const read of result.reads) {
        if (read.status === 'failed' || read.status === 'forbidden') expect(read.reason, read.resource).toBeTruthy();
      }

      // No namespace reported missing that exists: all of them, or unknown (and then no namespace findings).
      if (result.status === 'failed' && result.reads.find((r) => r.resource === 'namespaces')?.status !== 'complete') {
        expect(result.namespaces).toEqual([]);
        expect(result.findings.filter((f) => f.namespace !== null)).toEqual([]);
      } else {
        expect(result.namespaces.map((n) => n.name)).toEqual(SCENARIO_NAMESPACES);
      }

      // Nothing claimed that the healthy read would not claim; and the rules that need what is missing are silent.
      const allowed = new Set(healthy.findings.map(keyOf));
      expect(result.findings.map(keyOf).filter((k) => !allowed.has(k))).toEqual([]);
      for (const rule of c.silent ?? []) expect(result.findings.filter((f) => f.rule === rule)).toEqual([]);
      // A cluster of which nothing could be read claims nothing at all (not even cluster-wide findings).
      if (result.reads.every((r) => r.status === 'failed' || r.status === 'forbidden'))
        expect(result.findings).toEqual([]);

      // The neighbours are untouched.
      expect(summary(results[0])).toEqual(summary(baseline.get('north')));
      expect(summary(results[2])).toEqual(summary(baseline.get('south')));

      // No credential in any reason.
      const text = JSON.stringify(result.errors);
      expect(text).not.toContain(TOKEN);
      expect(text).not.toContain('k8s-aws-v1.');
      for (const token of server?.tokensSeen ?? []) expect(text).not.toContain(token);

      if (c.name.startsWith('429 with Retry-After'))
        expect(elapsed).toBeGreaterThanOrEqual(FAST.retry?.maxRetryAfterMs ?? 0);
      c.check?.(server, result);
    } finally {
      await server?.close();
    }
  });
});
