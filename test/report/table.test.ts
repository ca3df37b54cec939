import { describe, expect, it } from 'vitest';
import { formatTable } from '../../lambda/report/table.js';
import { buildCluster, buildFinding, buildReport, buildSampleReport, prodEu } from '../helpers/report-builder.js';

// eslint-disable-next-line no-control-regex -- matching escape sequences is the point
const ANSI = /\u001b\[[0-9;]*m/g;

describe('formatTable', () => {
  const report = buildSampleReport();
  const plain = formatTable(report, { color: false });
  const lines = plain.split('\n');

  it('prints no escape codes without colour', () => {
    expect(plain).not.toContain('\u001b');
  });

  it('colours severities with colour on, and differs from the plain table in nothing else', () => {
    const coloured = formatTable(report, { color: true });
    expect(coloured).toContain('\u001b[31mCRITICAL\u001b[39m');
    expect(coloured).toContain('\u001b[31mHIGH\u001b[39m');
    expect(coloured).toContain('\u001b[33mMEDIUM\u001b[39m');
    expect(coloured).toContain('\u001b[36mLOW\u001b[39m');
    expect(coloured.replace(ANSI, '')).toBe(plain);
  });

  it('dims info findings', () => {
    const info = buildReport({ findings: [buildFinding({ severity: 'info', rule: 'label-invalid' })] });
    expect(formatTable(info, { color: true })).toContain('\u001b[2mINFO\u001b[22m');
  });

  it('heads each cluster with its status and counts, and says why a cluster is incomplete', () => {
    expect(lines[0]).toBe('prod-eu [complete] 6 namespaces, 4 policies, 5 findings (1 waived)');
    const failed = lines.indexOf('staging-us [FAILED] namespaces unknown, policies unknown');
    expect(failed).toBeGreaterThan(0);
    expect(lines.slice(failed + 1, failed + 5)).toEqual([
      '  ! error: list namespaces: Unauthorized (401): the EKS token was rejected',
      '  ! incomplete read: namespaces failed: Unauthorized (401)',
      '  ! incomplete read: networkpolicies.networking.k8s.io failed: Unauthorized (401)',
      '  no findings: the cluster could not be read',
    ]);
  });

  it('shows a partial read as a lower bound, never as an absence', () => {
    const partial = buildReport({
      clusters: [
        buildCluster({
          ...prodEu,
          status: 'partial',
          reads: [
            { resource: 'namespaces', status: 'complete' },
            { resource: 'networkpolicies.networking.k8s.io', status: 'complete' },
            { resource: 'ciliumnetworkpolicies.cilium.io', status: 'forbidden', reason: 'RBAC: cannot list' },
            { resource: 'policies.networking.istio.io', status: 'not-installed' },
          ],
        }),
      ],
    });
    const out = formatTable(partial, { color: false }).split('\n');
    expect(out[0]).toBe('prod-eu [PARTIAL] 6 namespaces, at least 4 policies, 0 findings');
    expect(out[1]).toBe('  ! incomplete read: ciliumnetworkpolicies.cilium.io forbidden: RBAC: cannot list');
    expect(out[2]).toBe('  no findings in what could be read');
    expect(out.at(-2)).toBe('0 findings in 1 cluster (1 partial); 0 waived');
  });

  it('lists findings highest severity first, one line each with the fix indented under it', () => {
    const severities = lines
      .slice(0, lines.indexOf(''))
      .map((line) => /^ {2}(CRITICAL|HIGH|MEDIUM|LOW|INFO) /.exec(line)?.[1])
      .filter((s) => s !== undefined);
    expect(severities).toEqual(['CRITICAL', 'HIGH', 'MEDIUM', 'MEDIUM', 'LOW']);

    const high = lines.findIndex((line) => line.startsWith('  HIGH'));
    expect(lines.slice(high, high + 3)).toEqual([
      '  HIGH      peer-selects-nothing   payments/allow-monitoring: Ingress rule 1, peer 1 selects no',
      '                                   namespace: namespaceSelector team=observability matches nothing',
      '                                   at manifests/prod-eu/payments.yaml:14',
    ]);
    expect(lines[high + 3]).toBe(
      '                                   fix: kubectl label namespace monitoring team=observability --overwrite',
    );
    expect(plain).toContain(
      '  MEDIUM    label-missing          checkout: Namespace "checkout" lacks the required label "team"\n' +
        '                                   fix: kubectl label namespace checkout team=<owner>\n',
    );
    // A finding without a fix has no fix line.
    const low = lines.findIndex((line) => line.startsWith('  LOW'));
    expect(lines[low + 2]).toBe('');
  });

  it('lists waived findings apart, with owner and expiry, outside the counts', () => {
    const waived = lines.indexOf('Waived (1)');
    expect(waived).toBeGreaterThan(lines.indexOf('staging-us [FAILED] namespaces unknown, policies unknown'));
    expect(lines[waived + 1]).toMatch(/^ {2}MEDIUM {4}label-missing +legacy in prod-eu: Namespace "legacy"/);
    expect(plain.replace(/\s+/g, ' ')).toContain(
      'waived: Decommissioned in Q3; no new workloads (owner team-platform, expires 2025-09-30)',
    );
    const active = lines.slice(0, waived).join('\n');
    expect(active).not.toContain('legacy');
  });

  it('closes with the summary line', () => {
    expect(lines.at(-1)).toBe('');
    expect(lines.at(-2)).toBe('5 findings (1 critical, 1 high, 2 medium, 1 low) in 2 clusters (1 failed); 1 waived');
    // Narrower than the summary, it wraps like the rest.
    expect(formatTable(report, { color: false, width: 80 }).split('\n').slice(-3)).toEqual([
      '5 findings (1 critical, 1 high, 2 medium, 1 low) in 2 clusters (1 failed); 1',
      '  waived',
      '',
    ]);
    const one = buildReport({ findings: [buildFinding()] });
    expect(formatTable(one, { color: false }).split('\n').at(-2)).toBe('1 finding (1 medium) in 1 cluster; 0 waived');
  });

  it.each([80, 100, 120])('keeps wrapped text within %i columns', (width) => {
    const out = formatTable(report, { color: false, width }).split('\n');
    const wrapped = out.filter((line) => !/^ +(fix:|at) /.test(line));
    for (const line of wrapped) expect(line.length, line).toBeLessThanOrEqual(width);
    // Fixes are never broken across lines, so a command copies intact.
    expect(out).toContain(
      '                                   fix: kubectl label namespace monitoring team=observability --overwrite',
    );
  });

  it('neutralises control characters from cluster data', () => {
    const hostile = buildReport({
      findings: [buildFinding({ message: 'evil \u001b[2J\u001b]0;pwned\u0007 label\nsecond line' })],
    });
    const out = formatTable(hostile, { color: false });
    expect(out).not.toContain('\u001b');
    expect(out).not.toContain('\u0007');
    expect(out).toContain('evil \ufffd[2J\ufffd]0;pwned\ufffd label second line');
  });
});
