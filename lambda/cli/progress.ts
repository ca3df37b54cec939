/**
 * Scan progress on stderr: one permanent line per cluster as it finishes (status and counts), and,
 * on a TTY, one live line under them that says how many are done, being read and waiting:
 *
 *   labelguard: prod-eu: complete (2000 namespaces, 214 policies, 3 findings)
 *   labelguard: staging: failed (0 namespaces, 0 policies, 0 findings)
 *   labelguard: 2/20 clusters done (1 failed), 8 being read: dev-1, dev-2, ...
 *
 * `scan` passes `progress.track(sources)` as its sources and `progress.done` as `onCluster`, and
 * calls `progress.finish()` when the scan is over (also on failure).
 */
import type { ClusterResult } from '../audit/index.js';
import type { ClusterSource } from '../ports.js';

export interface ProgressStream {
  write(text: string): unknown;
  readonly isTTY?: boolean;
  readonly columns?: number;
}

export interface Progress {
  /** The same sources, reporting when each read starts. */
  track(sources: readonly ClusterSource[]): ClusterSource[];
  /** A cluster finished: its permanent line. */
  done(result: ClusterResult): void;
  /** Clears the live line. */
  finish(): void;
}

const CLEAR_LINE = '\r\u001b[2K';

export function createProgress(options: { stream: ProgressStream; total: number }): Progress {
  const { stream, total } = options;
  const live = stream.isTTY === true;
  const reading = new Set<string>();
  let finished = 0;
  let failed = 0;
  let shown = false;

  const render = (): void => {
    if (!live) return;
    const names = [...reading];
    const list = names.length > 0 ? `: ${names.join(', ')}` : '';
    let line = `labelguard: ${finished}/${total} clusters done${failed > 0 ? ` (${failed} failed)` : ''}, ${reading.size} being read${list}`;
    const width = Math.max(20, (stream.columns ?? 100) - 1);
    if (line.length > width) line = `${line.slice(0, width - 1)}…`;
    stream.write(`${CLEAR_LINE}${line}`);
    shown = true;
  };
  const clear = (): void => {
    if (shown) stream.write(CLEAR_LINE);
    shown = false;
  };

  return {
    track(sources) {
      return sources.map((source) => ({
        cluster: source.cluster,
        read: async () => {
          reading.add(source.cluster);
          render();
          try {
            return await source.read();
          } finally {
            reading.delete(source.cluster);
          }
        },
      }));
    },
    done(result) {
      finished++;
      if (result.status === 'failed') failed++;
      clear();
      const findings = result.findings.filter((f) => !f.waived).length;
      stream.write(
        `labelguard: ${result.cluster}: ${result.status} (${result.namespaces.length} namespaces, ${result.policyCount} policies, ${findings} findings)\n`,
      );
      if (finished < total) render();
    },
    finish() {
      clear();
    },
  };
}
