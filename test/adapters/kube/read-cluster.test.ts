/**
 * Reading one cluster with the real client against the local API server: paging, mapping, which
 * kinds are read (discovery decides), the request bound and connection reuse.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage } from 'node:http';
import { connect, type AddressInfo, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { kubeconfigFromText, loadKubeconfigFiles } from '../../../lambda/adapters/kube/kubeconfig.js';
import { createKubeconfigSource, type KubeReadOptions } from '../../../lambda/adapters/kube/source.js';
import type { ClusterSnapshot } from '../../../lambda/audit/index.js';
import { FIXTURES } from '../../helpers/fixtures.js';
import {
  generatedObjects,
  kubeconfigYaml,
  objectsOfFile,
  startKubeApiServer,
  type KubeApiServer,
  type KubeApiServerOptions,
} from '../../helpers/kube-api-server.js';

const servers: KubeApiServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

async function read(
  options: Partial<KubeApiServerOptions>,
  readOptions: KubeReadOptions = {},
): Promise<{ snapshot: ClusterSnapshot; server: KubeApiServer }> {
  const server = await startKubeApiServer({ name: 'c', ...options });
  servers.push(server);
  const kubeConfig = kubeconfigFromText(kubeconfigYaml([{ context: 'c', server: server.url, caData: server.caData }]));
  const snapshot = await createKubeconfigSource({ kubeConfig, context: 'c', read: readOptions }).read();
  return { snapshot, server };
}

const statusOf = (s: ClusterSnapshot, resource: string) => s.reads.find((r) => r.resource === resource)?.status;

describe('readCluster', () => {
  it('pages through 1,203 namespaces 500 at a time with the server continue tokens, none lost or doubled', async () => {
    const { snapshot, server } = await read({ objects: generatedObjects(1203) });
    expect(snapshot.namespaces).toHaveLength(1203);
    expect(new Set(snapshot.namespaces?.map((n) => n.name)).size).toBe(1203);
    expect(snapshot.objects.filter((o) => o.kind === 'NetworkPolicy')).toHaveLength(1203);
    const pages = server.requests.filter((r) => r.path === '/api/v1/namespaces');
    expect(pages.map((p) => p.query.limit)).toEqual(['500', '500', '500']);
    expect(pages[0]?.query.continue).toBeUndefined();
    expect(pages[1]?.query.continue).toMatch(/^[A-Za-z0-9+/=]+$/);
    expect(server.requests.every((r) => r.query.watch === undefined)).toBe(true);
  });

  it('asks for the next page as soon as the head of the current one names it, before the rest arrives', async () => {
    // The server holds each namespace page's items back until the next page is asked for (or 5 s).
    const hold = { path: '/api/v1/namespaces', fault: { kind: 'hold-body', ms: 5000 } } as const;
    const { snapshot, server } = await read({ objects: generatedObjects(1203), faults: [hold] });
    expect(snapshot.namespaces).toHaveLength(1203);
    expect(new Set(snapshot.namespaces?.map((n) => n.name)).size).toBe(1203);
    const pages = server.requests.filter((r) => r.path === '/api/v1/namespaces');
    expect(pages.map((p) => p.releasedBy)).toEqual(['next-request', 'next-request', undefined]);
  });

  it('waits for each page when reading ahead is off (the held pages then run out their time)', async () => {
    const hold = { path: '/api/v1/namespaces', fault: { kind: 'hold-body', ms: 200 } } as const;
    const { snapshot, server } = await read({ objects: generatedObjects(1203), faults: [hold] }, { readAhead: false });
    expect(snapshot.namespaces).toHaveLength(1203);
    const pages = server.requests.filter((r) => r.path === '/api/v1/namespaces');
    expect(pages.map((p) => p.releasedBy)).toEqual(['timeout', 'timeout', undefined]);
  });

  it('reads JSON pages ahead over HTTP/1.1 too, and a page asked ahead that 410s restarts the list', async () => {
    const { snapshot, server } = await read({
      objects: generatedObjects(1203),
      http2: false,
      protobuf: false,
      faults: [
        { path: '/api/v1/namespaces', continued: true, times: 1, fault: { kind: 'status', code: 410 } },
        { path: '/api/v1/namespaces', fault: { kind: 'hold-body', ms: 5000 } },
      ],
    });
    expect(snapshot.namespaces).toHaveLength(1203);
    expect(new Set(snapshot.namespaces?.map((n) => n.name)).size).toBe(1203);
    const pages = server.requests.filter((r) => r.path === '/api/v1/namespaces');
    expect(pages.map((p) => [p.query.continue === undefined ? 'first' : 'continued', p.status])).toEqual([
      ['first', 200],
      ['continued', 410],
      ['first', 200],
      ['continued', 200],
      ['continued', 200],
    ]);
  });

  it('reads namespace lists as protobuf where the server offers it, with the same result as JSON', async () => {
    const objects = [
      ...generatedObjects(1203),
      {
        apiVersion: 'v1',
        kind: 'Namespace',
        metadata: {
          name: 'zz-odd',
          labels: { ünï: 'cödé ✓', ['__proto__']: 'p', empty: '' },
          annotations: { 'kubectl.kubernetes.io/last-applied-configuration': '{"big":true}' },
        },
      },
      { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'zz-no-labels' } },
    ];
    const pb = await read({ objects });
    const json = await read({ objects, protobuf: false });
    expect(pb.snapshot).toEqual(json.snapshot);
    expect(pb.snapshot.namespaces).toHaveLength(1205);
    const pages = (server: KubeApiServer) => server.requests.filter((r) => r.path === '/api/v1/namespaces');
    expect(pages(pb.server).map((r) => r.protobuf)).toEqual([true, true, true]);
    expect(pages(json.server).map((r) => r.protobuf)).toEqual([undefined, undefined, undefined]);
    const odd = pb.snapshot.namespaces?.find((n) => n.name === 'zz-odd');
    expect(Object.keys(odd?.labels ?? {})).toContain('__proto__');
    expect(Object.getPrototypeOf(odd?.labels)).toBe(Object.prototype);
  });

  it('reads protobuf pages ahead too: the continue token is at the head of the protobuf body', async () => {
    const hold = { path: '/api/v1/namespaces', fault: { kind: 'hold-body', ms: 5000 } } as const;
    const { snapshot, server } = await read({ objects: generatedObjects(1203), faults: [hold] });
    expect(snapshot.namespaces).toHaveLength(1203);
    const pages = server.requests.filter((r) => r.path === '/api/v1/namespaces');
    expect(pages.map((p) => [p.protobuf, p.releasedBy])).toEqual([
      [true, 'next-request'],
      [true, 'next-request'],
      [true, undefined],
    ]);
  });

  it('maps objects to the model: apiVersion/kind filled in, managedFields and last-applied dropped, API path as source', async () => {
    const { snapshot } = await read({
      objects: [
        { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'shop', labels: { ns: 'shop', tier: 'web' } } },
        {
          apiVersion: 'networking.k8s.io/v1',
          kind: 'NetworkPolicy',
          metadata: {
            name: 'deny',
            namespace: 'shop',
            annotations: { 'kubectl.kubernetes.io/last-applied-configuration': '{"huge":true}', owner: 'sre' },
          },
          spec: { podSelector: {} },
        },
      ],
    });
    expect(snapshot.namespaces).toEqual([
      { name: 'shop', labels: { ns: 'shop', tier: 'web', 'kubernetes.io/metadata.name': 'shop' } },
    ]);
    const [np] = snapshot.objects;
    expect(np).toMatchObject({
      apiVersion: 'networking.k8s.io/v1',
      kind: 'NetworkPolicy',
      name: 'deny',
      namespace: 'shop',
    });
    expect(np?.source).toEqual({ file: '/apis/networking.k8s.io/v1/namespaces/shop/networkpolicies/deny' });
    const metadata = np?.body.metadata as Record<string, unknown>;
    expect(metadata.managedFields).toBeUndefined();
    expect(metadata.annotations).toEqual({ owner: 'sre' });
    expect(np?.body.spec).toEqual({ podSelector: {} });
  });

  it('reads only the policy kinds discovery shows, and says which are not installed', async () => {
    const { snapshot, server } = await read({ objects: generatedObjects(2), installed: ['cilium', 'istio'] });
    expect(statusOf(snapshot, 'ciliumnetworkpolicies.cilium.io')).toBe('complete');
    expect(statusOf(snapshot, 'authorizationpolicies.security.istio.io')).toBe('complete');
    for (const absent of [
      'networkpolicies.crd.projectcalico.org',
      'adminnetworkpolicies.policy.networking.k8s.io',
      'clusterpolicies.kyverno.io',
      'k8srequiredlabels.constraints.gatekeeper.sh',
    ]) {
      expect(statusOf(snapshot, absent), absent).toBe('not-installed');
    }
    // Nothing is asked of groups that are not served.
    expect(server.requests.filter((r) => /kyverno|calico|gatekeeper/.test(r.path))).toEqual([]);
    expect(server.requests.filter((r) => r.status !== 200)).toEqual([]);
  });

  it('discovers with one request where the server has aggregated discovery, and reads the same as without', async () => {
    const options = {
      objects: [
        ...generatedObjects(30, { policyEvery: 3 }),
        ...objectsOfFile(`${FIXTURES}clusters/selector-invalid-violating.yaml`),
      ],
      installed: ['cilium', 'calico-apiserver', 'anp', 'istio', 'kyverno', 'gatekeeper'] as const,
      constraintKinds: ['K8sRequiredLabels', 'K8sAllowedRepos'],
    };
    const aggregated = await read(options);
    const legacy = await read({ ...options, aggregatedDiscovery: false });
    expect(aggregated.snapshot).toEqual(legacy.snapshot);
    const groupDiscovery = (server: KubeApiServer) =>
      server.requests.filter((r) => /^\/apis\/[^/]+\/[^/]+$/.test(r.path)).map((r) => r.path);
    expect(groupDiscovery(aggregated.server)).toEqual([]);
    expect(groupDiscovery(legacy.server).length).toBeGreaterThanOrEqual(6);
    expect(statusOf(aggregated.snapshot, 'ciliumnetworkpolicies.cilium.io')).toBe('complete');
    expect(statusOf(aggregated.snapshot, 'networkpolicies.projectcalico.org')).toBe('complete');
    expect(aggregated.snapshot.reads.map((r) => r.resource)).toContain('k8sallowedrepos.constraints.gatekeeper.sh');
  });

  it('reads Calico through projectcalico.org/v3 when its API server is installed, never both', async () => {
    const both = await read({
      objects: objectsOfFile(`${FIXTURES}clusters/selector-invalid-violating.yaml`),
      installed: ['calico-crds'],
    });
    expect(statusOf(both.snapshot, 'networkpolicies.projectcalico.org')).toBe('complete');
    expect(both.snapshot.reads.filter((r) => r.resource.endsWith('crd.projectcalico.org'))).toEqual([]);
    expect(both.snapshot.objects.filter((o) => o.apiVersion === 'projectcalico.org/v3')).toHaveLength(1);

    const crdsOnly = await read({ objects: generatedObjects(1), installed: ['calico-crds'] });
    expect(statusOf(crdsOnly.snapshot, 'networkpolicies.crd.projectcalico.org')).toBe('complete');
    expect(statusOf(crdsOnly.snapshot, 'stagednetworkpolicies.crd.projectcalico.org')).toBe('complete');
    expect(
      crdsOnly.snapshot.reads.some((r) => r.resource.endsWith('.projectcalico.org') && !r.resource.includes('crd.')),
    ).toBe(false);
  });

  it('reads every Gatekeeper constraint kind the cluster serves', async () => {
    const constraint = (kind: string, name: string) => ({
      apiVersion: 'constraints.gatekeeper.sh/v1beta1',
      kind,
      metadata: { name },
      spec: { match: { kinds: [{ apiGroups: [''], kinds: ['Namespace'] }] }, parameters: { labels: [{ key: 'ns' }] } },
    });
    const { snapshot } = await read({
      objects: [
        ...generatedObjects(1),
        constraint('K8sRequiredLabels', 'ns-must-have-ns'),
        constraint('K8sAllowedRepos', 'repos'),
      ],
    });
    expect(statusOf(snapshot, 'k8srequiredlabels.constraints.gatekeeper.sh')).toBe('complete');
    expect(statusOf(snapshot, 'k8sallowedrepos.constraints.gatekeeper.sh')).toBe('complete');
    expect(
      snapshot.objects
        .filter((o) => o.apiVersion.startsWith('constraints.gatekeeper.sh'))
        .map((o) => o.kind)
        .sort(),
    ).toEqual(['K8sAllowedRepos', 'K8sRequiredLabels']);

    const withoutRequiredLabels = await read({
      objects: generatedObjects(1),
      installed: ['gatekeeper'],
      constraintKinds: ['K8sAllowedRepos'],
    });
    expect(statusOf(withoutRequiredLabels.snapshot, 'k8srequiredlabels.constraints.gatekeeper.sh')).toBe(
      'not-installed',
    );
  });

  it('keeps at most maxInFlight requests in flight, all over one HTTP/2 connection', async () => {
    const { snapshot, server } = await read(
      { objects: generatedObjects(40), installed: ['cilium', 'kyverno', 'istio', 'anp'], latencyMs: 20 },
      { maxInFlight: 3, pageSize: 10 },
    );
    expect(snapshot.namespaces).toHaveLength(40);
    expect(server.stats.maxActive).toBe(3);
    expect(server.requests.length).toBeGreaterThan(15);
    expect(server.stats.connections).toBe(1);
  });

  it('reads a server without HTTP/2 over HTTP/1.1, over reused keep-alive connections', async () => {
    const options = {
      objects: generatedObjects(40),
      installed: ['cilium', 'kyverno', 'istio', 'anp'] as const,
      latencyMs: 20,
    };
    const h1 = await read({ ...options, http2: false }, { maxInFlight: 2, pageSize: 10 });
    const h2 = await read(options, { maxInFlight: 2, pageSize: 10 });
    expect(h1.snapshot).toEqual(h2.snapshot);
    expect(h1.server.stats.maxActive).toBe(2);
    // One connection learns the server speaks HTTP/1.1 only; then a pool of at most maxInFlight.
    expect(h1.server.stats.connections).toBeLessThanOrEqual(3);
    expect(h1.server.requests.length).toBeGreaterThan(h1.server.stats.connections * 4);
  });

  it('reads a cluster behind the kubeconfig proxy-url, through an HTTP CONNECT tunnel', async () => {
    const server = await startKubeApiServer({ name: 'proxied', objects: generatedObjects(30) });
    servers.push(server);
    const tunnels: string[] = [];
    const sockets = new Set<Socket>();
    const proxy = createServer((_req, res) => res.writeHead(405).end());
    proxy.on('connect', (req: IncomingMessage, client: Socket, head: Buffer) => {
      tunnels.push(req.url ?? '');
      const [host, port] = (req.url ?? '').split(':');
      const upstream = connect(Number(port), host, () => {
        client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
        upstream.write(head);
        upstream.pipe(client);
        client.pipe(upstream);
      });
      sockets.add(client).add(upstream);
      upstream.on('error', () => client.destroy());
      client.on('error', () => upstream.destroy());
    });
    await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = proxy.address() as AddressInfo;
      const yaml = kubeconfigYaml([{ context: 'proxied', server: server.url, caData: server.caData }]).replace(
        `server: "${server.url}"`,
        `server: "${server.url}"\n    proxy-url: "http://127.0.0.1:${port}"`,
      );
      const snapshot = await createKubeconfigSource({
        kubeConfig: kubeconfigFromText(yaml),
        context: 'proxied',
      }).read();
      expect(snapshot.reads.every((r) => r.status === 'complete' || r.status === 'not-installed')).toBe(true);
      expect(snapshot.namespaces).toHaveLength(30);
      // Every connection went through the proxy, to the API server's address.
      expect(tunnels.length).toBeGreaterThan(0);
      expect(new Set(tunnels)).toEqual(new Set([new URL(server.url).host]));
      expect(server.stats.connections).toBe(tunnels.length);
    } finally {
      // Tunnels are not the HTTP server's connections any more: close them by hand.
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => proxy.close(() => resolve()));
    }
  });

  it('resolves a relative certificate-authority file next to the kubeconfig', async () => {
    const server = await startKubeApiServer({ name: 'file-ca', objects: generatedObjects(1) });
    servers.push(server);
    const dir = mkdtempSync(join(tmpdir(), 'labelguard-kc-'));
    try {
      writeFileSync(join(dir, 'ca.pem'), Buffer.from(server.caData, 'base64'));
      writeFileSync(
        join(dir, 'config'),
        kubeconfigYaml([{ context: 'file-ca', server: server.url }]).replace(
          `server: "${server.url}"`,
          `server: "${server.url}"\n    certificate-authority: ca.pem`,
        ),
      );
      const kubeConfig = loadKubeconfigFiles([join(dir, 'config')]);
      const snapshot = await createKubeconfigSource({ kubeConfig, context: 'file-ca' }).read();
      expect(snapshot.namespaces).toHaveLength(1);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
