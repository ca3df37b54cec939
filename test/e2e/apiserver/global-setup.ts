/**
 * Makes sure kube-apiserver and etcd are built before any e2e file starts one: build.sh returns at
 * once when the binaries are cached, and builds them (for many minutes, on a fresh machine) when not.
 */
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export default function setup(): void {
  if (process.env.LABELGUARD_K8S_BIN_DIR) return;
  const script = join(dirname(fileURLToPath(import.meta.url)), 'build.sh');
  const result = spawnSync('bash', [script], { stdio: ['ignore', 'inherit', 'inherit'] });
  if (result.status !== 0) throw new Error(`${script} failed (exit ${String(result.status ?? result.signal)})`);
}
