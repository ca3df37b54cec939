import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { calicoEngine } from '../../../lambda/audit/engines/calico.js';
import {
  DEFAULT_ENGINE_SETTINGS,
  type PeerAnalysis,
  type PolicyAnalysis,
} from '../../../lambda/audit/engines/types.js';
import type { ResourceObject } from '../../../lambda/audit/model.js';
import { createNamespaceIndex } from '../../../lambda/audit/namespace-index.js';
import type { LabelQuery } from '../../../lambda/audit/selectors/query.js';

const index = createNamespaceIndex([
  { name: 'default', labels: {} },
  { name: 'kube-system', labels: {} },
  { name: 'prod', labels: { env: 'prod', team: 'payments' } },
  { name: 'staging', labels: { env: 'staging', team: 'payments' } },
  { name: 'dev', labels: { env: 'dev' } },
  { name: 'monitoring', labels: { purpose: 'monitoring' } },
]);
const EVERY_NAMESPACE = [...index.names];

/** Every document of a YAML stream as a ResourceObject, the way the manifest adapter reads them. */
function objects(yamlText: string): ResourceObject[] {
  return parseAllDocuments(yamlText).map((doc, i) => {
    const body = doc.toJS() as Record<string, unknown>;
    const metadata = (body.metadata ?? {}) as { name?: string; namespace?: string };
    return {
      apiVersion: String(body.apiVersion),
      kind: String(body.kind),
      name: metadata.name ?? '',
      namespace: metadata.namespace ?? null,
      body,
      source: { file: 'policies.yaml', line: i + 1 },
    };
  });
}

function analyze(yamlText: string): PolicyAnalysis {
  const [obj] = objects(yamlText);
  expect(calicoEngine.handles(obj!)).toBe(true);
  return calicoEngine.analyze(obj!, DEFAULT_ENGINE_SETTINGS);
}

function selected(q: LabelQuery | null): string[] | null {
  return q === null ? null : index.namesOf(index.select(q));
}

function peer(a: PolicyAnalysis, direction: 'ingress' | 'egress', rule: number): PeerAnalysis {
  const found = a.peers.find((p) => p.direction === direction && p.rule === rule);
  if (!found) throw new Error(`no ${direction}[${rule}] peer`);
  return found;
}

/** What a peer selects, as reported: sorted namespace names, or null for "not a namespace selection". */
function peerSelects(a: PolicyAnalysis, direction: 'ingress' | 'egress', rule: number): string[] | null {
  const p = peer(a, direction, rule);
  expect(p.valid).toBe(true);
  return selected(p.namespaces);
}

describe('calicoEngine.handles', () => {
  it('recognises the four kinds in projectcalico.org/v3 and crd.projectcalico.org/v1 only', () => {
    const handled = objects(`
apiVersion: projectcalico.org/v3
kind: NetworkPolicy
metadata: {name: a, namespace: prod}
---
apiVersion: projectcalico.org/v3
kind: GlobalNetworkPolicy
metadata: {name: b}
---
apiVersion: crd.projectcalico.org/v1
kind: NetworkPolicy
metadata: {name: c, namespace: prod}
---
apiVersion: crd.projectcalico.org/v1
kind: GlobalNetworkPolicy
metadata: {name: d}
---
apiVersion: projectcalico.org/v3
kind: StagedNetworkPolicy
metadata: {name: e, namespace: prod}
---
apiVersion: projectcalico.org/v3
kind: StagedGlobalNetworkPolicy
metadata: {name: f}
`);
    for (const o of handled) expect(calicoEngine.handles(o), `${o.apiVersion} ${o.kind}`).toBe(true);
    const ignored = objects(`
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: a, namespace: prod}
---
apiVersion: projectcalico.org/v3
kind: Tier
metadata: {name: security}
---
apiVersion: projectcalico.org/v3
kind: GlobalNetworkSet
metadata: {name: external}
---
apiVersion: cilium.io/v2
kind: CiliumNetworkPolicy
metadata: {name: c, namespace: prod}
`);
    for (const o of ignored) expect(calicoEngine.handles(o), `${o.apiVersion} ${o.kind}`).toBe(false);
  });
});

describe('Calico NetworkPolicy (namespaced)', () => {
  const v3 = `
apiVersion: projectcalico.org/v3
kind: NetworkPolicy
metadata:
  name: allow-web-to-api
  namespace: prod
spec:
  tier: default
  order: 100
  selector: app == 'api'
  types: [Ingress]
  ingress:
    - action: Allow
      protocol: TCP
      source:
        selector: app == 'web'
      destination:
        ports: [8080]
`;

  it('reports the engine, the ref and the source', () => {
    const a = analyze(v3);
    expect(a.engine).toBe('calico');
    expect(a.ref).toEqual({ kind: 'NetworkPolicy', namespace: 'prod', name: 'allow-web-to-api' });
    expect(a.source).toEqual({ file: 'policies.yaml', line: 1 });
    expect(a.issues).toEqual([]);
  });

  it('cheat-sheet: the NP selector applies only in the policy namespace', () => {
    const a = analyze(v3);
    expect(selected(a.appliesTo)).toEqual(['prod']);
    expect(a.protects).toBe(true);
  });

  it('cheat-sheet: an empty NP selector is every endpoint of the policy namespace only', () => {
    const a = analyze(`
apiVersion: projectcalico.org/v3
kind: NetworkPolicy
metadata: {name: default-deny, namespace: staging}
spec:
  selector: ""
  types: [Ingress, Egress]
`);
    expect(selected(a.appliesTo)).toEqual(['staging']);
    expect(a.protects).toBe(true);
    expect(a.peers).toEqual([]);
  });

  it('cheat-sheet: a rule selector without namespaceSelector stays in the policy namespace', () => {
    const a = analyze(v3);
    expect(a.peers).toEqual([
      {
        direction: 'ingress',
        rule: 0,
        peer: 0,
        field: 'spec.ingress[0].source',
        namespaces: expect.anything() as unknown,
        valid: true,
        terms: [],
      },
    ]);
    expect(peerSelects(a, 'ingress', 0)).toEqual(['prod']);
  });

  it('cheat-sheet: a rule with only nets, ports or nothing is not restricted to any namespace', () => {
    const a = analyze(`
apiVersion: projectcalico.org/v3
kind: NetworkPolicy
metadata: {name: open-rules, namespace: prod}
spec:
  selector: all()
  ingress:
    - action: Allow
      source:
        nets: [10.0.0.0/8]
    - action: Allow
      protocol: TCP
      destination:
        ports: [443]
    - action: Allow
    - action: Allow
      source: {}
    - action: Deny
      source:
        notNets: [192.168.0.0/16]
        ports: [53]
`);
    expect(a.issues).toEqual([]);
    for (let i = 0; i < 5; i++) expect(peerSelects(a, 'ingress', i), `rule ${i}`).toBeNull();
  });

  it('pins serviceAccounts and notSelector peers to the policy namespace as well', () => {
    const a = analyze(`
apiVersion: projectcalico.org/v3
kind: NetworkPolicy
metadata: {name: sa-and-not, namespace: dev}
spec:
  ingress:
    - action: Allow
      source:
        serviceAccounts:
          names: [frontend]
    - action: Allow
      source:
        notSelector: app == 'untrusted'
    - action: Allow
      source:
        serviceAccounts:
          selector: role == 'scraper'
    - action: Allow
      source:
        serviceAccounts: {}
        nets: [10.1.0.0/16]
`);
    expect(peerSelects(a, 'ingress', 0)).toEqual(['dev']);
    expect(peerSelects(a, 'ingress', 1)).toEqual(['dev']);
    expect(peerSelects(a, 'ingress', 2)).toEqual(['dev']);
    // An empty serviceAccounts block contributes no selector (parseServiceAccounts gives "").
    expect(peerSelects(a, 'ingress', 3)).toBeNull();
  });

  it('cheat-sheet: namespaceSelector all() selects every namespace; global() selects no namespace (not a namespace selection)', () => {
    const a = analyze(`
apiVersion: projectcalico.org/v3
kind: NetworkPolicy
metadata: {name: from-anywhere, namespace: prod}
spec:
  selector: app == 'api'
  ingress:
    - action: Allow
      source:
        namespaceSelector: all()
    - action: Allow
      source:
        namespaceSelector: global()
    - action: Allow
      source:
        namespaceSelector: all()
        selector: app == 'prometheus'
    - action: Allow
      source:
        namespaceSelector: "  "
`);
    expect(peerSelects(a, 'ingress', 0)).toEqual(EVERY_NAMESPACE);
    // global() selects only host endpoints and global network sets: not a namespace selection.
    expect(peerSelects(a, 'ingress', 1)).toBeNull();
    expect(peerSelects(a, 'ingress', 2)).toEqual(EVERY_NAMESPACE);
    // A whitespace-only namespaceSelector is set (Go's != "") and parses as all().
    expect(peerSelects(a, 'ingress', 3)).toEqual(EVERY_NAMESPACE);
  });

  it('selects namespaces by label with namespaceSelector and reports its positive terms', () => {
    const a = analyze(`
apiVersion: projectcalico.org/v3
kind: NetworkPolicy
metadata: {name: from-monitoring, namespace: prod}
spec:
  ingress:
    - action: Allow
      source:
        namespaceSelector: purpose == 'monitoring' || env in {'staging', 'qa'}
        selector: app == 'prometheus'
    - action: Allow
      source:
        namespaceSelector: env != 'prod' && !(team == 'payments')
    - action: Allow
      source:
        namespaceSelector: purpose == 'monitorng'
`);
    expect(peerSelects(a, 'ingress', 0)).toEqual(['monitoring', 'staging']);
    expect(peer(a, 'ingress', 0).terms).toEqual([
      { key: 'purpose', value: 'monitoring' },
      { key: 'env', value: 'qa' },
      { key: 'env', value: 'staging' },
    ]);
    // != and !has() select namespaces without the label; negated terms are not near-miss candidates.
    expect(peerSelects(a, 'ingress', 1)).toEqual(['default', 'dev', 'kube-system', 'monitoring']);
    expect(peer(a, 'ingress', 1).terms).toEqual([]);
    // A typo selects nothing, and its term is there for near-miss detection.
    expect(peerSelects(a, 'ingress', 2)).toEqual([]);
    expect(peer(a, 'ingress', 2).terms).toEqual([{ key: 'purpose', value: 'monitorng' }]);
  });

  it('selects namespaces by name through projectcalico.org/name and kubernetes.io/metadata.name', () => {
    const a = analyze(`
apiVersion: projectcalico.org/v3
kind: NetworkPolicy
metadata: {name: from-kube-system, namespace: prod}
spec:
  ingress:
    - action: Allow
      source:
        namespaceSelector: projectcalico.org/name == 'kube-system'
    - action: Allow
      source:
        namespaceSelector: kubernetes.io/metadata.name in {'kube-system', 'monitoring'}
`);
    expect(peerSelects(a, 'ingress', 0)).toEqual(['kube-system']);
    // The name key is not a label: it is never offered as a near-miss term.
    expect(peer(a, 'ingress', 0).terms).toEqual([]);
    expect(peerSelects(a, 'ingress', 1)).toEqual(['kube-system', 'monitoring']);
    expect(peer(a, 'ingress', 1).terms).toEqual([
      { key: 'kubernetes.io/metadata.name', value: 'kube-system' },
      { key: 'kubernetes.io/metadata.name', value: 'monitoring' },
    ]);
  });

  it('never takes near-miss terms from the pod selector', () => {
    const a = analyze(`
apiVersion: projectcalico.org/v3
kind: NetworkPolicy
metadata: {name: pods-only, namespace: prod}
spec:
  ingress:
    - action: Allow
      source:
        selector: env == 'prod'
`);
    expect(peer(a, 'ingress', 0).terms).toEqual([]);
  });

  it('makes a peer whose endpoint selector can never match select no namespace', () => {
    const a = analyze(`
apiVersion: projectcalico.org/v3
kind: NetworkPolicy
metadata: {name: impossible, namespace: prod}
spec:
  ingress:
    - action: Allow
      source:
        namespaceSelector: env == 'staging'
        selector: has(app) && !has(app)
    - action: Allow
      source:
        selector: tier in {}
    - action: Allow
      source:
        notSelector: all()
    - action: Allow
      source:
        notSelector: has(role) || !has(role)
    - action: Allow
      source:
        namespaceSelector: all()
        selector: (tier == 'web' || tier == 'api') && tier == 'db'
    - action: Allow
      source:
        notSelector: has(role)
`);
    expect(peerSelects(a, 'ingress', 0)).toEqual([]);
    expect(peer(a, 'ingress', 0).terms).toEqual([]);
    expect(peerSelects(a, 'ingress', 1)).toEqual([]);
    expect(peerSelects(a, 'ingress', 2)).toEqual([]);
    expect(peerSelects(a, 'ingress', 3)).toEqual([]);
    expect(peerSelects(a, 'ingress', 4)).toEqual([]);
    // A notSelector that leaves some endpoints keeps the policy namespace.
    expect(peerSelects(a, 'ingress', 5)).toEqual(['prod']);
  });

  it('applies to nothing, and protects nothing, when its selector can never match', () => {
    const a = analyze(`
apiVersion: projectcalico.org/v3
kind: NetworkPolicy
metadata: {name: contradiction, namespace: prod}
spec:
  selector: app == 'api' && app == 'web'
`);
    expect(selected(a.appliesTo)).toEqual([]);
    expect(a.protects).toBe(false);
  });

  it('uses the destination as peer 0 of an egress rule', () => {
    const a = analyze(`
apiVersion: projectcalico.org/v3
kind: NetworkPolicy
metadata: {name: egress-to-db, namespace: prod}
spec:
  selector: app == 'api'
  types: [Egress]
  egress:
    - action: Allow
      source:
        selector: role == 'client'
      destination:
        namespaceSelector: env == 'staging'
        selector: app == 'db'
    - action: Allow
      protocol: UDP
      destination:
        selector: k8s-app == 'kube-dns'
        namespaceSelector: projectcalico.org/name == 'kube-system'
        ports: [53]
`);
    expect(a.peers.map((p) => [p.direction, p.rule, p.peer, p.field])).toEqual([
      ['egress', 0, 0, 'spec.egress[0].destination'],
      ['egress', 1, 0, 'spec.egress[1].destination'],
    ]);
    expect(peerSelects(a, 'egress', 0)).toEqual(['staging']);
    expect(peerSelects(a, 'egress', 1)).toEqual(['kube-system']);
    expect(selected(a.appliesTo)).toEqual(['prod']);
  });

  it('defaults types like Calico: egress-only rules give [Egress], so only egress peers exist', () => {
    const egressOnly = analyze(`
apiVersion: projectcalico.org/v3
kind: NetworkPolicy
metadata: {name: egress-only, namespace: dev}
spec:
  egress:
    - action: Allow
      destination:
        namespaceSelector: all()
`);
    expect(egressOnly.peers.map((p) => p.direction)).toEqual(['egress']);
    expect(egressOnly.protects).toBe(true);

    const both = analyze(`
apiVersion: projectcalico.org/v3
kind: NetworkPolicy
metadata: {name: both, namespace: dev}
spec:
  ingress:
    - action: Allow
      source: {selector: all()}
  egress:
    - action: Allow
      destination: {selector: all()}
`);
    expect(both.peers.map((p) => p.direction)).toEqual(['ingress', 'egress']);

    // Explicit types are kept: egress rules of an Ingress-only policy are never evaluated.
    const explicit = analyze(`
apiVersion: projectcalico.org/v3
kind: NetworkPolicy
metadata: {name: explicit, namespace: dev}
spec:
  types: [Ingress]
  ingress:
    - action: Allow
      source: {selector: all()}
  egress:
    - action: Allow
      destination:
        namespaceSelector: "env == 'prod"
`);
    expect(explicit.peers.map((p) => p.direction)).toEqual(['ingress']);
    // ...but their selectors are still checked.
    expect(explicit.issues.map((i) => i.field)).toEqual(['spec.egress[0].destination.namespaceSelector']);
  });

  it('reads a manifest without metadata.namespace as the default namespace', () => {
    const a = analyze(`
apiVersion: projectcalico.org/v3
kind: NetworkPolicy
metadata: {name: no-namespace}
spec:
  ingress:
    - action: Allow
      source: {selector: app == 'x'}
`);
    expect(selected(a.appliesTo)).toEqual(['default']);
    expect(peerSelects(a, 'ingress', 0)).toEqual(['default']);
  });
});

describe('Calico GlobalNetworkPolicy', () => {
  it('cheat-sheet: a GNP selector without namespaceSelector spans every namespace', () => {
    const a = analyze(`
apiVersion: projectcalico.org/v3
kind: GlobalNetworkPolicy
metadata:
  name: deny-all-but-dns
spec:
  order: 2000
  selector: projectcalico.org/namespace not in {'kube-system'}
  types: [Ingress, Egress]
  egress:
    - action: Allow
      protocol: UDP
      destination:
        selector: k8s-app == 'kube-dns'
        ports: [53]
    - action: Allow
      destination:
        nets: [169.254.169.254/32]
`);
    expect(a.ref).toEqual({ kind: 'GlobalNetworkPolicy', namespace: null, name: 'deny-all-but-dns' });
    expect(selected(a.appliesTo)).toEqual(EVERY_NAMESPACE);
    expect(a.protects).toBe(true);
    // A rule selector in a GNP is not namespace-scoped; nets alone are no namespace selection.
    expect(peerSelects(a, 'egress', 0)).toEqual(EVERY_NAMESPACE);
    expect(peerSelects(a, 'egress', 1)).toBeNull();
  });

  it('ANDs the subject with the policy-level namespaceSelector', () => {
    const a = analyze(`
apiVersion: projectcalico.org/v3
kind: GlobalNetworkPolicy
metadata: {name: payments-isolation}
spec:
  namespaceSelector: team == 'payments'
  selector: all()
  ingress:
    - action: Allow
      source:
        namespaceSelector: team == 'payments'
`);
    expect(selected(a.appliesTo)).toEqual(['prod', 'staging']);
    expect(peerSelects(a, 'ingress', 0)).toEqual(['prod', 'staging']);
    expect(peer(a, 'ingress', 0).terms).toEqual([{ key: 'team', value: 'payments' }]);
  });

  it('reads a policy-level namespaceSelector all() as every namespace', () => {
    const a = analyze(`
apiVersion: projectcalico.org/v3
kind: GlobalNetworkPolicy
metadata: {name: pods-only}
spec:
  namespaceSelector: all()
  types: [Ingress]
`);
    expect(selected(a.appliesTo)).toEqual(EVERY_NAMESPACE);
    expect(a.protects).toBe(true);
  });

  it('flags global() in the policy-level namespaceSelector, which Felix evaluates as true', () => {
    const a = analyze(`
apiVersion: projectcalico.org/v3
kind: GlobalNetworkPolicy
metadata: {name: misplaced-global}
spec:
  namespaceSelector: global()
`);
    expect(a.issues.map((i) => i.field)).toEqual(['spec.namespaceSelector']);
    expect(selected(a.appliesTo)).toEqual(EVERY_NAMESPACE);
  });

  it('cheat-sheet: rule namespaceSelector global() is not a namespace selection, all() selects every one', () => {
    const a = analyze(`
apiVersion: projectcalico.org/v3
kind: GlobalNetworkPolicy
metadata: {name: hosts}
spec:
  selector: has(node-role)
  ingress:
    - action: Allow
      source:
        namespaceSelector: global()
        selector: role == 'bastion'
    - action: Allow
      source:
        namespaceSelector: all()
`);
    expect(peerSelects(a, 'ingress', 0)).toBeNull();
    expect(peerSelects(a, 'ingress', 1)).toEqual(EVERY_NAMESPACE);
  });

  it('treats serviceAccounts like a selector and notSelector alone as no namespace selection', () => {
    const a = analyze(`
apiVersion: projectcalico.org/v3
kind: GlobalNetworkPolicy
metadata: {name: sa}
spec:
  ingress:
    - action: Allow
      source:
        serviceAccounts: {names: [prometheus]}
    - action: Deny
      source:
        notSelector: has(trusted)
`);
    expect(peerSelects(a, 'ingress', 0)).toEqual(EVERY_NAMESPACE);
    expect(peerSelects(a, 'ingress', 1)).toBeNull();
  });

  it('applies to nothing when its selector can never match', () => {
    const a = analyze(`
apiVersion: projectcalico.org/v3
kind: GlobalNetworkPolicy
metadata: {name: never}
spec:
  selector: "!all()"
`);
    expect(selected(a.appliesTo)).toEqual([]);
    expect(a.protects).toBe(false);
  });
});

describe('crd.projectcalico.org/v1 storage objects', () => {
  it('are read like projectcalico.org/v3', () => {
    const [np, gnp] = objects(`
apiVersion: crd.projectcalico.org/v1
kind: NetworkPolicy
metadata:
  name: default.allow-monitoring
  namespace: prod
  resourceVersion: "4711"
spec:
  tier: default
  order: 100
  selector: app == "api"
  ingress:
  - action: Allow
    source:
      namespaceSelector: purpose == "monitoring"
  types:
  - Ingress
---
apiVersion: crd.projectcalico.org/v1
kind: GlobalNetworkPolicy
metadata:
  name: default.global-deny
spec:
  tier: default
  order: 5000
  namespaceSelector: has(env)
  selector: ""
  egress:
  - action: Allow
    destination:
      namespaceSelector: env == "dev"
`);
    const a = calicoEngine.analyze(np!, DEFAULT_ENGINE_SETTINGS);
    expect(selected(a.appliesTo)).toEqual(['prod']);
    expect(peerSelects(a, 'ingress', 0)).toEqual(['monitoring']);
    const g = calicoEngine.analyze(gnp!, DEFAULT_ENGINE_SETTINGS);
    expect(selected(g.appliesTo)).toEqual(['dev', 'prod', 'staging']);
    expect(g.peers.map((p) => p.field)).toEqual(['spec.egress[0].destination']);
    expect(peerSelects(g, 'egress', 0)).toEqual(['dev']);
  });
});

describe('staged policies', () => {
  it('are analysed but never protect', () => {
    const [np, gnp] = objects(`
apiVersion: projectcalico.org/v3
kind: StagedNetworkPolicy
metadata: {name: trial, namespace: prod}
spec:
  stagedAction: Set
  selector: all()
  ingress:
    - action: Allow
      source: {namespaceSelector: env == 'dev'}
---
apiVersion: projectcalico.org/v3
kind: StagedGlobalNetworkPolicy
metadata: {name: trial-global}
spec:
  stagedAction: Set
  selector: all()
`);
    const a = calicoEngine.analyze(np!, DEFAULT_ENGINE_SETTINGS);
    expect(a.protects).toBe(false);
    expect(selected(a.appliesTo)).toEqual(['prod']);
    expect(peerSelects(a, 'ingress', 0)).toEqual(['dev']);
    const g = calicoEngine.analyze(gnp!, DEFAULT_ENGINE_SETTINGS);
    expect(g.protects).toBe(false);
    expect(selected(g.appliesTo)).toEqual(EVERY_NAMESPACE);
  });
});

describe('invalid selectors and malformed objects', () => {
  it('reports every invalid selector with its field path and marks the peer invalid', () => {
    const a = analyze(`
apiVersion: projectcalico.org/v3
kind: NetworkPolicy
metadata: {name: broken, namespace: prod}
spec:
  selector: app = 'api'
  ingress:
    - action: Allow
      source:
        namespaceSelector: env == prod
    - action: Allow
      source:
        selector: |
          app == 'web'
    - action: Allow
      source:
        serviceAccounts:
          selector: "role in ('a')"
      destination:
        notSelector: "has(x"
  egress:
    - action: Allow
      destination:
        namespaceSelector: 42
`);
    expect(a.issues.map((i) => i.field)).toEqual([
      'spec.selector',
      'spec.ingress[0].source.namespaceSelector',
      'spec.ingress[1].source.selector',
      'spec.ingress[2].destination.notSelector',
      'spec.ingress[2].source.serviceAccounts.selector',
      'spec.egress[0].destination.namespaceSelector',
    ]);
    expect(a.issues[0]!.message).toMatch(/expected '=='.*character 4/);
    expect(a.appliesTo).toEqual({ op: 'none' });
    expect(a.protects).toBe(false);
    expect(a.peers.map((p) => [p.field, p.valid])).toEqual([
      ['spec.ingress[0].source', false],
      ['spec.ingress[1].source', false],
      ['spec.ingress[2].source', false],
      ['spec.egress[0].destination', false],
    ]);
  });

  it('never throws on malformed specs', () => {
    const docs = objects(`
apiVersion: projectcalico.org/v3
kind: NetworkPolicy
metadata: {name: no-spec, namespace: prod}
---
apiVersion: projectcalico.org/v3
kind: NetworkPolicy
metadata: {name: string-spec, namespace: prod}
spec: "selector: all()"
---
apiVersion: projectcalico.org/v3
kind: GlobalNetworkPolicy
metadata: {name: odd-types}
spec:
  selector: 7
  namespaceSelector: [a]
  types: Ingress
  ingress: {action: Allow}
  egress:
    - "allow everything"
    - null
    - action: Allow
      destination: "everything"
    - action: Allow
      destination:
        serviceAccounts: [a]
        selector: true
---
apiVersion: projectcalico.org/v3
kind: GlobalNetworkPolicy
metadata: {name: bad-types}
spec:
  types: [Ingress, Sideways]
  ingress:
    - action: Allow
      source:
        serviceAccounts: {names: frontend}
`);
    const results = docs.map((d) => calicoEngine.analyze(d, DEFAULT_ENGINE_SETTINGS));
    expect(results[0]!.issues).toEqual([]);
    expect(selected(results[0]!.appliesTo)).toEqual(['prod']);
    expect(results[1]!.issues.map((i) => i.field)).toEqual(['spec']);
    expect(results[2]!.issues.map((i) => i.field)).toEqual([
      'spec.selector',
      'spec.namespaceSelector',
      'spec.types',
      'spec.ingress',
      'spec.egress[0]',
      'spec.egress[1]',
      'spec.egress[2].destination',
      'spec.egress[3].destination.selector',
      'spec.egress[3].destination.serviceAccounts',
    ]);
    expect(results[2]!.protects).toBe(false);
    expect(results[3]!.issues.map((i) => i.field)).toEqual([
      'spec.types[1]',
      'spec.ingress[0].source.serviceAccounts.names',
    ]);
  });

  it('never throws on arbitrary JSON', () => {
    const json = fc.jsonValue({ maxDepth: 5 });
    const selectorish = fc.oneof(fc.constantFrom('all()', 'global()', "a == 'b'", 'has(', ''), json);
    const entity = fc.record(
      {
        namespaceSelector: selectorish,
        selector: selectorish,
        notSelector: selectorish,
        serviceAccounts: fc.oneof(fc.record({ names: json, selector: selectorish }, { requiredKeys: [] }), json),
        nets: json,
      },
      { requiredKeys: [] },
    );
    const rule = fc.oneof(fc.record({ action: json, source: entity, destination: entity }, { requiredKeys: [] }), json);
    const spec = fc.oneof(
      fc.record(
        {
          selector: selectorish,
          namespaceSelector: selectorish,
          serviceAccountSelector: selectorish,
          types: fc.oneof(fc.array(fc.constantFrom('Ingress', 'Egress', 'Other')), json),
          ingress: fc.oneof(fc.array(rule, { maxLength: 3 }), json),
          egress: fc.oneof(fc.array(rule, { maxLength: 3 }), json),
        },
        { requiredKeys: [] },
      ),
      json,
    );
    const obj = fc.record({
      kind: fc.constantFrom('NetworkPolicy', 'GlobalNetworkPolicy', 'StagedNetworkPolicy', 'StagedGlobalNetworkPolicy'),
      namespace: fc.option(fc.constantFrom('prod', '')),
      body: fc.oneof(fc.record({ spec }, { requiredKeys: [] }), fc.dictionary(fc.string(), json)),
    });
    fc.assert(
      fc.property(obj, ({ kind, namespace, body }) => {
        const a = calicoEngine.analyze(
          { apiVersion: 'projectcalico.org/v3', kind, name: 'x', namespace, body },
          DEFAULT_ENGINE_SETTINGS,
        );
        expect(a.engine).toBe('calico');
        index.select(a.appliesTo);
        for (const p of a.peers) if (p.namespaces) index.select(p.namespaces);
      }),
      { numRuns: 500 },
    );
  });
});
