/**
 * `scan --format json` for many clusters: each cluster's part of the report is written out as
 * soon as the cluster is done (to a spool file, in the order clusters finish), and the report is
 * assembled from the spool at the end, in the contract's order: clusters as given, findings
 * sorted as `compareFindings` sorts them (severity, then cluster, rule, namespace, message). Only
 * counts stay in memory, so memory is flat in the number of clusters read. The bytes are exactly
 * those of `formatJson` for the same report (tested).
 *
 * Findings of one severity are sorted within each cluster and the clusters' groups put in order
 * of cluster name, which is the global order when cluster names are unique: the caller streams
 * only then.
 */
import { mkdtemp, open, rm, type FileHandle } from 'node:fs/promises';
import { once } from 'node:events';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Writable } from 'node:stream';
import {
  clusterReportOf,
  compareFindings,
  SEVERITIES,
  severityRank,
  summarize,
  type ClusterReport,
  type ScanSummary,
  type Severity,
} from '../audit/index.js';
import { jsonClusterChunks, jsonFindingText, jsonSummaryValue, jsonTopLevelLine } from '../report/json.js';
import type { ClusterRun } from '../scan.js';

interface Range {
  readonly offset: number;
  readonly length: number;
}

interface FindingGroup extends Range {
  readonly rank: number;
  readonly cluster: string;
  readonly index: number;
}

export interface JsonReportSpool {
  /** Writes run `index` (of the scan's sources) to the spool. Each index once. */
  add(run: ClusterRun, index: number): Promise<void>;
  /** The highest severity of an unwaived finding so far, or null. */
  highestSeverity(): Severity | null;
  /** Writes the whole report to `out` and removes the spool. */
  finish(out: Writable, top: { readonly generatedAt: string; readonly notify?: unknown }): Promise<void>;
  /** Removes the spool (after a failure). */
  discard(): Promise<void>;
}

const WRITE_CHUNK = 1 << 16;

export async function createJsonReportSpool(clusterCount: number): Promise<JsonReportSpool> {
  const dir = await mkdtemp(join(tmpdir(), 'labelguard-report-'));
  let file: FileHandle;
  try {
    file = await open(join(dir, 'report.spool'), 'w+', 0o600);
  } catch (e) {
    await rm(dir, { recursive: true, force: true });
    throw e;
  }
  const clusters = new Array<Range | undefined>(clusterCount);
  const groups: FindingGroup[] = [];
  let summary: ScanSummary | null = null;
  let highest = -1;
  let size = 0;
  // Runs finish concurrently: one write to the spool at a time.
  let queue: Promise<unknown> = Promise.resolve();

  const append = async (text: string): Promise<Range> => {
    const bytes = Buffer.from(text, 'utf8');
    const offset = size;
    size += bytes.length;
    await file.write(bytes, 0, bytes.length, offset);
    return { offset, length: bytes.length };
  };

  const write = async (run: ClusterRun, index: number): Promise<void> => {
    const r = run.result;
    const report: ClusterReport = {
      ...clusterReportOf(r, []),
      ...(run.drift === null ? {} : { drift: run.drift }),
    };
    const start = size;
    let buffer = '';
    for (const chunk of jsonClusterChunks(report, r.policyReports())) {
      buffer += chunk;
      if (buffer.length >= WRITE_CHUNK) {
        await append(buffer);
        buffer = '';
      }
    }
    if (buffer !== '') await append(buffer);
    clusters[index] = { offset: start, length: size - start };

    const sorted = [...r.findings].sort(compareFindings);
    for (const severity of SEVERITIES) {
      const of = sorted.filter((f) => f.severity === severity);
      if (of.length === 0) continue;
      const range = await append(of.map(jsonFindingText).join(',\n'));
      groups.push({ ...range, rank: severityRank(severity), cluster: r.cluster, index });
    }
    for (const f of r.findings) if (f.waived === undefined) highest = Math.max(highest, severityRank(f.severity));
    summary = addSummaries(summary, summarize([r], r.findings));
  };

  const copy = async (out: Writable, range: Range): Promise<void> => {
    for (let at = 0; at < range.length;) {
      const length = Math.min(1 << 20, range.length - at);
      const chunk = Buffer.allocUnsafe(length);
      const { bytesRead } = await file.read(chunk, 0, length, range.offset + at);
      if (bytesRead === 0) throw new Error('the report spool ended early');
      await put(out, chunk.subarray(0, bytesRead));
      at += bytesRead;
    }
  };

  const discard = async (): Promise<void> => {
    await file.close().catch(() => undefined);
    await rm(dir, { recursive: true, force: true });
  };

  return {
    add(run, index) {
      const next = queue.then(() => write(run, index));
      queue = next.catch(() => undefined);
      return next;
    },
    highestSeverity: () => (highest < 0 ? null : (SEVERITIES[highest] ?? null)),
    async finish(out, top) {
      try {
        await queue;
        await put(out, '{\n');
        await put(out, jsonTopLevelLine('schemaVersion', 1, false));
        await put(out, jsonTopLevelLine('generatedAt', top.generatedAt, false));
        if (clusterCount === 0) await put(out, '  "clusters": [],\n');
        else {
          await put(out, '  "clusters": [\n');
          for (let i = 0; i < clusterCount; i++) {
            const range = clusters[i];
            if (range === undefined) throw new Error(`cluster ${i} of the report is missing`);
            await copy(out, range);
            await put(out, i < clusterCount - 1 ? ',\n' : '\n');
          }
          await put(out, '  ],\n');
        }
        // Highest severity first; within one, clusters by name (then as given): compareFindings' order.
        const ordered = [...groups].sort(
          (a, b) =>
            b.rank - a.rank || (a.cluster < b.cluster ? -1 : a.cluster > b.cluster ? 1 : 0) || a.index - b.index,
        );
        if (ordered.length === 0) await put(out, '  "findings": [],\n');
        else {
          await put(out, '  "findings": [\n');
          for (const [i, group] of ordered.entries()) {
            await copy(out, group);
            await put(out, i < ordered.length - 1 ? ',\n' : '\n');
          }
          await put(out, '  ],\n');
        }
        const counts = summary ?? summarize([], []);
        await put(out, jsonTopLevelLine('summary', jsonSummaryValue(counts), top.notify === undefined));
        if (top.notify !== undefined) await put(out, jsonTopLevelLine('notify', top.notify, true));
        await put(out, '}\n');
      } finally {
        await discard();
      }
    },
    discard,
  };
}

/** The counts of two sets of clusters together (summaries are sums). */
export function addSummaries(a: ScanSummary | null, b: ScanSummary): ScanSummary {
  if (a === null) return b;
  const byRule: Record<string, number> = { ...a.byRule };
  for (const [rule, n] of Object.entries(b.byRule)) byRule[rule] = (byRule[rule] ?? 0) + (n ?? 0);
  return {
    clusters: a.clusters + b.clusters,
    clustersByStatus: {
      complete: a.clustersByStatus.complete + b.clustersByStatus.complete,
      partial: a.clustersByStatus.partial + b.clustersByStatus.partial,
      failed: a.clustersByStatus.failed + b.clustersByStatus.failed,
    },
    namespaces: a.namespaces + b.namespaces,
    policies: a.policies + b.policies,
    findings: a.findings + b.findings,
    waived: a.waived + b.waived,
    bySeverity: Object.fromEntries(
      SEVERITIES.map((s) => [s, a.bySeverity[s] + b.bySeverity[s]]),
    ) as ScanSummary['bySeverity'],
    byRule: byRule,
  };
}

async function put(out: Writable, data: string | Buffer): Promise<void> {
  if (!out.write(data)) await once(out, 'drain');
}
