import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { ciliumEngine, createCiliumEngine } from '../../../lambda/audit/engines/cilium.js';
import {
  DEFAULT_ENGINE_SETTINGS,
  type EngineSettings,
  type PeerAnalysis,
  type PolicyAnalysis,
} from '../../../lambda/audit/engines/types.js';
import type { ResourceObject } from '../../../lambda/audit/model.js';
import { createNamespaceIndex } from '../../../lambda/audit/namespace-index.js';
import type { LabelQuery } from '../../../lambda/audit/selectors/query.js';

const index = createNamespaceIndex([
  { name: 'default', labels: {} },
  { name: 'kube-system', labels: {} },
  { name: 'payments', labels: { team: 'payments', env: 'prod' } },
  { name: 'payments-staging', labels: { team: 'payments', env: 'staging' } },
  { name: 'monitoring', labels: { purpose: 'monitoring' } },
  { name: 'legacy', labels: { 'failure-domain.beta.kubernetes.io/zone': 'eu-1a' } },
]);
const EVERY_NAMESPACE = [...index.names];
const OLD_AGENTS: EngineSettings = { ...DEFAULT_ENGINE_SETTINGS, ciliumNamespaceLabels: 'policy-namespace' };

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
      source: { file: 'cilium-policies.yaml', line: i + 1 },
    };
  });
}

function analyze(yamlText: string, settings: EngineSettings = DEFAULT_ENGINE_SETTINGS): PolicyAnalysis {
  const [obj] = objects(yamlText);
  expect(ciliumEngine.handles(obj!)).toBe(true);
  return ciliumEngine.analyze(obj!, settings);
}

const names = (q: LabelQuery | null): string[] | null => (q === null ? null : index.namesOf(index.select(q)));
const peer = (a: PolicyAnalysis, field: string): PeerAnalysis => {
  const p = a.peers.find((x) => x.field === field);
  if (!p) throw new Error(`no peer at ${field}; have ${a.peers.map((x) => x.field).join(', ')}`);
  return p;
};

describe('ciliumEngine.handles', () => {
  it('handles CiliumNetworkPolicy and CiliumClusterwideNetworkPolicy of cilium.io only', () => {
    const obj = (apiVersion: string, kind: string): ResourceObject => ({
      apiVersion,
      kind,
      name: 'x',
      namespace: null,
      body: {},
    });
    expect(ciliumEngine.handles(obj('cilium.io/v2', 'CiliumNetworkPolicy'))).toBe(true);
    expect(ciliumEngine.handles(obj('cilium.io/v2', 'CiliumClusterwideNetworkPolicy'))).toBe(true);
    expect(ciliumEngine.handles(obj('networking.k8s.io/v1', 'NetworkPolicy'))).toBe(false);
    expect(ciliumEngine.handles(obj('cilium.io/v2alpha1', 'CiliumCIDRGroup'))).toBe(false);
    expect(ciliumEngine.handles(obj('example.com/v1', 'CiliumNetworkPolicy'))).toBe(false);
  });
});

describe('CiliumNetworkPolicy', () => {
  const allowSameNamespace = `
apiVersion: cilium.io/v2
kind: CiliumNetworkPolicy
metadata:
  name: allow-same-namespace
  namespace: payments
spec:
  endpointSelector: {}
  ingress:
    - fromEndpoints:
        - {}
`;

  it('applies to the policy namespace; an empty peer selects pods of the policy namespace only', () => {
    const a = analyze(allowSameNamespace);
    expect(a.engine).toBe('cilium');
    expect(a.ref).toEqual({ kind: 'CiliumNetworkPolicy', namespace: 'payments', name: 'allow-same-namespace' });
    expect(a.source).toEqual({ file: 'cilium-policies.yaml', line: 1 });
    expect(names(a.appliesTo)).toEqual(['payments']);
    expect(a.protects).toBe(true);
    expect(a.issues).toEqual([]);
    expect(a.peers).toEqual([
      {
        direction: 'ingress',
        rule: 0,
        peer: 0,
        field: 'spec.ingress[0].fromEndpoints[0]',
        namespaces: expect.anything() as unknown,
        valid: true,
        terms: [],
      },
    ]);
    expect(names(a.peers[0]!.namespaces)).toEqual(['payments']);
  });

  it('pins the subject to the policy namespace even when it names another one', () => {
    const a = analyze(`
apiVersion: cilium.io/v2
kind: CiliumNetworkPolicy
metadata: { name: sneaky, namespace: payments }
spec:
  endpointSelector:
    matchLabels:
      k8s:io.kubernetes.pod.namespace: monitoring
      app: api
  ingress: [{}]
`);
    expect(names(a.appliesTo)).toEqual(['payments']);
  });

  it('selects nothing with a subject whose any-source namespace key names another namespace', () => {
    const a = analyze(`
apiVersion: cilium.io/v2
kind: CiliumNetworkPolicy
metadata: { name: contradiction, namespace: payments }
spec:
  endpointSelector:
    matchLabels:
      io.kubernetes.pod.namespace: monitoring
  ingress: [{}]
`);
    expect(names(a.appliesTo)).toEqual([]);
  });

  it('reads peers by namespace name, by namespace labels (per agent version) and reserved identities', () => {
    const yamlText = `
apiVersion: cilium.io/v2
kind: CiliumNetworkPolicy
metadata:
  name: api-ingress
  namespace: payments
spec:
  endpointSelector:
    matchLabels:
      app: api
  ingress:
    - fromEndpoints:
        - matchLabels:
            k8s:io.kubernetes.pod.namespace: monitoring
            app.kubernetes.io/name: prometheus
        - matchLabels:
            io.cilium.k8s.namespace.labels.team: payments
        - matchExpressions:
            - key: io.kubernetes.pod.namespace
              operator: Exists
        - matchLabels:
            reserved:host: ""
      toPorts:
        - ports: [{ port: "8080", protocol: TCP }]
`;
    const a = analyze(yamlText);
    expect(names(peer(a, 'spec.ingress[0].fromEndpoints[0]').namespaces)).toEqual(['monitoring']);
    const byLabel = peer(a, 'spec.ingress[0].fromEndpoints[1]');
    expect(names(byLabel.namespaces)).toEqual(['payments', 'payments-staging']);
    expect(byLabel.terms).toEqual([{ key: 'team', value: 'payments' }]);
    expect(names(peer(a, 'spec.ingress[0].fromEndpoints[2]').namespaces)).toEqual(EVERY_NAMESPACE);
    expect(peer(a, 'spec.ingress[0].fromEndpoints[3]').namespaces).toBeNull();
    expect(names(peer(analyze(yamlText, OLD_AGENTS), 'spec.ingress[0].fromEndpoints[1]').namespaces)).toEqual([
      'payments',
    ]);
  });

  it('reports deny sections and Requires lists with their own rule index and a field naming the list', () => {
    const a = analyze(`
apiVersion: cilium.io/v2
kind: CiliumNetworkPolicy
metadata: { name: deny-staging, namespace: payments }
spec:
  endpointSelector: {}
  egress:
    - toEndpoints: [{}]
  egressDeny:
    - toEndpoints:
        - matchLabels:
            io.cilium.k8s.namespace.labels.env: staging
  ingressDeny:
    - fromRequires:
        - matchLabels:
            io.cilium.k8s.namespace.labels.env: prod
`);
    const deny = peer(a, 'spec.egressDeny[0].toEndpoints[0]');
    expect(deny).toMatchObject({ direction: 'egress', rule: 0, peer: 0, valid: true });
    expect(names(deny.namespaces)).toEqual(['payments-staging']);
    const requires = peer(a, 'spec.ingressDeny[0].fromRequires[0]');
    expect(requires).toMatchObject({ direction: 'ingress', rule: 0, peer: 0, terms: [{ key: 'env', value: 'prod' }] });
    expect(names(requires.namespaces)).toEqual(['payments']);
    expect(a.protects).toBe(true);
  });

  it('turns entities, CIDRs, FQDNs and services into peers that are not namespace selections', () => {
    const a = analyze(`
apiVersion: cilium.io/v2
kind: CiliumNetworkPolicy
metadata: { name: egress-out, namespace: payments }
spec:
  endpointSelector: {}
  ingress:
    - fromEntities: [cluster]
    - fromCIDRSet: [{ cidr: 10.0.0.0/8 }]
  egress:
    - toFQDNs: [{ matchName: api.example.com }]
    - toCIDR: [192.0.2.0/24]
      toServices: [{ k8sService: { serviceName: db, namespace: data } }]
`);
    expect(a.peers.map((p) => [p.field, p.direction, p.rule, p.namespaces])).toEqual([
      ['spec.ingress[0].fromEntities[0]', 'ingress', 0, null],
      ['spec.ingress[1].fromCIDRSet[0]', 'ingress', 1, null],
      ['spec.egress[0].toFQDNs[0]', 'egress', 0, null],
      ['spec.egress[1].toCIDR[0]', 'egress', 1, null],
      ['spec.egress[1].toServices[0]', 'egress', 1, null],
    ]);
    expect(a.peers.every((p) => p.valid && p.terms.length === 0)).toBe(true);
  });

  it('treats a namespace label dropped by the identity filter as absent', () => {
    const a = analyze(`
apiVersion: cilium.io/v2
kind: CiliumNetworkPolicy
metadata: { name: zone, namespace: payments }
spec:
  endpointSelector: {}
  ingress:
    - fromEndpoints:
        - matchLabels:
            io.cilium.k8s.namespace.labels.failure-domain.beta.kubernetes.io/zone: eu-1a
`);
    expect(names(a.peers[0]!.namespaces)).toEqual([]);
    expect(a.peers[0]!.terms).toEqual([]);
  });

  it('applies to the default namespace when the manifest has no namespace', () => {
    const a = analyze(`
apiVersion: cilium.io/v2
kind: CiliumNetworkPolicy
metadata: { name: no-namespace }
spec:
  endpointSelector: {}
  ingress: [{}]
`);
    expect(names(a.appliesTo)).toEqual(['default']);
  });
});

describe('default deny (protects)', () => {
  const policy = (rule: string): PolicyAnalysis =>
    analyze(`
apiVersion: cilium.io/v2
kind: CiliumNetworkPolicy
metadata: { name: p, namespace: payments }
spec:
  endpointSelector: {}
${rule}
`);

  it.each([
    ['  ingress: [{}]', true],
    ['  egress:\n    - toEntities: [world]', true],
    ['  ingressDeny:\n    - fromEntities: [world]', true],
    ['  ingress: []', false],
    ['  egress: []\n  ingress: []', false],
    ['  description: nothing here', false],
    ['  ingress: [{}]\n  enableDefaultDeny: { ingress: false }', false],
    ['  ingress: [{}]\n  egress: [{}]\n  enableDefaultDeny: { ingress: false, egress: false }', false],
    ['  ingress: [{}]\n  egress: [{}]\n  enableDefaultDeny: { ingress: false }', true],
  ])('%j protects: %s', (rule, expected) => {
    expect(policy(rule).protects).toBe(expected);
  });
});

describe('spec and specs', () => {
  it('applies every rule of spec and specs, with fields under specs[k]', () => {
    const a = analyze(`
apiVersion: cilium.io/v2
kind: CiliumClusterwideNetworkPolicy
metadata:
  name: platform
spec:
  endpointSelector:
    matchLabels:
      io.cilium.k8s.namespace.labels.purpose: monitoring
  ingress: [{}]
specs:
  - endpointSelector:
      matchLabels:
        io.cilium.k8s.namespace.labels.team: payments
    egress:
      - toEndpoints:
          - matchLabels:
              k8s:io.kubernetes.pod.namespace: kube-system
              k8s-app: kube-dns
  - nodeSelector:
      matchLabels:
        node-role.kubernetes.io/control-plane: ""
    ingress:
      - fromEntities: [cluster]
`);
    expect(a.ref).toEqual({ kind: 'CiliumClusterwideNetworkPolicy', namespace: null, name: 'platform' });
    expect(names(a.appliesTo)).toEqual(['monitoring', 'payments', 'payments-staging']);
    expect(a.peers.map((p) => p.field)).toEqual([
      'specs[0].egress[0].toEndpoints[0]',
      'specs[1].ingress[0].fromEntities[0]',
    ]);
    expect(names(a.peers[0]!.namespaces)).toEqual(['kube-system']);
    expect(a.issues).toEqual([]);
  });

  it('reports a policy with neither spec nor specs', () => {
    const a = analyze(`
apiVersion: cilium.io/v2
kind: CiliumNetworkPolicy
metadata: { name: empty, namespace: payments }
`);
    expect(a.issues).toEqual([
      { field: 'spec', message: expect.stringContaining('neither spec nor specs') as unknown },
    ]);
    expect(names(a.appliesTo)).toEqual([]);
    expect(a.protects).toBe(false);
  });
});

describe('CiliumClusterwideNetworkPolicy', () => {
  it('does not scope the subject; an empty peer selects pods of every namespace', () => {
    const a = analyze(`
apiVersion: cilium.io/v2
kind: CiliumClusterwideNetworkPolicy
metadata: { name: cluster-default-deny }
spec:
  endpointSelector: {}
  ingress:
    - fromEndpoints: [{}]
`);
    expect(names(a.appliesTo)).toEqual(EVERY_NAMESPACE);
    expect(names(a.peers[0]!.namespaces)).toEqual(EVERY_NAMESPACE);
  });

  it('selects pods by namespace labels in the subject, whatever the agent version', () => {
    const yamlText = `
apiVersion: cilium.io/v2
kind: CiliumClusterwideNetworkPolicy
metadata: { name: prod-only }
spec:
  endpointSelector:
    matchExpressions:
      - key: io.cilium.k8s.namespace.labels.env
        operator: In
        values: [prod]
  ingress:
    - fromEndpoints:
        - matchLabels:
            io.cilium.k8s.namespace.labels.purpose: monitoring
`;
    expect(names(analyze(yamlText).appliesTo)).toEqual(['payments']);
    expect(names(analyze(yamlText, OLD_AGENTS).peers[0]!.namespaces)).toEqual(['monitoring']);
  });

  it('applies a nodeSelector-only rule to no namespace', () => {
    const a = analyze(`
apiVersion: cilium.io/v2
kind: CiliumClusterwideNetworkPolicy
metadata: { name: host-firewall }
spec:
  nodeSelector: {}
  ingress:
    - fromEntities: [cluster]
`);
    expect(names(a.appliesTo)).toEqual([]);
    expect(a.protects).toBe(false);
    expect(a.issues).toEqual([]);
  });
});

describe('invalid input becomes issues', () => {
  it('marks an invalid peer selector invalid and reports its field', () => {
    const a = analyze(`
apiVersion: cilium.io/v2
kind: CiliumNetworkPolicy
metadata: { name: typo, namespace: payments }
spec:
  endpointSelector: {}
  ingress:
    - fromEndpoints:
        - matchExpressions:
            - key: io.cilium.k8s.namespace.labels.team
              operator: in
              values: [payments]
        - matchLabels:
            replicas: 3
`);
    expect(a.peers.map((p) => p.valid)).toEqual([false, false]);
    expect(names(a.peers[0]!.namespaces)).toEqual([]);
    expect(a.issues.map((i) => i.field)).toEqual([
      'spec.ingress[0].fromEndpoints[0]',
      'spec.ingress[0].fromEndpoints[1]',
    ]);
    expect(a.issues[0]!.message).toContain('did you mean In?');
    expect(a.issues[1]!.message).toContain('must be a string');
  });

  it('reports rule-level mistakes: no subject, a CNP nodeSelector, both selectors, wrong list types', () => {
    const a = analyze(`
apiVersion: cilium.io/v2
kind: CiliumNetworkPolicy
metadata: { name: broken, namespace: payments }
specs:
  - ingress: [{}]
  - nodeSelector: {}
  - endpointSelector: {}
    nodeSelector: {}
  - endpointSelector:
      matchLabels: { app: "-bad" }
  - endpointSelector: {}
    ingress: {}
    egress:
      - toEndpoints: {}
  - "not a rule"
`);
    expect(a.issues.map((i) => i.field)).toEqual([
      'specs[0].endpointSelector',
      'specs[1].nodeSelector',
      'specs[2]',
      'specs[3].endpointSelector',
      'specs[4].ingress',
      'specs[4].egress[0].toEndpoints',
      'specs[5]',
    ]);
    expect(names(a.appliesTo)).toEqual(['payments']);
  });

  it('never throws, whatever the body (property)', () => {
    const selector = fc.oneof(
      fc.anything(),
      fc.record({ matchLabels: fc.dictionary(fc.string(), fc.oneof(fc.string(), fc.integer())) }, { requiredKeys: [] }),
    );
    const section = fc.dictionary(
      fc.constantFrom('fromEndpoints', 'toEndpoints', 'fromRequires', 'toEntities', 'toFQDNs'),
      fc.oneof(fc.array(selector, { maxLength: 3 }), fc.anything()),
    );
    const rule = fc.dictionary(
      fc.constantFrom('endpointSelector', 'nodeSelector', 'ingress', 'egress', 'ingressDeny', 'enableDefaultDeny'),
      fc.oneof(selector, fc.array(section, { maxLength: 2 }), fc.anything()),
    );
    const body = fc.oneof(
      fc.record(
        { spec: fc.oneof(rule, fc.anything()), specs: fc.oneof(fc.array(rule, { maxLength: 2 }), fc.anything()) },
        { requiredKeys: [] },
      ),
      fc.dictionary(fc.string(), fc.anything()),
    );
    const engine = createCiliumEngine({ policyDefaultLocalCluster: true });
    fc.assert(
      fc.property(
        body,
        fc.constantFrom('CiliumNetworkPolicy', 'CiliumClusterwideNetworkPolicy'),
        fc.constantFrom('team-a', null),
        (b, kind, namespace) => {
          const a = engine.analyze(
            { apiVersion: 'cilium.io/v2', kind, name: 'p', namespace, body: b },
            DEFAULT_ENGINE_SETTINGS,
          );
          index.select(a.appliesTo);
          for (const p of a.peers) if (p.namespaces) index.select(p.namespaces);
          return a.engine === 'cilium' && Array.isArray(a.issues);
        },
      ),
    );
  });
});
