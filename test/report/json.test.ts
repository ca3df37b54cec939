import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { PolicyReport } from '../../lambda/audit/index.js';
import { formatJson, formatJsonChunks, policyText } from '../../lambda/report/json.js';
import { buildCluster, buildFinding, buildReport, buildSampleReport } from '../helpers/report-builder.js';

/** The same data with every object's keys in reverse order, labels excepted (they are data). */
function reverseKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(reverseKeys);
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(
    Object.entries(value)
      .reverse()
      .map(([key, inner]) => [key, key === 'labels' ? inner : reverseKeys(inner)]),
  );
}

describe('formatJson', () => {
  it('round-trips the report exactly', () => {
    const report = buildSampleReport();
    expect(JSON.parse(formatJson(report))).toEqual(report);
  });

  it('prints with a 2-space indent and a trailing newline', () => {
    const out = formatJson(buildSampleReport());
    expect(
      out.startsWith('{\n  "schemaVersion": 1,\n  "generatedAt": "2025-06-01T12:00:00.000Z",\n  "clusters": [\n'),
    ).toBe(true);
    expect(out.endsWith('}\n')).toBe(true);
    expect(out.endsWith('\n\n')).toBe(false);
  });

  it('writes every object with its keys in contract order', () => {
    const parsed = JSON.parse(formatJson(buildSampleReport())) as {
      clusters: { reads: object[]; namespaces: object[]; policies: { peers: object[] }[] }[];
      findings: object[];
      summary: { clustersByStatus: object; bySeverity: object };
    };
    const cluster = parsed.clusters[0]!;
    expect(Object.keys(parsed)).toEqual(['schemaVersion', 'generatedAt', 'clusters', 'findings', 'summary']);
    expect(Object.keys(cluster)).toEqual([
      'cluster',
      'status',
      'errors',
      'reads',
      'namespaces',
      'policyCount',
      'policies',
    ]);
    expect(Object.keys(cluster.namespaces[0]!)).toEqual(['name', 'labels']);
    expect(Object.keys(cluster.policies[1]!)).toEqual(['engine', 'kind', 'namespace', 'name', 'appliesTo', 'peers']);
    expect(Object.keys(cluster.policies[1]!.peers[0]!)).toEqual(['direction', 'rule', 'peer', 'selects']);
    expect(Object.keys(parsed.clusters[1]!.reads[0]!)).toEqual(['resource', 'status', 'reason']);
    // The first sample finding has a policy and a source; the last is waived.
    expect(Object.keys(parsed.findings[0]!)).toEqual([
      'rule',
      'severity',
      'cluster',
      'namespace',
      'policy',
      'message',
      'fix',
      'source',
    ]);
    expect(Object.keys(parsed.findings.at(-1)!)).toEqual([
      'rule',
      'severity',
      'cluster',
      'namespace',
      'policy',
      'message',
      'fix',
      'waived',
    ]);
    expect(Object.keys(parsed.summary)).toEqual([
      'clusters',
      'clustersByStatus',
      'namespaces',
      'policies',
      'findings',
      'waived',
      'bySeverity',
      'byRule',
    ]);
    expect(Object.keys(parsed.summary.clustersByStatus)).toEqual(['complete', 'partial', 'failed']);
    expect(Object.keys(parsed.summary.bySeverity)).toEqual(['critical', 'high', 'medium', 'low', 'info']);
  });

  it('prints the same bytes however the report object was assembled', () => {
    const report = buildSampleReport();
    const shuffled = reverseKeys(report) as typeof report;
    expect(Object.keys(shuffled)[0]).toBe('summary');
    expect(formatJson(shuffled)).toBe(formatJson(report));
  });

  it('keeps label order as read and leaves absent optional keys out', () => {
    const report = buildReport({
      clusters: [
        buildCluster({
          reads: [{ resource: 'namespaces', status: 'complete' }],
          namespaces: [{ name: 'a', labels: { zeta: '1', alpha: '2' } }],
        }),
      ],
      findings: [buildFinding({ namespace: 'a' })],
    });
    const out = formatJson(report);
    expect(out).toContain('"labels": {\n            "zeta": "1",\n            "alpha": "2"\n          }');
    expect(out).toContain('{\n          "resource": "namespaces",\n          "status": "complete"\n        }');
    expect(out).not.toContain('"source"');
    expect(out).not.toContain('"waived": {');
    expect(out).toContain('"namespace": "a",\n      "policy": null,');
  });
});

describe('formatJsonChunks', () => {
  it('streams exactly the bytes formatJson prints', () => {
    const full = buildSampleReport();
    const policies = full.clusters.map((c) => c.policies);
    const light = { ...full, clusters: full.clusters.map((c) => ({ ...c, policies: [] })) };
    expect([...formatJsonChunks(light, (i) => policies[i] ?? [])].join('')).toBe(formatJson(full));
  });
});

describe('policyText', () => {
  it('writes exactly what JSON.stringify writes, indented (property)', () => {
    const text = fc.string({ unit: 'binary', maxLength: 12 });
    const policy = fc.record({
      engine: fc.constantFrom('kubernetes', 'cilium', 'calico', 'adminnetworkpolicy', 'istio'),
      kind: text,
      namespace: fc.option(text, { nil: null }),
      name: text,
      appliesTo: fc.array(text, { maxLength: 4 }),
      peers: fc.array(
        fc.record({
          direction: fc.constantFrom('ingress', 'egress'),
          rule: fc.nat(),
          peer: fc.nat(),
          selects: fc.option(fc.array(text, { maxLength: 4 }), { nil: null }),
        }),
        { maxLength: 3 },
      ),
    }) as fc.Arbitrary<PolicyReport>;
    fc.assert(
      fc.property(policy, fc.integer({ min: 0, max: 6 }), (p, depth) => {
        const ordered = {
          engine: p.engine,
          kind: p.kind,
          namespace: p.namespace,
          name: p.name,
          appliesTo: p.appliesTo,
          peers: p.peers.map((x) => ({ direction: x.direction, rule: x.rule, peer: x.peer, selects: x.selects })),
        };
        const expected = JSON.stringify(ordered, null, 2).replace(/\n/g, `\n${' '.repeat(2 * depth)}`);
        expect(policyText(p, depth)).toBe(expected);
      }),
      { numRuns: 500 },
    );
  });
});
