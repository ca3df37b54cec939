import { describe, expect, it } from 'vitest';
import {
  OUTPUT_FORMATS,
  formatJson,
  formatJunit,
  formatMarkdown,
  formatReport,
  formatSarif,
  formatTable,
  isOutputFormat,
  type FormatReportOptions,
} from '../../lambda/report/index.js';
import { SAMPLE_RULES, buildSampleReport } from '../helpers/report-builder.js';

describe('formatReport', () => {
  const report = buildSampleReport();
  const options: FormatReportOptions = { color: false, width: 100, toolVersion: '1.0.0', rules: SAMPLE_RULES };

  it('dispatches each format to its formatter', () => {
    expect(formatReport(report, 'table', options)).toBe(formatTable(report, options));
    expect(formatReport(report, 'json', options)).toBe(formatJson(report));
    expect(formatReport(report, 'sarif', options)).toBe(formatSarif(report, options));
    expect(formatReport(report, 'junit', options)).toBe(formatJunit(report));
    expect(formatReport(report, 'markdown', options)).toBe(formatMarkdown(report));
  });

  it('lists the formats and recognises them', () => {
    expect(OUTPUT_FORMATS).toEqual(['table', 'json', 'sarif', 'junit', 'markdown']);
    expect(OUTPUT_FORMATS.every(isOutputFormat)).toBe(true);
    expect(isOutputFormat('yaml')).toBe(false);
  });

  it('is pure: the same report gives the same bytes, and the report is not modified', () => {
    const before = JSON.stringify(report);
    for (const format of OUTPUT_FORMATS) {
      expect(formatReport(report, format, options)).toBe(formatReport(buildSampleReport(), format, options));
    }
    expect(JSON.stringify(report)).toBe(before);
  });
});
