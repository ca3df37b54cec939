/**
 * 1,200 namespaces read in pages of 500 by the real server's `limit`/`continue`, checked on the
 * server's side through its audit log; then a label removed through the API between two scans
 * with history kept is reported as drift, with the selection it cost.
 */
import { mkdir } from 'node:fs/promises';
import { Agent } from 'node:https';
import { createSecureContext } from 'node:tls';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  continueTokenFromProtobufHead,
  decodeNamespaceList,
  decodeStatus,
} from '../../../lambda/adapters/kube/protobuf.js';
import { clusterConnection } from '../../../lambda/adapters/kube/transport.js';
import { scanJson } from './cli.js';
import { READER, readAuditEvents, startControlPlane, type ControlPlane } from './harness.js';
import { createObjects, namespace, setNamespaceLabel, type KubeObject } from './scenario.js';

const BULK = 1200;
const TEAMS = ['payments', 'frontend', 'search', 'ops', 'data', 'ml'];
const bulkName = (i: number): string => `bulk-${String(i).padStart(4, '0')}`;

describe('a 1,200-namespace cluster', () => {
  let cp: ControlPlane;
  let kubeconfigFile: string;
  let allNamespaces: string[];

  const scanArgs = async (): Promise<string[]> => {
    await cp.writeKubeconfig(kubeconfigFile, { context: 'bulk', token: cp.signToken() });
    return ['--kubeconfig', kubeconfigFile];
  };

  beforeAll(async () => {
    cp = await startControlPlane();
    kubeconfigFile = join(cp.workDir, 'reader.kubeconfig');
    const objects: KubeObject[] = Array.from({ length: BULK }, (_, i) =>
      namespace(bulkName(i), { ns: bulkName(i), team: TEAMS[i % TEAMS.length]! }),
    );
    objects.push({
      apiVersion: 'networking.k8s.io/v1',
      kind: 'NetworkPolicy',
      metadata: { name: 'allow-payments', namespace: bulkName(0) },
      spec: {
        podSelector: {},
        policyTypes: ['Ingress'],
        ingress: [{ from: [{ namespaceSelector: { matchLabels: { team: 'payments' } } }] }],
      },
    });
    await createObjects(cp.admin, objects, 16);
    const list = (await cp.admin.must('GET', '/api/v1/namespaces')) as { items: { metadata: { name: string } }[] };
    allNamespaces = list.items.map((n) => n.metadata.name).sort();
    expect(allNamespaces.length).toBeGreaterThan(BULK);
  });

  afterAll(async () => {
    await cp?.stop();
  });

  it('is read over HTTP/2, as the API server offers it', async () => {
    const connection = clusterConnection({
      base: new URL(cp.server),
      secureContext: createSecureContext({ ca: cp.caPem }),
      http1Agent: () => new Agent({ ca: cp.caPem }),
    });
    try {
      const res = await connection.get(
        '/apis',
        { authorization: `Bearer ${cp.signToken()}`, accept: 'application/json' },
        new AbortController().signal,
      );
      expect(res.status).toBe(200);
      expect(res.headers['content-type']).toMatch(/json/);
      expect(connection.protocol()).toBe('h2');
    } finally {
      connection.close();
    }
  });

  it('sends namespace lists and Status errors as protobuf when asked, decoded exactly as their JSON', async () => {
    const connection = clusterConnection({
      base: new URL(cp.server),
      secureContext: createSecureContext({ ca: cp.caPem }),
      http1Agent: () => new Agent({ ca: cp.caPem }),
    });
    const get = (path: string, accept: string) =>
      connection.get(path, { authorization: `Bearer ${cp.signToken()}`, accept }, new AbortController().signal);
    try {
      const PB = 'application/vnd.kubernetes.protobuf, application/json';
      const pb = await get('/api/v1/namespaces?limit=500', PB);
      expect(pb.status).toBe(200);
      expect(pb.headers['content-type']).toMatch(/^application\/vnd\.kubernetes\.protobuf/);
      const decoded = decodeNamespaceList(pb.body);
      const json = JSON.parse((await get('/api/v1/namespaces?limit=500', 'application/json')).body.toString()) as {
        items: { metadata: { name: string; labels?: Record<string, string> } }[];
      };
      expect(decoded.items).toEqual(json.items.map((i) => ({ name: i.metadata.name, labels: i.metadata.labels })));
      expect(decoded.items).toHaveLength(500);
      expect(decoded.continueToken).toMatch(/^[A-Za-z0-9+/=_-]+$/);
      // The token is in the head of the body, ahead of the items (reading ahead relies on it).
      expect(continueTokenFromProtobufHead(pb.body.subarray(0, 512))).toEqual({ token: decoded.continueToken });

      const forbidden = await get('/api/v1/secrets?limit=1', PB);
      expect(forbidden.status).toBe(403);
      const status = decodeStatus(forbidden.body);
      expect(status.code).toBe(403);
      expect(status.reason).toBe('Forbidden');
      expect(status.message).toMatch(/secrets is forbidden: User ".*" cannot list resource "secrets"/);
    } finally {
      connection.close();
    }
  });

  it('reads every namespace through pages of 500 (limit and continue, as the server saw them)', async () => {
    const before = (await readAuditEvents(cp)).length;
    const report = await scanJson(await scanArgs());
    const [cluster] = report.clusters;
    expect(cluster?.status).toBe('complete');
    expect(cluster?.namespaces.map((n) => n.name).sort()).toEqual(allNamespaces);

    const lists = (await readAuditEvents(cp))
      .slice(before)
      .filter(
        (e) =>
          e.stage === 'ResponseComplete' &&
          e.verb === 'list' &&
          e.objectRef?.resource === 'namespaces' &&
          e.user.username === READER.arn,
      );
    const queries = lists.map((e) => new URL(e.requestURI, 'https://x').searchParams);
    expect(queries.map((q) => q.get('limit'))).toEqual(
      Array.from({ length: Math.ceil(allNamespaces.length / 500) }, () => '500'),
    );
    expect(queries.map((q) => q.has('continue'))).toEqual(queries.map((_, i) => i > 0));
    expect(lists.every((e) => e.responseStatus?.code === 200)).toBe(true);

    // The policy's peer selects every payments namespace, across all three pages.
    const policy = cluster?.policies.find((p) => p.name === 'allow-payments') as unknown as {
      peers: { selects: string[] | null }[];
    };
    expect(policy.peers[0]?.selects).toHaveLength(BULK / TEAMS.length);
  });

  it('discovers the policy kinds with aggregated discovery: one GET of /apis, no per-group discovery', async () => {
    const before = (await readAuditEvents(cp)).length;
    const report = await scanJson(await scanArgs());
    expect(report.clusters[0]?.status).toBe('complete');
    const mine = (await readAuditEvents(cp))
      .slice(before)
      .filter((e) => e.stage === 'ResponseComplete' && e.user.username === READER.arn);
    const paths = mine.map((e) => new URL(e.requestURI, 'https://x').pathname);
    expect(paths.filter((p) => p === '/apis')).toHaveLength(1);
    expect(paths.filter((p) => /^\/apis\/[^/]+\/[^/]+$/.test(p))).toEqual([]);
    // The CRD kinds installed were still found and read.
    expect(paths).toContain('/apis/cilium.io/v2/ciliumnetworkpolicies');
  });

  it('reports a label removed through the API between two scans as drift, with its impact', async () => {
    const storeDir = join(cp.workDir, 'store');
    await mkdir(storeDir);
    const first = await scanJson([...(await scanArgs()), '--store-dir', storeDir]);
    expect(first.clusters[0]?.status).toBe('complete');

    const victim = bulkName(42); // team=payments, selected by bulk-0000/allow-payments
    await setNamespaceLabel(cp.admin, victim, 'team', null);

    const second = await scanJson([...(await scanArgs()), '--store-dir', storeDir]);
    const drift = second.clusters[0]?.drift;
    expect(drift, 'clusters[].drift is present when history is kept').toBeDefined();
    expect(drift).toContainEqual(
      expect.objectContaining({
        type: 'label-removed',
        namespace: victim,
        key: 'team',
        before: 'payments',
        after: null,
      }),
    );
    expect(drift).toContainEqual(
      expect.objectContaining({
        type: 'selection-lost',
        namespace: victim,
        policy: { kind: 'NetworkPolicy', namespace: bulkName(0), name: 'allow-payments' },
        direction: 'ingress',
      }),
    );
    // Only the namespace that changed drifted: 1,199 others were read the same way twice.
    expect(new Set((drift ?? []).map((e) => e.namespace))).toEqual(new Set([victim]));
  });
});
