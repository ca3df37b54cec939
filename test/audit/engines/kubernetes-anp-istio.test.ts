import { describe, expect, it } from 'vitest';
import { evaluateCluster } from '../../../lambda/audit/index.js';
import { settings, snapshotOfText } from '../../helpers/fixtures.js';

const NAMESPACES = `
apiVersion: v1
kind: List
items:
  - { apiVersion: v1, kind: Namespace, metadata: { name: app, labels: { ns: app, env: prod } } }
  - { apiVersion: v1, kind: Namespace, metadata: { name: dev, labels: { ns: dev, env: dev } } }
  - { apiVersion: v1, kind: Namespace, metadata: { name: istio-system, labels: { ns: istio-system } } }
  - { apiVersion: v1, kind: Namespace, metadata: { name: kube-system } }
`;

function policies(yaml: string) {
  const r = evaluateCluster(snapshotOfText(`${NAMESPACES}\n---\n${yaml}`), settings());
  return { reports: r.policyReports(), findings: r.findings };
}

describe('Kubernetes NetworkPolicy engine', () => {
  it('peer forms: namespaceSelector {} is all, podSelector alone is the policy namespace, ipBlock is null', () => {
    const { reports } = policies(`
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: { name: p, namespace: app }
spec:
  podSelector: { matchLabels: { app: web } }
  ingress:
    - from:
        - namespaceSelector: {}
        - podSelector: {}
        - ipBlock: { cidr: 10.0.0.0/8 }
        - namespaceSelector: { matchExpressions: [{ key: env, operator: NotIn, values: [prod] }] }
          podSelector: { matchLabels: { role: client } }
  egress:
    - to:
        - namespaceSelector: { matchLabels: { kubernetes.io/metadata.name: kube-system } }
`);
    const p = reports[0]!;
    expect(p.appliesTo).toEqual(['app']);
    expect(p.peers.map((x) => [x.direction, x.rule, x.peer, x.selects])).toEqual([
      ['ingress', 0, 0, ['app', 'dev', 'istio-system', 'kube-system']],
      ['ingress', 0, 1, ['app']],
      ['ingress', 0, 2, null],
      ['ingress', 0, 3, ['dev', 'istio-system', 'kube-system']],
      ['egress', 0, 0, ['kube-system']],
    ]);
  });

  it('an ipBlock combined with a selector, an empty peer and a bad operator are selector-invalid', () => {
    const { findings } = policies(`
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: { name: bad, namespace: app }
spec:
  podSelector: {}
  ingress:
    - from:
        - ipBlock: { cidr: 10.0.0.0/8 }
          podSelector: {}
        - {}
        - namespaceSelector: { matchExpressions: [{ key: env, operator: Exists, values: [x] }] }
`);
    const invalid = findings.filter((f) => f.rule === 'selector-invalid').map((f) => f.message);
    expect(invalid).toHaveLength(3);
    expect(invalid[0]).toContain('may not specify both ipBlock and another peer');
    expect(invalid[1]).toContain('must specify a peer');
    expect(findings.some((f) => f.rule === 'peer-selects-nothing')).toBe(false);
  });
});

describe('AdminNetworkPolicy engine', () => {
  it('subjects and peers are namespaces or pods; egress networks are not namespace selections', () => {
    const { reports } = policies(`
apiVersion: policy.networking.k8s.io/v1alpha1
kind: AdminNetworkPolicy
metadata: { name: tenants }
spec:
  priority: 10
  subject: { namespaces: { matchLabels: { env: prod } } }
  ingress:
    - action: Deny
      from: [{ pods: { namespaceSelector: {}, podSelector: { matchLabels: { app: scanner } } } }]
  egress:
    - action: Allow
      to: [{ networks: [10.0.0.0/8] }, { namespaces: { matchLabels: { ns: dev } } }]
`);
    const p = reports[0]!;
    expect(p.namespace).toBeNull();
    expect(p.appliesTo).toEqual(['app']);
    expect(p.peers.map((x) => x.selects)).toEqual([['app', 'dev', 'istio-system', 'kube-system'], null, ['dev']]);
  });
});

describe('Istio AuthorizationPolicy engine', () => {
  it('matches namespaces by name pattern; a root-namespace policy without selector is mesh-wide', () => {
    const { reports, findings } = policies(`
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: { name: allow, namespace: istio-system }
spec:
  rules:
    - from:
        - source: { namespaces: ['d*'] }
        - source: { namespaces: ['*'], notNamespaces: ['kube-*'] }
        - source: { namespaces: [gone] }
`);
    const p = reports[0]!;
    expect(p.engine).toBe('istio');
    expect(p.appliesTo).toEqual(['app', 'dev', 'istio-system', 'kube-system']);
    expect(p.peers.map((x) => x.selects)).toEqual([['dev'], ['app', 'dev', 'istio-system'], []]);
    expect(findings.filter((f) => f.rule === 'peer-selects-nothing')).toHaveLength(1);
    // Istio does not count as a network boundary.
    expect(findings.filter((f) => f.rule === 'namespace-unprotected').map((f) => f.namespace)).toEqual(
      expect.arrayContaining(['app', 'dev']),
    );
  });
});

describe('completeness', () => {
  it('a failed namespace read is failed and claims no namespace findings', () => {
    const r = evaluateCluster(
      {
        cluster: 'c',
        namespaces: null,
        objects: [],
        reads: [{ resource: 'namespaces', status: 'failed', reason: 'timeout' }],
        problems: [],
      },
      settings(),
    );
    expect(r.status).toBe('failed');
    expect(r.findings.filter((f) => f.namespace !== null)).toEqual([]);
  });
  it('a forbidden policy kind makes the cluster partial and suppresses namespace-unprotected', () => {
    const snap = snapshotOfText(NAMESPACES);
    const r = evaluateCluster(
      {
        ...snap,
        reads: [...snap.reads, { resource: 'ciliumnetworkpolicies.cilium.io', status: 'forbidden', reason: '403' }],
      },
      settings(),
    );
    expect(r.status).toBe('partial');
    expect(r.findings.some((f) => f.rule === 'namespace-unprotected')).toBe(false);
    expect(r.findings.some((f) => f.rule === 'label-missing')).toBe(false); // kube-system is excluded; others labelled
  });
});

describe('an unreachable cluster', () => {
  it('claims nothing, not even enforcement-missing, when only the namespace read is recorded', () => {
    const r = evaluateCluster(
      {
        cluster: 'down',
        namespaces: null,
        objects: [],
        reads: [{ resource: 'namespaces', status: 'failed', reason: 'ECONNREFUSED' }],
        problems: [],
      },
      settings(),
    );
    expect(r.findings).toEqual([]);
  });
});
