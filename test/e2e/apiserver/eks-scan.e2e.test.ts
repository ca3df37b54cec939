/**
 * A scan through an EKS-style token with nothing but the shipped ClusterRole sees exactly what a
 * scan of the same objects as manifests sees: same findings (the cluster name and source file
 * aside), same namespaces, same policies, and nothing forbidden.
 */
import { execFile } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findingKeys, scanJson, type JsonReport } from './cli.js';
import { PROJECT_ROOT, READER, readAuditEvents, startControlPlane, type ControlPlane } from './harness.js';
import { createObjects, shopScenario } from './scenario.js';

const run = promisify(execFile);

describe('scan through an EKS token with the shipped ClusterRole', () => {
  let cp: ControlPlane;
  let live: JsonReport;
  let dumped: JsonReport;

  beforeAll(async () => {
    cp = await startControlPlane();
    await createObjects(cp.admin, shopScenario());

    const kubeconfig = await cp.writeKubeconfig(join(cp.workDir, 'reader.kubeconfig'), {
      context: 'shop',
      token: cp.signToken(),
    });
    live = await scanJson(['--kubeconfig', kubeconfig]);

    // The same objects as a `kubectl get -o json` dump (as the cluster admin), scanned offline.
    const resources = [
      'namespaces',
      'networkpolicies.networking.k8s.io',
      ...cp.crds.map((c) => `${c.plural}.${c.group}`),
    ];
    const dump = await run(
      'kubectl',
      ['--kubeconfig', cp.adminKubeconfig, 'get', resources.join(','), '--all-namespaces', '-o', 'json'],
      {
        maxBuffer: 256 * 1024 * 1024,
      },
    );
    const dir = join(cp.workDir, 'manifests');
    await mkdir(dir);
    await writeFile(join(dir, 'shop.json'), dump.stdout);
    dumped = await scanJson(['--manifests', dir, '--cluster', 'shop-manifests']);
  });

  afterAll(async () => {
    await cp?.stop();
  });

  it('reads every kind completely: the role forbids nothing labelguard reads', () => {
    const [cluster] = live.clusters;
    expect(cluster?.cluster).toBe('shop');
    expect(cluster?.errors).toEqual([]);
    expect(cluster?.reads.filter((r) => r.status === 'forbidden' || r.status === 'failed')).toEqual([]);
    expect(cluster?.status).toBe('complete');
  });

  it('went through the EKS authenticator as the mapped reader', async () => {
    expect(cp.tokenReview.reviews.some((r) => r.username === READER.arn)).toBe(true);
    const events = await readAuditEvents(cp);
    expect(events.length).toBeGreaterThan(0);
    expect(new Set(events.map((e) => e.user.username))).toEqual(new Set([READER.arn]));
    // Read-only, and never a watch.
    expect(new Set(events.map((e) => e.verb)).size).toBeGreaterThan(0);
    expect(events.filter((e) => !['get', 'list'].includes(e.verb))).toEqual([]);
  });

  it('finds exactly what the manifest scan of the same objects finds', () => {
    expect(findingKeys(live)).toEqual(findingKeys(dumped));
    // The scenario is not trivially empty: it trips several rules.
    expect(new Set(live.findings.map((f) => f.rule)).size).toBeGreaterThanOrEqual(4);
  });

  it('sees the same namespaces and policies, of every engine', () => {
    const [a, b] = [live.clusters[0], dumped.clusters[0]];
    const names = (r: typeof a) => (r?.namespaces ?? []).map((n) => `${n.name} ${JSON.stringify(n.labels)}`).sort();
    const policies = (r: typeof a) =>
      (r?.policies ?? []).map((p) => `${p.engine} ${p.kind} ${p.namespace ?? '-'}/${p.name}`).sort();
    expect(names(a)).toEqual(names(b));
    expect(policies(a)).toEqual(policies(b));
    expect(a?.policyCount).toBe(b?.policyCount);
    expect(new Set(a?.policies.map((p) => p.engine))).toEqual(
      new Set(['kubernetes', 'cilium', 'calico', 'adminnetworkpolicy', 'istio']),
    );
  });

  it("takes labelguard's own `eks-token` as a kubeconfig exec plugin, and the authenticator accepts it", async () => {
    const { accessKeyId, secretAccessKey, sessionToken = '' } = READER.credentials;
    const kubeconfig = await cp.writeKubeconfig(join(cp.workDir, 'exec.kubeconfig'), {
      context: 'shop',
      user: {
        exec: {
          apiVersion: 'client.authentication.k8s.io/v1beta1',
          command: process.execPath,
          args: [
            '--import',
            'tsx',
            join(PROJECT_ROOT, 'lambda/cli/main.ts'),
            'eks-token',
            '--cluster',
            cp.clusterId,
            '--region',
            cp.region,
          ],
          env: [
            { name: 'AWS_ACCESS_KEY_ID', value: accessKeyId },
            { name: 'AWS_SECRET_ACCESS_KEY', value: secretAccessKey },
            { name: 'AWS_SESSION_TOKEN', value: sessionToken },
          ],
          interactiveMode: 'Never',
        },
      },
    });
    const before = cp.tokenReview.reviews.length;
    const viaPlugin = await scanJson(['--kubeconfig', kubeconfig]);
    expect(viaPlugin.clusters[0]?.status, JSON.stringify(viaPlugin.clusters[0]?.errors)).toBe('complete');
    expect(findingKeys(viaPlugin)).toEqual(findingKeys(live));
    const reviews = cp.tokenReview.reviews.slice(before);
    expect(reviews.length).toBeGreaterThan(0);
    expect(reviews.every((r) => r.username === READER.arn)).toBe(true);
  });
});
