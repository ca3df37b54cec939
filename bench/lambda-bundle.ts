/**
 * The Lambda bundle benchmark: builds the function exactly as `cdk synth` does (the stack's own
 * NodejsFunction, esbuild locally) and measures, side by side in one run:
 *   - the bundle: `index.mjs` bytes (minified), gzip, source map, and what takes the space (by package);
 *   - the handler module's import time: fresh `node` processes each `import()` the bundle; wall
 *     clock and CPU time (user + system) of the import alone, median of the runs.
 *
 *   npx tsx bench/lambda-bundle.ts [--runs N]    (default 9 runs; results in bench/out/lambda-bundle.json)
 *
 * Targets: at most 1.5 MB minified; the import in under 300 ms.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { App } from 'aws-cdk-lib';
import { readDeployConfig } from '../infra/deploy-config.js';
import { LabelguardStack } from '../infra/labelguard-stack.js';

const OUT = fileURLToPath(new URL('./out/', import.meta.url));
const CONFIG = fileURLToPath(new URL('../infra/examples/labelguard.config.yaml', import.meta.url));
const SIZE_TARGET = 1_500_000;
const IMPORT_TARGET_MS = 300;
const runsArg = process.argv.indexOf('--runs');
const RUNS = runsArg > 0 ? Number(process.argv[runsArg + 1]) : 9;

interface Metafile {
  readonly outputs: Record<
    string,
    { readonly bytes: number; readonly inputs: Record<string, { readonly bytesInOutput: number }> }
  >;
}

function build(dir: string): { assetDir: string; buildSeconds: number } {
  const { config, deploy } = readDeployConfig(CONFIG);
  const app = new App({ outdir: join(dir, 'cdk.out') });
  new LabelguardStack(app, deploy.stackName, { config, deploy, bundleMetafile: true, env: { region: 'eu-west-1' } });
  const started = process.hrtime.bigint();
  app.synth();
  const buildSeconds = Number(process.hrtime.bigint() - started) / 1e9;
  const assetDir = readdirSync(join(dir, 'cdk.out')).find((f) => f.startsWith('asset.'));
  if (assetDir === undefined) throw new Error('no asset in the cloud assembly');
  return { assetDir: join(dir, 'cdk.out', assetDir), buildSeconds };
}

/** Bytes in the bundle by package (or `labelguard` for our own code). */
function byPackage(meta: Metafile): [string, number][] {
  const output = Object.entries(meta.outputs).find(([name]) => name.endsWith('index.mjs'))?.[1];
  const sizes = new Map<string, number>();
  for (const [file, { bytesInOutput }] of Object.entries(output?.inputs ?? {})) {
    const inModules = file.split('node_modules/').pop() ?? file;
    const key = file.includes('node_modules/')
      ? inModules
          .split('/')
          .slice(0, inModules.startsWith('@') ? 2 : 1)
          .join('/')
      : 'labelguard (lambda/)';
    sizes.set(key, (sizes.get(key) ?? 0) + bytesInOutput);
  }
  return [...sizes].sort((a, b) => b[1] - a[1]);
}

/**
 * One fresh process importing the bundle: [wall ms, CPU ms] of the import alone. With source maps
 * enabled, as the function runs (NODE_OPTIONS=--enable-source-maps), Node also reads the map.
 */
function importOnce(bundle: string, sourceMaps = true): [number, number] {
  const script = `
    const t = process.hrtime.bigint(); const c = process.cpuUsage();
    await import(${JSON.stringify(bundle)});
    const d = process.cpuUsage(c);
    process.stdout.write(JSON.stringify([Number(process.hrtime.bigint() - t) / 1e6, (d.user + d.system) / 1e3]));`;
  const r = spawnSync(
    process.execPath,
    [...(sourceMaps ? ['--enable-source-maps'] : []), '--input-type=module', '-e', script],
    {
      encoding: 'utf8',
      env: { ...process.env, AWS_REGION: 'eu-west-1', NODE_OPTIONS: '' },
    },
  );
  if (r.status !== 0) throw new Error(`importing the bundle failed: ${r.stderr}`);
  return JSON.parse(r.stdout) as [number, number];
}

const median = (values: readonly number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? NaN;
};

const dir = mkdtempSync(join(tmpdir(), 'labelguard-bundle-'));
try {
  const { assetDir, buildSeconds } = build(dir);
  const bundle = join(assetDir, 'index.mjs');
  const code = readFileSync(bundle);
  const meta = JSON.parse(readFileSync(join(assetDir, 'index.meta.json'), 'utf8')) as Metafile;
  const packages = byPackage(meta);

  importOnce(bundle); // warm the file system cache
  // Interleaved, so machine load affects both alike.
  const samples: [number, number][] = [];
  const plain: [number, number][] = [];
  for (let i = 0; i < RUNS; i++) {
    samples.push(importOnce(bundle));
    plain.push(importOnce(bundle, false));
  }
  const wall = median(samples.map((s) => s[0]));
  const cpu = median(samples.map((s) => s[1]));
  const load = readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');

  const result = {
    node: process.version,
    loadAverage: load,
    buildSeconds: Math.round(buildSeconds * 10) / 10,
    bundleBytes: code.length,
    gzipBytes: gzipSync(code).length,
    sourceMapBytes: statSync(`${bundle}.map`).size,
    configBytes: statSync(join(assetDir, 'labelguard.config.json')).size,
    importMs: {
      wallMedian: Math.round(wall),
      cpuMedian: Math.round(cpu),
      withoutSourceMaps: {
        wallMedian: Math.round(median(plain.map((s) => s[0]))),
        cpuMedian: Math.round(median(plain.map((s) => s[1]))),
      },
      runs: RUNS,
      samples,
    },
    packages: packages.slice(0, 15).map(([name, bytes]) => ({ name, bytes })),
    targets: {
      bundle: { limit: SIZE_TARGET, met: code.length <= SIZE_TARGET },
      importMs: { limit: IMPORT_TARGET_MS, metWall: wall < IMPORT_TARGET_MS, metCpu: cpu < IMPORT_TARGET_MS },
    },
  };
  mkdirSync(OUT, { recursive: true });
  writeFileSync(join(OUT, 'lambda-bundle.json'), `${JSON.stringify(result, null, 2)}\n`);

  const kb = (n: number): string => `${(n / 1000).toFixed(0)} kB`;
  const lines = [
    `node ${process.version}, load average ${load}, bundle built in ${result.buildSeconds} s`,
    '',
    `bundle (index.mjs, minified)  ${kb(result.bundleBytes).padStart(8)}   target ≤ ${kb(SIZE_TARGET)}: ${result.targets.bundle.met ? 'met' : 'NOT met'}`,
    `  gzip                        ${kb(result.gzipBytes).padStart(8)}`,
    `  source map                  ${kb(result.sourceMapBytes).padStart(8)}`,
    `handler import, median of ${RUNS}  wall ${String(result.importMs.wallMedian).padStart(4)} ms, CPU ${String(result.importMs.cpuMedian).padStart(4)} ms   target < ${IMPORT_TARGET_MS} ms: wall ${result.targets.importMs.metWall ? 'met' : 'NOT met'}, CPU ${result.targets.importMs.metCpu ? 'met' : 'NOT met'}`,
    `  without --enable-source-maps  wall ${String(result.importMs.withoutSourceMaps.wallMedian).padStart(4)} ms, CPU ${String(result.importMs.withoutSourceMaps.cpuMedian).padStart(4)} ms`,
    '',
    'largest parts:',
    ...result.packages.map(
      (p) =>
        `  ${p.name.padEnd(36)} ${kb(p.bytes).padStart(8)}  ${((100 * p.bytes) / result.bundleBytes).toFixed(0).padStart(3)}%`,
    ),
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
