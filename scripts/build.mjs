// Bundles the CLI with esbuild into dist/cli (code-split, so each command loads only what it needs).
import { rm } from 'node:fs/promises';
import { build } from 'esbuild';

// Chunk names change with their content: start clean so old chunks do not pile up.
await rm('dist/cli', { recursive: true, force: true });

await build({
  entryPoints: { main: 'lambda/cli/main.ts' },
  outdir: 'dist/cli',
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  minify: true,
  sourcemap: true,
  packages: 'bundle',
  external: ['@aws-sdk/*', '@smithy/*', '@kubernetes/client-node', '@slack/web-api', 'dynalite'],
  banner: {
    js: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);",
  },
  logLevel: 'warning',
});
