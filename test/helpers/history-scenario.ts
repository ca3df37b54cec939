/**
 * The `shop` cluster of the demo as builders: namespaces from a label map, the same policies every
 * day (a Cilium policy in `monitoring` that lets Prometheus reach `ns=team-a` and `ns=team-b`, a
 * Calico DNS guard rail for every labelled namespace but the sandbox, default-deny for the teams),
 * and runs recorded through the real scan pipeline.
 */
import { stringify } from 'yaml';
import {
  DEFAULT_AUDIT_SETTINGS,
  evaluateCluster,
  observeCluster,
  type ClusterObservation,
  type ClusterSnapshot,
  type KindRead,
  type Labels,
} from '../../lambda/audit/index.js';
import type { Clock, ClusterSource, Store } from '../../lambda/ports.js';
import { scanClusters, type ClusterRun } from '../../lambda/scan.js';
import { snapshotOfText } from './fixtures.js';

export const SHOP_POLICIES = `
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: { name: default-deny, namespace: team-a }
spec: { podSelector: {}, policyTypes: [Ingress, Egress] }
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: { name: default-deny, namespace: team-b }
spec: { podSelector: {}, policyTypes: [Ingress, Egress] }
---
apiVersion: cilium.io/v2
kind: CiliumNetworkPolicy
metadata: { name: allow-teams, namespace: monitoring }
spec:
  endpointSelector: { matchLabels: { app: prometheus } }
  egress:
    - toEndpoints:
        - matchLabels: { io.cilium.k8s.namespace.labels.ns: team-a }
        - matchLabels: { io.cilium.k8s.namespace.labels.ns: team-b }
---
apiVersion: projectcalico.org/v3
kind: GlobalNetworkPolicy
metadata: { name: allow-dns }
spec:
  namespaceSelector: has(ns) && ns != "sandbox"
  types: [Egress]
  egress:
    - action: Allow
      protocol: UDP
      destination:
        namespaceSelector: kubernetes.io/metadata.name == "kube-system"
        selector: k8s-app == "kube-dns"
`;

/** Day 1 of the demo: every team namespace labelled. */
export const DAY1: Readonly<Record<string, Labels>> = {
  'team-a': { ns: 'team-a', tenant: 'payments' },
  'team-b': { ns: 'team-b', tenant: 'payments' },
  monitoring: { ns: 'monitoring' },
  sandbox: { ns: 'sandbox' },
  'kube-system': {},
};

export function namespacesYaml(namespaces: Readonly<Record<string, Labels>>): string {
  return Object.entries(namespaces)
    .map(([name, labels]) => stringify({ apiVersion: 'v1', kind: 'Namespace', metadata: { name, labels } }))
    .join('---\n');
}

export function shopSnapshot(
  namespaces: Readonly<Record<string, Labels>>,
  options: { cluster?: string; policies?: string } = {},
): ClusterSnapshot {
  return snapshotOfText(
    `${namespacesYaml(namespaces)}---\n${options.policies ?? SHOP_POLICIES}`,
    options.cluster ?? 'shop',
    'shop.yaml',
  );
}

/** The same snapshot with some reads marked incomplete (and, for namespaces, only some of them returned). */
export function partial(
  snapshot: ClusterSnapshot,
  reads: readonly KindRead[],
  changes: { namespaces?: readonly string[] | null; dropKinds?: readonly string[] } = {},
): ClusterSnapshot {
  const keep = changes.namespaces;
  return {
    ...snapshot,
    namespaces:
      keep === null
        ? null
        : keep === undefined
          ? snapshot.namespaces
          : (snapshot.namespaces ?? []).filter((n) => keep.includes(n.name)),
    objects: snapshot.objects.filter((o) => !(changes.dropKinds ?? []).includes(o.kind)),
    reads: [...snapshot.reads, ...reads],
  };
}

export const SETTINGS = { ...DEFAULT_AUDIT_SETTINGS, now: '2026-03-01T06:00:00.000Z' };
export const SELECTION = { engines: DEFAULT_AUDIT_SETTINGS.engines, synthesizeNameLabel: true };

export function observe(snapshot: ClusterSnapshot): ClusterObservation {
  return observeCluster(snapshot, evaluateCluster(snapshot, SETTINGS));
}

export function sourceOf(
  snapshot: ClusterSnapshot | (() => ClusterSnapshot | Promise<ClusterSnapshot>),
): ClusterSource {
  const read = typeof snapshot === 'function' ? snapshot : () => snapshot;
  const first = typeof snapshot === 'function' ? 'shop' : snapshot.cluster;
  return { cluster: first, read: async () => read() };
}

/** A clock that says what it is told. */
export function createTestClock(
  start = '2026-03-01T06:00:00.000Z',
): Clock & { set(iso: string): void; advance(ms: number): void } {
  let now = Date.parse(start);
  return {
    now: () => new Date(now),
    set: (iso) => {
      now = Date.parse(iso);
    },
    advance: (ms) => {
      now += ms;
    },
  };
}

/** One run of one cluster, recorded through the scan pipeline. */
export async function recordRun(
  store: Store,
  snapshot: ClusterSnapshot,
  runId: string,
  clock: Clock = createTestClock(runId),
): Promise<ClusterRun> {
  const scan = await scanClusters(
    {
      sources: [sourceOf(snapshot)],
      clock,
      recording: { store, runId, configHash: 'test-config', toolVersion: 'test' },
    },
    DEFAULT_AUDIT_SETTINGS,
  );
  return scan.clusters[0]!;
}

/** `day(2)` is 2026-03-02T06:00:00.000Z. */
export function day(n: number): string {
  return new Date(Date.UTC(2026, 2, n, 6)).toISOString();
}
