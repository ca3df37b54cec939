import { describe, expect, it } from 'vitest';
import { codeSpan, escapeCell, formatMarkdown } from '../../lambda/report/markdown.js';
import { buildCluster, buildFinding, buildReport, buildSampleReport } from '../helpers/report-builder.js';

/** Splits a table row on the pipes GFM treats as cell boundaries (not `\|`). */
function cells(row: string): string[] {
  return row
    .slice(2, -2)
    .split(/(?<!\\) \| /)
    .map((cell) => cell.trim());
}

describe('formatMarkdown', () => {
  const out = formatMarkdown(buildSampleReport());
  const lines = out.split('\n');

  it('starts with a title and the summary', () => {
    expect(lines[0]).toBe('## labelguard report');
    expect(lines[2]).toBe(
      '**5 findings** (1 critical, 1 high, 2 medium, 1 low) in 2 clusters (1 failed); 1 waived. Generated 2025-06-01T12:00:00.000Z.',
    );
  });

  it('tabulates clusters, unknown counts included', () => {
    expect(out).toContain(
      [
        '| Cluster | Status | Namespaces | Policies | Findings |',
        '| --- | --- | ---: | ---: | ---: |',
        '| prod-eu | ✅ complete | 6 | 4 | 5 |',
        '| staging-us | ❌ failed | unknown | unknown | unknown |',
      ].join('\n'),
    );
    expect(out).toContain('> - **staging-us**: list namespaces: Unauthorized (401): the EKS token was rejected');
  });

  it('tabulates findings highest first, fixes in code spans', () => {
    const header = lines.indexOf('| Severity | Rule | Where | Message |');
    const rows = lines.slice(header + 2, lines.indexOf('', header));
    expect(rows.map((row) => cells(row)[0])).toEqual(['🔴 critical', '🟠 high', '🟡 medium', '🟡 medium', '🔵 low']);
    expect(rows[2]).toBe(
      '| 🟡 medium | `label-missing` | prod-eu › checkout | Namespace "checkout" lacks the required label "team"<br>Fix: `kubectl label namespace checkout team=<owner>` |',
    );
    for (const row of rows) expect(cells(row)).toHaveLength(4);
  });

  it('folds waived findings away with owner and expiry', () => {
    expect(out).toContain('<details><summary>1 waived finding</summary>');
    expect(out).toContain(
      '| 🟡 medium | `label-missing` | prod-eu › legacy | Namespace "legacy" lacks the required label "team" | Decommissioned in Q3; no new workloads<br>by `team-platform` until 2025-09-30 |',
    );
  });

  it('escapes pipes and backticks so cell text cannot break the table', () => {
    const report = buildReport({
      clusters: [buildCluster()],
      findings: [
        buildFinding({
          message: 'selector `team in (a|b)` matches *nothing*\nsecond line',
          fix: "kubectl get ns -o name | grep -v '`'",
        }),
      ],
    });
    const row = formatMarkdown(report)
      .split('\n')
      .find((line) => line.startsWith('| 🟡 medium'))!;
    expect(row).toBe(
      "| 🟡 medium | `label-missing` | prod-eu › checkout | selector \\`team in (a\\|b)\\` matches \\*nothing\\* second line<br>Fix: ``kubectl get ns -o name \\| grep -v '`'`` |",
    );
    expect(cells(row)).toHaveLength(4);
  });

  it('escapes Markdown and HTML in plain cell text, and builds code spans that hold any text', () => {
    expect(escapeCell('a|b')).toBe('a\\|b');
    expect(escapeCell('<img src=x> & [link](y) _u_ ~s~ \\')).toBe(
      '\\<img src=x\\> \\& \\[link\\](y) \\_u\\_ \\~s\\~ \\\\',
    );
    expect(codeSpan('plain')).toBe('`plain`');
    expect(codeSpan('a ` b')).toBe('``a ` b``');
    expect(codeSpan('``x')).toBe('``` ``x ```');
    expect(codeSpan('a|b')).toBe('`a\\|b`');
  });

  it('says so when there is nothing to report', () => {
    const clean = formatMarkdown(buildReport({ clusters: [buildCluster()] }));
    expect(clean).toContain('### Findings\n\nNo findings.\n');
    expect(clean).not.toContain('<details>');
  });
});
