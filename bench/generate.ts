/**
 * Synthetic cluster dumps for the benchmarks: a `kubectl get -o json` List with namespaces and
 * policies of every engine, deterministic for a given size and seed.
 */
import { writeFile } from 'node:fs/promises';

export interface GenerateOptions {
  readonly namespaces: number;
  readonly policies: number;
  readonly seed?: number;
}

/** A small deterministic PRNG (mulberry32). */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * The metadata a real `kubectl get -o json` prints for an object that was `kubectl apply`-ed: uid,
 * resourceVersion, timestamps, the last-applied-configuration annotation and managedFields.
 * Dumps without it would be several times smaller than the ones users actually audit.
 */
function realMetadata(
  rand: () => number,
  obj: { apiVersion: string; kind: string; metadata: Record<string, unknown>; spec?: unknown },
) {
  const hex = (n: number): string => Array.from({ length: n }, () => Math.floor(rand() * 16).toString(16)).join('');
  const created = new Date(Date.UTC(2025, 0, 1) + Math.floor(rand() * 3e10)).toISOString().replace(/\.\d+Z$/, 'Z');
  const applied = JSON.stringify({
    apiVersion: obj.apiVersion,
    kind: obj.kind,
    metadata: { ...obj.metadata },
    ...(obj.spec ? { spec: obj.spec } : {}),
  });
  const labels = (obj.metadata.labels ?? {}) as Record<string, string>;
  const fieldsLabels = Object.fromEntries(Object.keys(labels).map((k) => [`f:${k}`, {}]));
  return {
    ...obj.metadata,
    annotations: { 'kubectl.kubernetes.io/last-applied-configuration': `${applied}\n` },
    creationTimestamp: created,
    generation: obj.spec ? 1 : undefined,
    managedFields: [
      {
        apiVersion: obj.apiVersion,
        fieldsType: 'FieldsV1',
        fieldsV1: {
          'f:metadata': {
            'f:annotations': { '.': {}, 'f:kubectl.kubernetes.io/last-applied-configuration': {} },
            'f:labels': { '.': {}, ...fieldsLabels },
          },
          ...(obj.spec ? { 'f:spec': { '.': {} } } : {}),
        },
        manager: 'kubectl-client-side-apply',
        operation: 'Update',
        time: created,
      },
    ],
    resourceVersion: String(Math.floor(rand() * 1e8)),
    uid: `${hex(8)}-${hex(4)}-${hex(4)}-${hex(4)}-${hex(12)}`,
  };
}

export function generateCluster(opts: GenerateOptions): { apiVersion: 'v1'; kind: 'List'; items: unknown[] } {
  const rand = rng(opts.seed ?? 42);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;
  const names = Array.from({ length: opts.namespaces }, (_, i) => `team-${String(i).padStart(6, '0')}`);
  const tenants = Array.from({ length: 20 }, (_, i) => `tenant-${i}`);
  const items: unknown[] = [];
  for (const name of names) {
    const r = rand();
    const labels: Record<string, string> = { tenant: pick(tenants), env: pick(['prod', 'staging', 'dev']) };
    if (r < 0.95)
      labels.ns = name; // 5% missing
    else if (r < 0.97) labels.ns = `${name}-old`; // 2% of those present are wrong
    if (r >= 0.95 && r < 0.97) delete labels.ns;
    const ns = { apiVersion: 'v1', kind: 'Namespace', metadata: { name, labels } as Record<string, unknown> };
    items.push({
      ...ns,
      metadata: realMetadata(rand, ns),
      spec: { finalizers: ['kubernetes'] },
      status: { phase: 'Active' },
    });
  }
  const nsSel = (n: string) => ({ matchLabels: { ns: n } });
  for (let i = 0; i < opts.policies; i++) {
    const home = pick(names);
    const peerNs = pick(names);
    const r = rand();
    const name = `policy-${i}`;
    if (r < 0.4) {
      items.push({
        apiVersion: 'networking.k8s.io/v1',
        kind: 'NetworkPolicy',
        metadata: { name, namespace: home },
        spec: {
          podSelector: { matchLabels: { app: 'web' } },
          policyTypes: ['Ingress', 'Egress'],
          ingress: [{ from: [{ namespaceSelector: nsSel(peerNs) }, { podSelector: { matchLabels: { app: 'api' } } }] }],
          egress: [
            {
              to: [
                { namespaceSelector: { matchLabels: { tenant: pick(tenants), env: 'prod' } } },
                { ipBlock: { cidr: '10.0.0.0/8' } },
              ],
            },
          ],
        },
      });
    } else if (r < 0.6) {
      items.push({
        apiVersion: 'cilium.io/v2',
        kind: 'CiliumNetworkPolicy',
        metadata: { name, namespace: home },
        spec: {
          endpointSelector: { matchLabels: { app: 'db' } },
          ingress: [{ fromEndpoints: [{ matchLabels: { 'io.cilium.k8s.namespace.labels.ns': peerNs } }, {}] }],
          egress: [{ toEntities: ['kube-apiserver'] }],
        },
      });
    } else if (r < 0.63) {
      items.push({
        apiVersion: 'cilium.io/v2',
        kind: 'CiliumClusterwideNetworkPolicy',
        metadata: { name },
        spec: {
          endpointSelector: { matchLabels: { 'io.cilium.k8s.namespace.labels.tenant': pick(tenants) } },
          ingress: [{ fromEndpoints: [{ matchLabels: { 'k8s:io.kubernetes.pod.namespace': peerNs } }] }],
        },
      });
    } else if (r < 0.8) {
      items.push({
        apiVersion: 'projectcalico.org/v3',
        kind: 'NetworkPolicy',
        metadata: { name, namespace: home },
        spec: {
          selector: "app == 'api'",
          ingress: [
            {
              action: 'Allow',
              source: { namespaceSelector: `ns == '${peerNs}' || env in {'prod'} && tenant == '${pick(tenants)}'` },
            },
          ],
        },
      });
    } else if (r < 0.83) {
      items.push({
        apiVersion: 'crd.projectcalico.org/v1',
        kind: 'GlobalNetworkPolicy',
        metadata: { name },
        spec: {
          namespaceSelector: `tenant == '${pick(tenants)}' && has(ns)`,
          types: ['Egress'],
          egress: [
            { action: 'Allow', destination: { namespaceSelector: "kubernetes.io/metadata.name == 'kube-system'" } },
          ],
        },
      });
    } else if (r < 0.85) {
      items.push({
        apiVersion: 'policy.networking.k8s.io/v1alpha1',
        kind: 'AdminNetworkPolicy',
        metadata: { name },
        spec: {
          priority: Math.floor(rand() * 1000),
          subject: { namespaces: { matchLabels: { tenant: pick(tenants) } } },
          ingress: [
            {
              action: 'Deny',
              from: [
                { namespaces: { matchExpressions: [{ key: 'tenant', operator: 'NotIn', values: [pick(tenants)] }] } },
              ],
            },
          ],
        },
      });
    } else {
      items.push({
        apiVersion: 'security.istio.io/v1',
        kind: 'AuthorizationPolicy',
        metadata: { name, namespace: home },
        spec: {
          action: 'ALLOW',
          rules: [{ from: [{ source: { namespaces: [peerNs, `${pick(names).slice(0, -2)}*`] } }] }],
        },
      });
    }
  }
  for (let i = opts.namespaces; i < items.length; i++) {
    const obj = items[i] as { apiVersion: string; kind: string; metadata: Record<string, unknown>; spec?: unknown };
    items[i] = { ...obj, metadata: realMetadata(rand, obj) };
  }
  return { apiVersion: 'v1', kind: 'List', items };
}

export async function writeCluster(file: string, opts: GenerateOptions): Promise<void> {
  await writeFile(file, JSON.stringify(generateCluster(opts)));
}

if (process.argv[1]?.endsWith('generate.ts')) {
  const [file, n, p] = process.argv.slice(2);
  if (!file || !n || !p) {
    process.stderr.write('usage: tsx bench/generate.ts FILE NAMESPACES POLICIES\n');
    process.exit(2);
  }
  await writeCluster(file, { namespaces: Number(n), policies: Number(p) });
}
