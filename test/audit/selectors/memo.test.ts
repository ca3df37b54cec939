import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { evaluateCluster } from '../../../lambda/audit/index.js';
import { compileField } from '../../../lambda/audit/engines/kubernetes.js';
import type { SelectorIssue } from '../../../lambda/audit/engines/types.js';
import { parseEndpointSelector } from '../../../lambda/audit/selectors/cilium.js';
import { parseCalicoSelector } from '../../../lambda/audit/selectors/calico.js';
import { jsonKey } from '../../../lambda/audit/selectors/memo.js';
import { settings, snapshotOfText } from '../../helpers/fixtures.js';

describe('jsonKey', () => {
  it('is the JSON text of plain data, so equal keys mean equal selectors', () => {
    expect(jsonKey({ matchLabels: { app: 'web' } })).toBe('{"matchLabels":{"app":"web"}}');
    expect(jsonKey({})).toBe('{}');
    expect(jsonKey([1, 'a', null, true])).toBe('[1,"a",null,true]');
    // Key order is part of the selector (it orders the requirements), so it is part of the key.
    expect(jsonKey({ a: '1', b: '2' })).not.toBe(jsonKey({ b: '2', a: '1' }));
  });

  it('refuses values JSON text cannot stand for exactly', () => {
    expect(jsonKey({ matchLabels: { app: undefined } })).toBeUndefined();
    expect(jsonKey({ matchLabels: { when: new Date(0) } })).toBeUndefined();
    expect(jsonKey({ n: Number.NaN })).toBeUndefined();
    expect(jsonKey({ n: -0 })).toBeUndefined();
    expect(jsonKey([1, , 2])).toBeUndefined(); // eslint-disable-line no-sparse-arrays
    expect(jsonKey({ f: () => 1 })).toBeUndefined();
    expect(jsonKey(new (class Sel {})())).toBeUndefined();
    expect(jsonKey(undefined)).toBeUndefined();
  });

  it('gives equal keys only to values that are structurally equal (property)', () => {
    const arbJson = fc.jsonValue();
    fc.assert(
      fc.property(arbJson, arbJson, (a, b) => {
        const ka = jsonKey(a);
        const kb = jsonKey(b);
        if (ka !== undefined && ka === kb) expect(JSON.parse(ka)).toEqual(JSON.parse(JSON.stringify(b)));
      }),
    );
  });
});

describe('memoised selector compilation', () => {
  it('compiles an equal selector once and shares the query', () => {
    const issues: SelectorIssue[] = [];
    const a = compileField({ matchLabels: { tier: 'memo-a' } }, 'a', issues);
    const b = compileField({ matchLabels: { tier: 'memo-a' } }, 'b', issues);
    expect(a).toBeDefined();
    expect(b).toBe(a);
    expect(issues).toEqual([]);
  });

  it('reports an invalid selector at each field it sits in (failures are not memoised)', () => {
    const issues: SelectorIssue[] = [];
    const bad = { matchExpressions: [{ key: 'tier', operator: 'In' }] };
    expect(compileField(bad, 'spec.ingress[0].from[0].namespaceSelector', issues)).toBeUndefined();
    expect(compileField(bad, 'spec.egress[0].to[0].namespaceSelector', issues)).toBeUndefined();
    expect(issues.map((i) => i.field)).toEqual([
      'spec.ingress[0].from[0].namespaceSelector',
      'spec.egress[0].to[0].namespaceSelector',
    ]);
    expect(issues[1]!.message).toContain('spec.egress[0].to[0].namespaceSelector.matchExpressions[0].values');
  });

  it('never memoises an unsatisfiable selector as valid', () => {
    const contradiction = {
      matchLabels: { tier: 'x' },
      matchExpressions: [{ key: 'tier', operator: 'In', values: ['y'] }],
    };
    for (const field of ['one', 'two']) {
      const issues: SelectorIssue[] = [];
      expect(compileField(contradiction, field, issues)).toBeUndefined();
      expect(issues).toHaveLength(1);
      expect(issues[0]!.field).toBe(field);
    }
  });

  it('shares parsed Cilium and Calico selectors, and still throws for invalid ones each time', () => {
    expect(parseEndpointSelector({ matchLabels: { 'k8s:app': 'memo' } })).toBe(
      parseEndpointSelector({ matchLabels: { 'k8s:app': 'memo' } }),
    );
    expect(() => parseEndpointSelector({ matchLabels: { 'k8s:app': 7 } }, 'first')).toThrow(/first/);
    expect(() => parseEndpointSelector({ matchLabels: { 'k8s:app': 7 } }, 'second')).toThrow(/second/);
    expect(parseCalicoSelector("app == 'memo'")).toBe(parseCalicoSelector("app == 'memo'"));
    expect(() => parseCalicoSelector("app == 'memo")).toThrow();
    expect(() => parseCalicoSelector("app == 'memo")).toThrow();
  });

  it('gives policies that repeat a selector the same results as policies that do not', () => {
    const yaml = `
apiVersion: v1
kind: List
items:
  - { apiVersion: v1, kind: Namespace, metadata: { name: a, labels: { ns: a, env: prod } } }
  - { apiVersion: v1, kind: Namespace, metadata: { name: b, labels: { ns: b } } }
  - apiVersion: networking.k8s.io/v1
    kind: NetworkPolicy
    metadata: { name: p1, namespace: a }
    spec:
      ingress: [{ from: [{ namespaceSelector: { matchLabels: { env: prod } } }, { namespaceSelector: { matchLabels: { ns: c } } }] }]
  - apiVersion: networking.k8s.io/v1
    kind: NetworkPolicy
    metadata: { name: p2, namespace: b }
    spec:
      ingress: [{ from: [{ namespaceSelector: { matchLabels: { env: prod } } }, { namespaceSelector: { matchLabels: { ns: c } } }] }]
`;
    const r = evaluateCluster(snapshotOfText(yaml), settings());
    const [p1, p2] = r.policyReports();
    expect(p1!.peers.map((p) => p.selects)).toEqual([['a'], []]);
    expect(p2!.peers.map((p) => p.selects)).toEqual([['a'], []]);
    expect(r.findings.filter((f) => f.rule === 'peer-selects-nothing').map((f) => f.message)).toEqual([
      '`a/p1` ingress spec.ingress[0].from[1] selects no namespace',
      '`b/p2` ingress spec.ingress[0].from[1] selects no namespace',
    ]);
  });
});
