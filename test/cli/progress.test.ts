/** Scan progress on stderr: a permanent line per cluster; on a TTY, a live line under them. */
import { describe, expect, it } from 'vitest';
import type { ClusterResult, ClusterSnapshot } from '../../lambda/audit/index.js';
import { createProgress } from '../../lambda/cli/progress.js';
import type { ClusterSource } from '../../lambda/ports.js';

const stream = (isTTY: boolean, columns = 200) => {
  const writes: string[] = [];
  return { writes, isTTY, columns, write: (t: string) => writes.push(t) };
};

const result = (cluster: string, status: ClusterResult['status'], findings = 0): ClusterResult =>
  ({
    cluster,
    status,
    namespaces: [{ name: 'a', labels: {} }],
    policyCount: 2,
    findings: [
      ...Array.from({ length: findings }, () => ({ severity: 'high' })),
      { severity: 'low', waived: { reason: 'r', owner: 'o', expires: '2099-01-01' } },
    ],
  }) as unknown as ClusterResult;

const pending = (cluster: string): { source: ClusterSource; release: () => void } => {
  let release = (): void => undefined;
  const gate = new Promise<void>((r) => (release = r));
  return {
    source: { cluster, read: () => gate.then(() => ({ cluster }) as ClusterSnapshot) },
    release,
  };
};

describe('scan progress', () => {
  it('writes one line per cluster, and nothing else, when stderr is not a terminal', async () => {
    const out = stream(false);
    const progress = createProgress({ stream: out, total: 2 });
    const [a, b] = [pending('prod'), pending('dev')];
    const tracked = progress.track([a.source, b.source]);
    const reads = tracked.map((s) => s.read());
    a.release();
    await reads[0];
    progress.done(result('prod', 'complete', 3));
    b.release();
    await reads[1];
    progress.done(result('dev', 'failed'));
    progress.finish();
    expect(out.writes).toEqual([
      'labelguard: prod: complete (1 namespaces, 2 policies, 3 findings)\n',
      'labelguard: dev: failed (1 namespaces, 2 policies, 0 findings)\n',
    ]);
  });

  it('keeps a live line on a terminal: done, failed, and which clusters are being read', async () => {
    const out = stream(true);
    const progress = createProgress({ stream: out, total: 3 });
    const sources = ['prod', 'dev', 'staging'].map(pending);
    const tracked = progress.track(sources.map((s) => s.source));
    const reads = tracked.map((s) => s.read());
    expect(out.writes.at(-1)).toBe('\r\u001b[2Klabelguard: 0/3 clusters done, 3 being read: prod, dev, staging');
    sources[1]!.release();
    await reads[1];
    progress.done(result('dev', 'failed'));
    expect(out.writes.slice(-3)).toEqual([
      '\r\u001b[2K',
      'labelguard: dev: failed (1 namespaces, 2 policies, 0 findings)\n',
      '\r\u001b[2Klabelguard: 1/3 clusters done (1 failed), 2 being read: prod, staging',
    ]);
    progress.finish();
    expect(out.writes.at(-1)).toBe('\r\u001b[2K');
  });

  it('fits the live line to the terminal width', () => {
    const out = stream(true, 40);
    const progress = createProgress({ stream: out, total: 50 });
    const tracked = progress.track(Array.from({ length: 50 }, (_, i) => pending(`cluster-${i}`).source));
    void tracked.map((s) => s.read());
    const line = out.writes.at(-1)!.replace('\r\u001b[2K', '');
    expect(line.length).toBeLessThanOrEqual(39);
    expect(line.endsWith('…')).toBe(true);
  });
});
