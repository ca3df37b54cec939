/**
 * Parity with the classic audit, against the same real server and with the same EKS credentials:
 *   kubectl get namespace -o json | jq -r '.items[] | select(.metadata.labels.ns == null) | .metadata.name'
 * names exactly the namespaces labelguard reports `label-missing` for `ns` (with `exclude: []`, since
 * labelguard skips kube-* by default and the one-liner does not).
 */
import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { scanJson } from './cli.js';
import { startControlPlane, type ControlPlane } from './harness.js';
import { createObjects, namespace } from './scenario.js';

const run = promisify(execFile);
const KUBECTL = process.env.KUBECTL ?? 'kubectl';
const JQ = process.env.JQ ?? 'jq';
const COUNT = 700;

/** Five shapes of namespace: no labels, ns="" (present, empty), another key only, ns set, NS (case differs). */
function labelsOf(i: number, name: string): Record<string, string> {
  switch (i % 5) {
    case 0:
      return {};
    case 1:
      return { ns: '' };
    case 2:
      return { team: 'ops' };
    case 3:
      return { ns: name };
    default:
      return { NS: name };
  }
}

describe('parity with kubectl | jq', () => {
  let cp: ControlPlane;
  let kubeconfigFile: string;

  beforeAll(async () => {
    cp = await startControlPlane();
    kubeconfigFile = join(cp.workDir, 'reader.kubeconfig');
    await createObjects(
      cp.admin,
      Array.from({ length: COUNT }, (_, i) => {
        const name = `parity-${String(i).padStart(3, '0')}`;
        return namespace(name, labelsOf(i, name));
      }),
      16,
    );
  });

  afterAll(async () => {
    await cp?.stop();
  });

  it('the namespaces without an ns label are the label-missing set for ns', async () => {
    await cp.writeKubeconfig(kubeconfigFile, { context: 'parity', token: cp.signToken() });

    const kubectl = await run(KUBECTL, ['--kubeconfig', kubeconfigFile, 'get', 'namespace', '-o', 'json'], {
      maxBuffer: 256 * 1024 * 1024,
    });
    const jsonFile = join(cp.workDir, 'namespaces.json');
    await writeFile(jsonFile, kubectl.stdout);
    const jq = await run(JQ, ['-r', '.items[] | select(.metadata.labels.ns == null) | .metadata.name', jsonFile]);
    const classic = jq.stdout
      .split('\n')
      .filter((l) => l !== '')
      .sort();

    const config = join(cp.workDir, 'parity.config.yaml');
    await writeFile(config, 'requiredLabels:\n  - key: ns\nexclude: []\n');
    const report = await scanJson(['--kubeconfig', kubeconfigFile, '--config', config]);
    expect(report.clusters[0]?.status).toBe('complete');
    const missing = report.findings
      .filter((f) => f.rule === 'label-missing')
      .map((f) => f.namespace)
      .sort();

    expect(missing).toEqual(classic);
    // Both saw every shape: 2 of 5 lack ns entirely, 1 of 5 has it only in another case, plus the
    // server's own namespaces (default, kube-system, kube-public, kube-node-lease).
    expect(classic.filter((n) => n.startsWith('parity-'))).toHaveLength((COUNT / 5) * 3);
    expect(classic).toEqual(expect.arrayContaining(['default', 'kube-system', 'kube-public', 'kube-node-lease']));
  });
});
