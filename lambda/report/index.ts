/**
 * Pure formatters from a ScanReport to text, one per `--format`. No I/O, no environment, no
 * clock: colour, width, version and the rule catalogue come in as options.
 */
import type { ScanReport } from '../audit/model.js';
import { formatJson } from './json.js';
import { formatJunit } from './junit.js';
import { formatMarkdown } from './markdown.js';
import { formatSarif, type SarifOptions } from './sarif.js';
import { formatTable, type TableOptions } from './table.js';

export { formatJson } from './json.js';
export { formatJunit } from './junit.js';
export { formatMarkdown } from './markdown.js';
export { formatSarif, sarifLevel, type SarifLevel, type SarifOptions } from './sarif.js';
export { formatTable, type TableOptions } from './table.js';
export type { RuleDescriptor } from './rule-descriptor.js';

export type OutputFormat = 'table' | 'json' | 'sarif' | 'junit' | 'markdown';

export const OUTPUT_FORMATS: readonly OutputFormat[] = ['table', 'json', 'sarif', 'junit', 'markdown'];

export function isOutputFormat(value: string): value is OutputFormat {
  return (OUTPUT_FORMATS as readonly string[]).includes(value);
}

/** Everything any format needs; the composition root has all of it at hand. */
export type FormatReportOptions = TableOptions & SarifOptions;

export function formatReport(report: ScanReport, format: OutputFormat, options: FormatReportOptions): string {
  switch (format) {
    case 'table':
      return formatTable(report, options);
    case 'json':
      return formatJson(report);
    case 'sarif':
      return formatSarif(report, options);
    case 'junit':
      return formatJunit(report);
    case 'markdown':
      return formatMarkdown(report);
    default:
      return unreachable(format);
  }
}

function unreachable(format: never): never {
  throw new TypeError(`unknown output format: ${String(format)}`);
}
