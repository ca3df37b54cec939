/** Which live sources a scan request yields: kubeconfig contexts, EKS specs, and the config's clusters. */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLiveSources, parseEksSpec } from '../../../lambda/adapters/kube/live-sources.js';
import { loadKubeconfigFiles } from '../../../lambda/adapters/kube/kubeconfig.js';
import { parseConfig } from '../../../lambda/config.js';
import { UsageError } from '../../../lambda/errors.js';
import { kubeconfigYaml } from '../../helpers/kube-api-server.js';

describe('createLiveSources', () => {
  let dir: string;
  let first: string;
  let second: string;
  const env = (paths: string[]) => ({ kubeconfigPaths: paths, home: '/nonexistent-home' });

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'labelguard-live-'));
    first = join(dir, 'first.yaml');
    second = join(dir, 'second.yaml');
    writeFileSync(
      first,
      kubeconfigYaml([
        { context: 'alpha', server: 'https://127.0.0.1:1' },
        { context: 'beta', server: 'https://127.0.0.1:2' },
      ]),
    );
    // Defines beta again (ignored: the first file wins) and gamma, and its own current context (ignored too).
    writeFileSync(
      second,
      kubeconfigYaml(
        [
          { context: 'beta', server: 'https://127.0.0.1:99' },
          { context: 'gamma', server: 'https://127.0.0.1:3' },
        ],
        'gamma',
      ),
    );
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const names = async (request: Parameters<typeof createLiveSources>[0]) =>
    (await createLiveSources(request)).map((s) => s.cluster);

  it('reads the current context by default, merging KUBECONFIG the way kubectl does', async () => {
    expect(
      await names({ currentContextByDefault: true, env: env([first, join(dir, 'missing.yaml'), second]) }),
    ).toEqual(['alpha']);
    expect(await names({ allContexts: true, env: env([first, second]) })).toEqual(['alpha', 'beta', 'gamma']);
    const merged = loadKubeconfigFiles([first, second]);
    expect(merged.getCluster('beta-cluster')?.server).toBe('https://127.0.0.1:2');
    expect(merged.getCurrentContext()).toBe('alpha');
  });

  it('--kubeconfig, --context (repeatable) and --all-contexts select contexts', async () => {
    expect(await names({ kubeconfig: second, env: env([first]) })).toEqual(['gamma']);
    expect(await names({ kubeconfig: first, contexts: ['beta', 'alpha', 'beta'], env: env([]) })).toEqual([
      'beta',
      'alpha',
    ]);
    await expect(names({ kubeconfig: first, contexts: ['delta'], env: env([]) })).rejects.toThrow(
      'no such kubeconfig context: delta (defined: alpha, beta)',
    );
    await expect(
      names({ kubeconfig: first, contexts: ['alpha'], allContexts: true, env: env([]) }),
    ).rejects.toBeInstanceOf(UsageError);
    await expect(names({ kubeconfig: join(dir, 'nope.yaml'), env: env([]) })).rejects.toThrow(
      'no such kubeconfig file',
    );
  });

  it('says what to give when there is nothing to scan and no kubeconfig', async () => {
    await expect(names({ currentContextByDefault: true, env: env([]) })).rejects.toThrow(
      /^nothing to scan: give --manifests PATH/,
    );
  });

  it('takes kubeconfig clusters from the config, named by the config', async () => {
    const config = parseConfig({
      clusters: [
        { name: 'dev', kind: 'kubeconfig', kubeconfig: second, context: 'beta' },
        { name: 'dump', kind: 'manifests', paths: ['x'] },
      ],
    });
    if (!config.ok) throw new Error(JSON.stringify(config.issues));
    expect(await names({ clusters: config.config.clusters, env: env([]) })).toEqual(['dev']);
  });

  it('parses --eks NAME@REGION, with AWS_REGION for a bare NAME', () => {
    expect(parseEksSpec('prod@eu-west-1', undefined)).toEqual({ cluster: 'prod', region: 'eu-west-1' });
    expect(parseEksSpec('prod', 'us-east-2')).toEqual({ cluster: 'prod', region: 'us-east-2' });
    expect(() => parseEksSpec('prod', undefined)).toThrow('no region');
    expect(() => parseEksSpec('prod@moon', undefined)).toThrow('expected NAME@REGION');
  });

  it('the config schema takes eks-discovery entries and reports every problem with its path', () => {
    const ok = parseConfig({
      clusters: [
        {
          name: 'fleet',
          kind: 'eks-discovery',
          tags: { 'labelguard/scan': 'true' },
          accounts: [
            { regions: ['eu-west-1'] },
            { roleArn: 'arn:aws:iam::123456789012:role/r', externalId: 'xid', regions: ['us-east-1'] },
          ],
        },
      ],
    });
    expect(ok.ok).toBe(true);
    const bad = parseConfig({
      clusters: [
        { name: 'a', kind: 'eks-discovery' },
        { name: 'b', kind: 'eks-discovery', accounts: [{ regions: [] }, { externalId: 'xid', regions: ['Moon'] }] },
        { name: 'c', kind: 'eks', accounts: [{ regions: ['eu-west-1'] }], kubeconfig: 'f' },
      ],
    });
    expect(bad.ok ? [] : bad.issues).toEqual([
      { path: 'clusters[0].accounts', message: 'required for clusters of kind eks-discovery' },
      { path: 'clusters[1].accounts[0].regions', message: 'expected at least one region' },
      { path: 'clusters[1].accounts[1].regions[0]', message: 'expected an AWS region such as eu-west-1' },
      { path: 'clusters[1].accounts[1].externalId', message: 'needs roleArn' },
      { path: 'clusters[2].kubeconfig', message: 'not used by clusters of kind eks' },
      { path: 'clusters[2].accounts', message: 'not used by clusters of kind eks' },
    ]);
  });
});
