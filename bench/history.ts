/**
 * The history benchmark, on the embedded store (dynalite in this process, data on disk):
 *
 *   A. write requests of 10 runs over an unchanged 10,000-namespace cluster (issue 4: at most
 *      3 a run after the first, whatever the size);
 *   B. the time of `history` and `report --at` over a year of daily runs of a 1,000-namespace
 *      cluster with 1% daily churn.
 *
 *   npx tsx bench/history.ts            # both (about a minute)
 *   npx tsx bench/history.ts --quick    # 2,000 namespaces in A, 90 days in B
 *
 * Figures go to stdout as Markdown (bench/README-history.md holds the latest).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  buildScanReport,
  DEFAULT_AUDIT_SETTINGS,
  type ClusterSnapshot,
  type Namespace,
  type ResourceObject,
} from '../lambda/audit/index.js';
import { openEmbeddedStore, type EmbeddedStore } from '../lambda/adapters/embedded-store/embedded-store.js';
import type { Clock } from '../lambda/ports.js';
import { formatJson } from '../lambda/report/json.js';
import { recordedResult, scanClusters } from '../lambda/scan.js';
import { rng } from './generate.js';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

const quick = process.argv.includes('--quick');
const WRITES = new Set(['PutItemCommand', 'UpdateItemCommand', 'DeleteItemCommand', 'BatchWriteItemCommand']);
const DAY_MS = 86_400_000;
const START = Date.UTC(2025, 0, 1, 6);

const name = (i: number): string => `ns-${String(i).padStart(5, '0')}`;

/** Namespaces labelled `ns=<name>`, `team`, `tier`; one NetworkPolicy per team admitting its namespaces, a Calico and a Cilium rule. */
function snapshot(cluster: string, namespaces: readonly Namespace[]): ClusterSnapshot {
  const teams = 50;
  const objects: ResourceObject[] = [];
  for (let t = 0; t < teams; t++) {
    const ns = name(t);
    const body = {
      apiVersion: 'networking.k8s.io/v1',
      kind: 'NetworkPolicy',
      metadata: { name: `allow-team-${t}`, namespace: ns },
      spec: {
        podSelector: {},
        policyTypes: ['Ingress'],
        ingress: [{ from: [{ namespaceSelector: { matchLabels: { team: `team-${t}` } } }] }],
      },
    };
    objects.push({ apiVersion: body.apiVersion, kind: body.kind, name: body.metadata.name, namespace: ns, body });
  }
  const dns = {
    apiVersion: 'projectcalico.org/v3',
    kind: 'GlobalNetworkPolicy',
    metadata: { name: 'allow-dns' },
    spec: {
      namespaceSelector: 'has(ns) && tier != "sandbox"',
      types: ['Egress'],
      egress: [{ action: 'Allow', destination: { namespaceSelector: 'kubernetes.io/metadata.name == "kube-system"' } }],
    },
  };
  objects.push({ apiVersion: dns.apiVersion, kind: dns.kind, name: 'allow-dns', namespace: null, body: dns });
  const scrape = {
    apiVersion: 'cilium.io/v2',
    kind: 'CiliumNetworkPolicy',
    metadata: { name: 'allow-scrape', namespace: name(0) },
    spec: {
      endpointSelector: {},
      egress: [{ toEndpoints: [{ matchLabels: { 'io.cilium.k8s.namespace.labels.tier': 'gold' } }] }],
    },
  };
  objects.push({
    apiVersion: scrape.apiVersion,
    kind: scrape.kind,
    name: 'allow-scrape',
    namespace: name(0),
    body: scrape,
  });
  return {
    cluster,
    namespaces,
    objects,
    reads: [
      { resource: 'namespaces', status: 'complete' },
      { resource: 'policies', status: 'complete' },
    ],
    problems: [],
  };
}

function namespaces(n: number): Namespace[] {
  return Array.from({ length: n }, (_, i) => ({
    name: name(i),
    labels: { ns: name(i), team: `team-${i % 50}`, tier: ['gold', 'silver', 'bronze'][i % 3]! },
  }));
}

const clockAt = (iso: string): Clock => ({ now: () => new Date(iso) });
const dayOf = (d: number): string => new Date(START + d * DAY_MS).toISOString();

async function withStore<T>(work: (store: EmbeddedStore) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), 'labelguard-bench-history-'));
  const store = await openEmbeddedStore({ dir, retentionDays: 400, clock: clockAt(dayOf(400)) });
  try {
    return await work(store);
  } finally {
    await store.close();
    await rm(dir, { recursive: true, force: true });
  }
}

function countWrites(store: EmbeddedStore): { take(): Record<string, number> } {
  let counts: Record<string, number> = {};
  store.client.middlewareStack.add(
    (next, context) => (args) => {
      const command = String(context.commandName);
      if (WRITES.has(command)) counts[command] = (counts[command] ?? 0) + 1;
      return next(args);
    },
    { step: 'initialize', name: 'benchCountWrites' },
  );
  return {
    take: () => {
      const out = counts;
      counts = {};
      return out;
    },
  };
}

async function record(store: EmbeddedStore, snap: ClusterSnapshot, runId: string): Promise<void> {
  const scan = await scanClusters(
    {
      sources: [{ cluster: snap.cluster, read: () => Promise.resolve(snap) }],
      clock: clockAt(runId),
      recording: { store: store.store, runId, configHash: 'bench', toolVersion: 'bench' },
    },
    DEFAULT_AUDIT_SETTINGS,
  );
  const run = scan.clusters[0]!;
  if (run.recording.status !== 'recorded')
    throw new Error(`run ${runId} was not recorded: ${JSON.stringify(run.recording)}`);
}

async function time<T>(work: () => Promise<T>, repeat = 5): Promise<{ ms: number; value: T }> {
  const samples: number[] = [];
  let value!: T;
  for (let i = 0; i < repeat; i++) {
    const start = performance.now();
    value = await work();
    samples.push(performance.now() - start);
  }
  samples.sort((a, b) => a - b);
  return { ms: samples[Math.floor(samples.length / 2)]!, value };
}

async function unchangedRuns(size: number): Promise<string[]> {
  return withStore(async (store) => {
    const writes = countWrites(store);
    const snap = snapshot('big', namespaces(size));
    const rows: string[] = [];
    for (let run = 1; run <= 10; run++) {
      const start = performance.now();
      await record(store, snap, dayOf(run));
      const seconds = (performance.now() - start) / 1000;
      const counts = writes.take();
      const total = Object.values(counts).reduce((a, b) => a + b, 0);
      const detail = Object.entries(counts)
        .map(([k, v]) => `${k.replace('Command', '')} ${v}`)
        .join(', ');
      rows.push(`| ${run} | ${total} | ${detail} | ${seconds.toFixed(2)} s |`);
    }
    return rows;
  });
}

async function year(size: number, days: number): Promise<string[]> {
  return withStore(async (store) => {
    const rand = rng(42);
    const current = namespaces(size);
    const seedStart = performance.now();
    for (let d = 0; d < days; d++) {
      if (d > 0) {
        // 1% churn: a tenth loses or regains its `ns` label, the rest move team or tier.
        for (let k = 0; k < Math.max(1, Math.round(size / 100)); k++) {
          const i = Math.floor(rand() * size);
          const ns = current[i]!;
          const labels: Record<string, string> = { ...ns.labels };
          const roll = rand();
          if (roll < 0.1) {
            if ('ns' in labels) delete labels.ns;
            else labels.ns = ns.name;
          } else if (roll < 0.55) labels.team = `team-${Math.floor(rand() * 50)}`;
          else labels.tier = ['gold', 'silver', 'bronze', 'sandbox'][Math.floor(rand() * 4)]!;
          current[i] = { name: ns.name, labels: labels };
        }
      }
      await record(store, snapshot('year', [...current]), dayOf(d));
    }
    const seedSeconds = (performance.now() - seedStart) / 1000;
    const mid = dayOf(Math.floor(days / 2) + 0.25);
    const last = dayOf(days - 1);
    const s = store.store;

    const history = await time(() => s.history({ cluster: 'year' }));
    const historyNs = await time(() => s.history({ cluster: 'year', namespace: name(7) }));
    const history30 = await time(() => s.history({ cluster: 'year', since: dayOf(days - 30) }));
    const reportAt = await time(async () => {
      const state = await s.stateAt('year', mid);
      const report = buildScanReport([recordedResult(state!.run, state!.state)], state!.run.runId, {
        includePolicies: true,
      });
      return formatJson(report).length;
    });
    const reportHtmlInputs = await time(async () => {
      await s.stateAt('year', last);
      await s.runs('year', { since: dayOf(days - 90), until: last });
      await s.history({ cluster: 'year', since: dayOf(days - 90), until: last });
      return (await s.verify('year')).ok;
    });
    const verify = await time(() => s.verify('year'));
    return [
      `Seeded ${days} daily runs of ${size} namespaces (${Math.max(1, Math.round(size / 100))} changed a day) in ${seedSeconds.toFixed(1)} s; chain intact: ${verify.value.ok}.`,
      '',
      '| query | result | median of 5 |',
      '| --- | --- | ---: |',
      `| \`history --cluster year\` (the whole year) | ${history.value.length} entries | ${history.ms.toFixed(0)} ms |`,
      `| \`history --cluster year --namespace ${name(7)}\` | ${historyNs.value.length} entries | ${historyNs.ms.toFixed(0)} ms |`,
      `| \`history --cluster year --since <30 days ago>\` | ${history30.value.length} entries | ${history30.ms.toFixed(0)} ms |`,
      `| \`report --at <mid-year> --format json\` (rebuild + format) | ${(reportAt.value / 1024).toFixed(0)} KiB of JSON | ${reportAt.ms.toFixed(0)} ms |`,
      `| \`report --format html\` inputs (state, 90 days of runs and drift, verify) | chain intact: ${String(reportHtmlInputs.value)} | ${reportHtmlInputs.ms.toFixed(0)} ms |`,
      `| \`verify --cluster year\` | ${verify.value.runs} runs | ${verify.ms.toFixed(0)} ms |`,
    ];
  });
}

async function main(): Promise<void> {
  const size = quick ? 2_000 : 10_000;
  const days = quick ? 90 : 365;
  const out: string[] = [
    `## A. Write requests: 10 runs over an unchanged ${size.toLocaleString('en')}-namespace cluster`,
    '',
  ];
  out.push(
    '| run | write requests | by operation | time |',
    '| ---: | ---: | --- | ---: |',
    ...(await unchangedRuns(size)),
  );
  out.push('', `## B. A year of daily runs: ${(1000).toLocaleString('en')} namespaces, 1% daily churn`, '');
  out.push(...(await year(1000, days)));
  process.stdout.write(`${out.join('\n')}\n`);
}

await main();
