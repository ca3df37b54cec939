/**
 * Live-cluster benchmark: 20 clusters × 2,000 namespaces (200 NetworkPolicies, Cilium and Kyverno
 * installed), every API request answered 50 ms late, read through labelguard's Kubernetes client
 * from local HTTPS API servers (HTTP/2, as API servers offer).
 *
 *   1. Each cluster read alone, one after the other: the slowest is the baseline.
 *   2. All 20 read at once (runScan, concurrency 20): wall time, and its ratio to the baseline.
 *   3. Memory: 20 clusters scanned one at a time as `scan --format json` does (each run spooled as
 *      it finishes and let go: retain 'summary'), heap measured after a full GC after each cluster
 *      (it should stay flat); then through runScan, which keeps every ClusterResult (the difference
 *      is what the results themselves hold).
 *
 * The API servers run in a child process (`--serve`), so their TLS and JSON work does not share
 * labelguard's event loop. Run: `npx tsx bench/live-clusters.ts` (BENCH_CLUSTERS, BENCH_NAMESPACES,
 * BENCH_LATENCY_MS, BENCH_REPEAT override the sizes).
 */
import { spawn } from 'node:child_process';
import { availableParallelism, loadavg } from 'node:os';
import { createInterface } from 'node:readline';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { kubeconfigFromText } from '../lambda/adapters/kube/kubeconfig.js';
import { createKubeconfigSource } from '../lambda/adapters/kube/source.js';
import { DEFAULT_AUDIT_SETTINGS } from '../lambda/audit/index.js';
import { createJsonReportSpool } from '../lambda/cli/json-stream.js';
import type { ClusterSource } from '../lambda/ports.js';
import { runScan, scanClusters } from '../lambda/scan.js';
import { generatedObjects, kubeconfigYaml, startKubeApiServer } from '../test/helpers/kube-api-server.js';

const CLUSTERS = Number(process.env.BENCH_CLUSTERS ?? 20);
const NAMESPACES = Number(process.env.BENCH_NAMESPACES ?? 2000);
const LATENCY_MS = Number(process.env.BENCH_LATENCY_MS ?? 50);
const REPEAT = Number(process.env.BENCH_REPEAT ?? 3);
/** One default-deny NetworkPolicy in every POLICY_EVERY-th namespace (200 policies for 2,000 namespaces). */
const POLICY_EVERY = Number(process.env.BENCH_POLICY_EVERY ?? 10);
/** Whether the servers send namespace lists as protobuf when asked (as API servers do); 0: JSON only. */
const PROTOBUF = process.env.BENCH_PROTOBUF !== '0';
/** Requests in flight per cluster (labelguard's default is 4). */
const IN_FLIGHT = Number(process.env.BENCH_IN_FLIGHT ?? 4);

interface Served {
  readonly name: string;
  readonly url: string;
  readonly caData: string;
}

if (process.argv.includes('--serve')) {
  // The child: start the API servers, say where they are, stay up until stdin closes.
  const objects = generatedObjects(NAMESPACES, { policyEvery: POLICY_EVERY });
  const servers = await Promise.all(
    Array.from({ length: CLUSTERS }, (_, i) =>
      startKubeApiServer({
        name: `c${String(i).padStart(2, '0')}`,
        objects,
        installed: ['cilium', 'kyverno'],
        latencyMs: LATENCY_MS,
        protobuf: PROTOBUF,
      }),
    ),
  );
  process.stdout.write(`${JSON.stringify(servers.map((s) => ({ name: s.name, url: s.url, caData: s.caData })))}\n`);
  process.stdin.resume();
  process.stdin.on('end', () => void Promise.all(servers.map((s) => s.close())).then(() => process.exit(0)));
} else {
  await main();
}

async function main(): Promise<void> {
  const child = spawn(process.execPath, ['--import', 'tsx', new URL(import.meta.url).pathname, '--serve'], {
    stdio: ['pipe', 'pipe', 'inherit'],
    env: process.env,
  });
  const served = await new Promise<Served[]>((resolve, reject) => {
    const lines = createInterface({ input: child.stdout });
    lines.once('line', (line) => resolve(JSON.parse(line) as Served[]));
    child.once('exit', (code) => reject(new Error(`the API servers exited (${code})`)));
  });
  try {
    await bench(served);
  } finally {
    child.stdin.end();
  }
}

async function bench(served: readonly Served[]): Promise<void> {
  const kubeConfig = kubeconfigFromText(
    kubeconfigYaml(served.map((s) => ({ context: s.name, server: s.url, caData: s.caData }))),
  );
  const sources = (readAhead = true): ClusterSource[] =>
    served.map((s) =>
      createKubeconfigSource({ kubeConfig, context: s.name, read: { maxInFlight: IN_FLIGHT, readAhead } }),
    );
  const gc = exposeGc();
  const now = new Date().toISOString();
  const clock = { now: () => new Date(now) };

  console.log(
    `labelguard live-cluster benchmark: ${CLUSTERS} clusters × ${NAMESPACES} namespaces, +${LATENCY_MS} ms per request, ` +
      `namespace lists as ${PROTOBUF ? 'protobuf' : 'JSON'}, Node ${process.version}`,
  );
  // Warm up (TLS, the client's modules, the JIT) on one cluster.
  await sources()[0]?.read();

  const rows: { alone: number; aloneWaiting: number; together: number; togetherEval: number; cpu: number }[] = [];
  for (let r = 0; r < REPEAT; r++) {
    // 1. Each alone; the slowest is the baseline. Also without reading pages ahead, for comparison.
    let aloneWaiting = 0;
    for (const source of sources(false)) {
      const t = performance.now();
      await source.read();
      aloneWaiting = Math.max(aloneWaiting, performance.now() - t);
    }
    let alone = 0;
    for (const source of sources()) {
      const t = performance.now();
      const snapshot = await source.read();
      alone = Math.max(alone, performance.now() - t);
      if (snapshot.namespaces?.length !== NAMESPACES)
        throw new Error(
          `${source.cluster}: read ${snapshot.namespaces?.length} namespaces: ${JSON.stringify(snapshot).slice(0, 2000)}`,
        );
    }
    // 2a. All at once, reads only (and the CPU time labelguard spent on them).
    let t = performance.now();
    const cpu0 = process.cpuUsage();
    const snapshots = await Promise.all(sources().map((s) => s.read()));
    const together = performance.now() - t;
    const used = process.cpuUsage(cpu0);
    const cpu = (used.user + used.system) / 1000;
    if (snapshots.some((s) => s.namespaces?.length !== NAMESPACES)) throw new Error('a concurrent read was incomplete');
    // 2b. All at once through runScan (read + evaluate), as `labelguard scan --concurrency 20` does.
    t = performance.now();
    const results = await runScan({ sources: sources(), clock, concurrency: CLUSTERS }, DEFAULT_AUDIT_SETTINGS);
    const togetherEval = performance.now() - t;
    if (results.some((x) => x.status !== 'complete')) throw new Error('a cluster was not complete');
    rows.push({ alone, aloneWaiting, together, togetherEval, cpu });
    console.log(
      `  run ${r + 1}: slowest alone ${ms(alone)} (${ms(aloneWaiting)} without reading ahead), ` +
        `all ${CLUSTERS} at once ${ms(together)} (ratio ${(together / alone).toFixed(2)}; ` +
        `labelguard CPU ${ms(cpu)}), with evaluation ${ms(togetherEval)} (ratio ${(togetherEval / alone).toFixed(2)})`,
    );
  }
  const med = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;
  const alone = med(rows.map((x) => x.alone));
  const together = med(rows.map((x) => x.together));
  const togetherEval = med(rows.map((x) => x.togetherEval));
  console.log(`\nmedian of ${REPEAT}:`);
  console.log(`  slowest single cluster read alone      ${ms(alone)}`);
  console.log(
    `    the same without reading ahead       ${ms(med(rows.map((x) => x.aloneWaiting)))}   (readAhead: false, pages one after the other)`,
  );
  console.log(
    `  all ${CLUSTERS} clusters read at once         ${ms(together)}   ratio ${(together / alone).toFixed(2)} (target ≤ 1.50)`,
  );
  console.log(
    `  all ${CLUSTERS} read and evaluated (runScan)  ${ms(togetherEval)}   ratio ${(togetherEval / alone).toFixed(2)}`,
  );
  const cpu = med(rows.map((x) => x.cpu));
  console.log(
    `  labelguard CPU for the ${CLUSTERS} reads        ${ms(cpu)}   (${(cpu / CLUSTERS).toFixed(0)} ms a cluster, all threads;` +
      ` on ${availableParallelism()} cores shared with the API servers)`,
  );
  console.log(
    `  machine: ${availableParallelism()} cores, load average ${loadavg()
      .map((x) => x.toFixed(1))
      .join(' ')}`,
  );

  // 3. Memory after each cluster.
  const heap = (): number => {
    gc();
    return process.memoryUsage().heapUsed;
  };
  // As `labelguard scan --format json` runs: each run spooled as it finishes, then let go.
  const streamed: number[] = [];
  const base = heap();
  const spool = await createJsonReportSpool(CLUSTERS);
  await scanClusters(
    {
      sources: sources(),
      clock,
      concurrency: 1,
      retain: 'summary',
      onRun: async (run, i) => {
        if (run.result.namespaces.length !== NAMESPACES) throw new Error('incomplete');
        await spool.add(run, i);
        streamed.push(heap() - base);
      },
    },
    DEFAULT_AUDIT_SETTINGS,
  );
  await spool.discard();
  const kept: number[] = [];
  const base2 = heap();
  await runScan(
    { sources: sources(), clock, concurrency: 1, onCluster: () => kept.push(heap() - base2) },
    DEFAULT_AUDIT_SETTINGS,
  );
  console.log(`\nheap after each cluster (after a full GC, relative to before the first), MB:`);
  console.log(`  streamed (retain: summary, JSON):  ${streamed.map(mb).join(' ')}`);
  console.log(`  runScan (keeps every result):     ${kept.map(mb).join(' ')}`);
  const slope = (xs: number[]): number => ((xs[xs.length - 1] ?? 0) - (xs[0] ?? 0)) / Math.max(1, xs.length - 1);
  console.log(`  growth per cluster: streamed ${mb(slope(streamed))} MB, kept ${mb(slope(kept))} MB`);
}

function exposeGc(): () => void {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as (() => void) | undefined;
  return () => {
    gc?.();
    gc?.();
  };
}

function ms(x: number): string {
  return `${Math.round(x)} ms`.padStart(8);
}

function mb(x: number): string {
  return (x / 1024 / 1024).toFixed(1);
}
