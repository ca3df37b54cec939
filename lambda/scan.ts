/**
 * runScan: read every cluster (bounded concurrency), evaluate each as soon as it is read, and
 * isolate failures per cluster: a source that throws yields a failed cluster, never an empty one,
 * and never stops the others.
 */
import { evaluateCluster, type AuditSettings, type ClusterResult, type ClusterSnapshot } from './audit/index.js';
import type { Clock, ClusterSource } from './ports.js';

export interface ScanDeps {
  readonly sources: readonly ClusterSource[];
  readonly clock: Clock;
  /** Clusters read at once. */
  readonly concurrency?: number;
  /** Called as each cluster finishes (progress lines). */
  readonly onCluster?: (result: ClusterResult) => void;
}

export function failedSnapshot(cluster: string, reason: string): ClusterSnapshot {
  return { cluster, namespaces: null, objects: [], reads: [{ resource: 'namespaces', status: 'failed', reason }], problems: [] };
}

export async function runScan(deps: ScanDeps, settings: Omit<AuditSettings, 'now'>): Promise<ClusterResult[]> {
  const now = deps.clock.now().toISOString();
  const results = new Array<ClusterResult>(deps.sources.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < deps.sources.length) {
      const i = next++;
      const source = deps.sources[i]!;
      let snapshot: ClusterSnapshot;
      try {
        snapshot = await source.read();
      } catch (e) {
        snapshot = failedSnapshot(source.cluster, e instanceof Error ? e.message : String(e));
      }
      const result = evaluateCluster(snapshot, { ...settings, now });
      results[i] = result;
      deps.onCluster?.(result);
    }
  };
  const n = Math.max(1, Math.min(deps.concurrency ?? 8, deps.sources.length));
  await Promise.all(Array.from({ length: n }, worker));
  return results;
}
