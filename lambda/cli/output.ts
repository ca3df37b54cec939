/** Writes a report to stdout or a file; JSON is streamed so huge scans never build one giant string. */
import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import type { Writable } from 'node:stream';
import { RULES, type ClusterResult, type ScanReport } from '../audit/index.js';
import { formatJsonChunks } from '../report/json.js';
import { formatReport, type OutputFormat } from '../report/index.js';
import { VERSION } from './version.js';

export interface WriteReportOptions {
  readonly format: OutputFormat;
  /** A file to write instead of stdout. */
  readonly output?: string;
}

/** `report` must have been built without policies: JSON takes them per cluster from `results`. */
export async function writeReport(
  report: ScanReport,
  results: readonly ClusterResult[],
  opts: WriteReportOptions,
): Promise<void> {
  await writeOut(opts.output, async (out) => {
    const chunks =
      opts.format === 'json'
        ? formatJsonChunks(report, (i) => results[i]?.policyReports() ?? [])
        : [
            formatReport(report, opts.format, {
              color: opts.output === undefined && Boolean(process.stdout.isTTY) && !process.env.NO_COLOR,
              toolVersion: VERSION,
              rules: RULES,
              width: process.stdout.columns,
            }),
          ];
    let buffer = '';
    for (const chunk of chunks) {
      buffer += chunk;
      if (buffer.length >= 1 << 16) {
        if (!out.write(buffer)) await once(out, 'drain');
        buffer = '';
      }
    }
    if (buffer) out.write(buffer);
  });
}

/** Runs `write` on stdout or on the file `output`, which it ends and waits for. */
export async function writeOut(output: string | undefined, write: (out: Writable) => Promise<void>): Promise<void> {
  const out: Writable = output !== undefined ? createWriteStream(output) : process.stdout;
  await write(out);
  if (out !== process.stdout) {
    out.end();
    await once(out, 'finish');
  }
}
