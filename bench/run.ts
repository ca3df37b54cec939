/**
 * The scan benchmark: labelguard's full scan (every rule and engine) against `jq` running the
 * label-only audit on the same dump, side by side in one run, plus start-up time and scaling.
 *
 *   npm run bench            # 10k/2k and 100k/10k (takes a few minutes)
 *   npm run bench -- --quick # 2k/400 and 20k/4k
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { writeCluster } from './generate.js';

const OUT = new URL('./out/', import.meta.url).pathname;
const CLI = ['--import', new URL('./max-rss.mjs', import.meta.url).pathname, 'dist/cli/main.js'];
const JQ_AUDIT = '.items[] | select(.kind == "Namespace" and .metadata.labels.ns == null) | .metadata.name';
const quick = process.argv.includes('--quick');
const REPEAT = Number(process.env.BENCH_REPEAT ?? 3);

interface Timing {
  readonly seconds: number;
  readonly rss: number;
}

function run(cmd: string, args: string[], out: string): Timing {
  const rssFile = join(OUT, 'rss');
  rmSync(rssFile, { force: true });
  const start = process.hrtime.bigint();
  const r = spawnSync(cmd, [...args], {
    stdio: ['ignore', 'ignore', 'pipe'],
    maxBuffer: 2 ** 31 - 1,
    env: { ...process.env, LABELGUARD_BENCH_RSS_FILE: rssFile, NO_COLOR: '1' },
  });
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  if (r.status !== 0 && r.status !== 1)
    throw new Error(`${cmd} ${args.join(' ')} exited ${r.status}: ${String(r.stderr).slice(0, 500)}`);
  if (out) void out;
  return { seconds, rss: existsSync(rssFile) ? Number(readFileSync(rssFile, 'utf8')) : NaN };
}

/** Median of REPEAT runs, runs interleaved by the caller so load affects both sides alike. */
function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

const fmt = (s: number): string => `${s.toFixed(3)} s`;
const mib = (b: number): string => (Number.isNaN(b) ? 'n/a' : `${(b / 2 ** 20).toFixed(0)} MiB`);

async function main(): Promise<void> {
  mkdirSync(OUT, { recursive: true });
  if (!existsSync('dist/cli/main.js')) throw new Error('build first: npm run build');
  const sizes = quick
    ? [
        { namespaces: 2_000, policies: 400 },
        { namespaces: 20_000, policies: 4_000 },
      ]
    : [
        { namespaces: 10_000, policies: 2_000 },
        { namespaces: 100_000, policies: 10_000 },
      ];
  const rows: string[] = [];
  const results: { size: (typeof sizes)[number]; table: number; json: number; jq: number; rss: number }[] = [];
  for (const size of sizes) {
    const file = join(OUT, `cluster-${size.namespaces}-${size.policies}.json`);
    if (!existsSync(file)) await writeCluster(file, size);
    const mb = statSync(file).size / 2 ** 20;
    const table: number[] = [];
    const json: number[] = [];
    const jq: number[] = [];
    let rss = 0;
    for (let i = 0; i < REPEAT; i++) {
      const t = run('node', [...CLI, 'scan', '--no-store', '--manifests', file, '--fail-on', 'none'], '');
      table.push(t.seconds);
      rss = Math.max(rss, t.rss);
      const j = run(
        'node',
        [...CLI, 'scan', '--no-store', '--manifests', file, '--format', 'json', '--fail-on', 'none'],
        '',
      );
      json.push(j.seconds);
      rss = Math.max(rss, j.rss);
      jq.push(run('jq', ['-r', JQ_AUDIT, file], '').seconds);
    }
    const r = { size, table: median(table), json: median(json), jq: median(jq), rss };
    results.push(r);
    rows.push(
      `| ${size.namespaces.toLocaleString('en')} ns × ${size.policies.toLocaleString('en')} policies (${mb.toFixed(0)} MiB) | ${fmt(r.table)} | ${fmt(r.json)} | ${fmt(r.jq)} | ${(r.table / r.jq).toFixed(2)} | ${(r.json / r.jq).toFixed(2)} | ${mib(r.rss)} |`,
    );
  }
  const help: number[] = [];
  for (let i = 0; i < 10; i++) help.push(run('node', ['bin/labelguard.js', '--help'], '').seconds);

  const out = [
    `labelguard scan vs jq label-only audit (median of ${REPEAT}, interleaved, same dump; ratio < 1 means labelguard is faster)`,
    '',
    '| dump | labelguard (table) | labelguard (json) | jq audit | table / jq | json / jq | peak RSS |',
    '| --- | --- | --- | --- | --- | --- | --- |',
    ...rows,
    '',
  ];
  if (results.length === 2) {
    const [a, b] = results as [(typeof results)[0], (typeof results)[0]];
    out.push(
      `scaling ${b.size.namespaces / a.size.namespaces}× input: table ${(b.table / a.table).toFixed(2)}× time, json ${(b.json / a.json).toFixed(2)}× time, jq ${(b.jq / a.jq).toFixed(2)}× time`,
    );
  }
  out.push(`labelguard --help: ${(median(help) * 1000).toFixed(0)} ms (median of 10)`);
  process.stdout.write(`${out.join('\n')}\n`);
}

await main();
