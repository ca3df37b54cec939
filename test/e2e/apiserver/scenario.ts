/**
 * The objects the e2e tests put into the real API server: a small shop with a policy of every
 * engine labelguard reads, and namespaces that trip every label rule; plus bulk namespaces for the
 * pagination and parity tests. Every object must pass the API server's own validation.
 */
import { collectionPath, forEachLimited, type KubeClient } from './kube-client.js';

export interface KubeObject {
  readonly apiVersion: string;
  readonly kind: string;
  readonly metadata: { readonly name: string; readonly namespace?: string; readonly labels?: Record<string, string> };
  readonly spec?: unknown;
}

/** The plural each scenario kind is served under. */
const PLURALS: Readonly<Record<string, string>> = {
  Namespace: 'namespaces',
  NetworkPolicy: 'networkpolicies',
  CiliumNetworkPolicy: 'ciliumnetworkpolicies',
  CiliumClusterwideNetworkPolicy: 'ciliumclusterwidenetworkpolicies',
  GlobalNetworkPolicy: 'globalnetworkpolicies',
  AdminNetworkPolicy: 'adminnetworkpolicies',
  BaselineAdminNetworkPolicy: 'baselineadminnetworkpolicies',
  AuthorizationPolicy: 'authorizationpolicies',
  ClusterPolicy: 'clusterpolicies',
  Policy: 'policies',
  ConstraintTemplate: 'constrainttemplates',
  K8sRequiredLabels: 'k8srequiredlabels',
};

export function namespace(name: string, labels: Record<string, string> = {}): KubeObject {
  return { apiVersion: 'v1', kind: 'Namespace', metadata: { name, labels } };
}

const defaultDeny = (ns: string): KubeObject => ({
  apiVersion: 'networking.k8s.io/v1',
  kind: 'NetworkPolicy',
  metadata: { name: 'default-deny', namespace: ns },
  spec: { podSelector: {}, policyTypes: ['Ingress', 'Egress'] },
});

/** The shop: every engine, every label rule, and selections that are right, wrong and near misses. */
export function shopScenario(): KubeObject[] {
  return [
    namespace('team-a', { ns: 'team-a', team: 'payments', tier: 'restricted' }),
    namespace('team-b'), // label-missing
    namespace('payments', { ns: 'payment', team: 'payments' }), // label-invalid
    namespace('web', { ns: 'web', team: 'frontend' }),
    namespace('monitoring', { ns: 'monitoring' }),
    namespace('sandbox', { ns: 'sandbox' }), // namespace-unprotected
    namespace('shared-db', { ns: 'shared-db', env: 'prod' }),
    namespace('istio-system', { ns: 'istio-system' }),
    defaultDeny('team-a'),
    defaultDeny('team-b'),
    defaultDeny('web'),
    {
      apiVersion: 'networking.k8s.io/v1',
      kind: 'NetworkPolicy',
      metadata: { name: 'allow-frontend', namespace: 'team-a' },
      spec: {
        podSelector: { matchLabels: { app: 'api' } },
        ingress: [{ from: [{ namespaceSelector: { matchLabels: { team: 'front-end' } } }] }], // typo: selects nothing
      },
    },
    {
      apiVersion: 'networking.k8s.io/v1',
      kind: 'NetworkPolicy',
      metadata: { name: 'allow-payments', namespace: 'shared-db' },
      spec: {
        podSelector: {},
        policyTypes: ['Ingress'],
        ingress: [
          { from: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'payments' } } }] },
          { from: [{ namespaceSelector: { matchExpressions: [{ key: 'env', operator: 'NotIn', values: ['dev'] }] } }] },
        ],
      },
    },
    {
      apiVersion: 'cilium.io/v2',
      kind: 'CiliumNetworkPolicy',
      metadata: { name: 'allow-monitoring', namespace: 'payments' },
      spec: {
        endpointSelector: {},
        ingress: [
          {
            fromEndpoints: [
              { matchLabels: { 'io.cilium.k8s.namespace.labels.ns': 'monitoring' } },
              { matchLabels: { 'io.cilium.k8s.namespace.labels.ns': 'team-b' } }, // team-b has no ns label
            ],
          },
        ],
      },
    },
    {
      apiVersion: 'cilium.io/v2',
      kind: 'CiliumClusterwideNetworkPolicy',
      metadata: { name: 'dns-egress' },
      spec: {
        endpointSelector: { matchLabels: { 'io.cilium.k8s.namespace.labels.team': 'payments' } },
        egress: [
          {
            toEndpoints: [{ matchLabels: { 'io.kubernetes.pod.namespace': 'kube-system', 'k8s-app': 'kube-dns' } }],
            toPorts: [{ ports: [{ port: '53', protocol: 'UDP' }] }],
          },
        ],
      },
    },
    {
      apiVersion: 'crd.projectcalico.org/v1',
      kind: 'NetworkPolicy',
      metadata: { name: 'allow-scrape', namespace: 'monitoring' },
      spec: {
        selector: 'all()',
        types: ['Ingress'],
        ingress: [{ action: 'Allow', source: { namespaceSelector: "ns == 'team-b'" } }], // near miss
      },
    },
    {
      apiVersion: 'crd.projectcalico.org/v1',
      kind: 'GlobalNetworkPolicy',
      metadata: { name: 'web-egress' },
      spec: {
        namespaceSelector: "team == 'frontend'",
        selector: 'all()',
        types: ['Egress'],
        egress: [{ action: 'Allow', destination: { namespaceSelector: "ns in {'team-a', 'shared-db'}" } }],
      },
    },
    {
      apiVersion: 'policy.networking.k8s.io/v1alpha1',
      kind: 'AdminNetworkPolicy',
      metadata: { name: 'restricted-tier' },
      spec: {
        priority: 10,
        subject: { namespaces: { matchLabels: { tier: 'restricted' } } },
        ingress: [
          { name: 'deny-frontend', action: 'Deny', from: [{ namespaces: { matchLabels: { team: 'frontend' } } }] },
          { name: 'allow-ops', action: 'Allow', from: [{ namespaces: { matchLabels: { team: 'ops' } } }] }, // nobody
        ],
      },
    },
    {
      apiVersion: 'policy.networking.k8s.io/v1alpha1',
      kind: 'BaselineAdminNetworkPolicy',
      metadata: { name: 'default' },
      spec: {
        subject: { namespaces: { matchLabels: { env: 'prod' } } },
        ingress: [{ name: 'deny-all', action: 'Deny', from: [{ namespaces: {} }] }],
      },
    },
    {
      apiVersion: 'security.istio.io/v1',
      kind: 'AuthorizationPolicy',
      metadata: { name: 'allow-team-a', namespace: 'web' },
      spec: { action: 'ALLOW', rules: [{ from: [{ source: { namespaces: ['team-a'] } }] }] },
    },
    {
      apiVersion: 'kyverno.io/v1',
      kind: 'ClusterPolicy',
      metadata: { name: 'require-ns-label' },
      spec: {
        validationFailureAction: 'Audit',
        rules: [
          {
            name: 'require-ns',
            match: { any: [{ resources: { kinds: ['Namespace'] } }] },
            validate: { pattern: { metadata: { labels: { ns: '{{request.object.metadata.name}}' } } } },
          },
        ],
      },
    },
    {
      apiVersion: 'kyverno.io/v1',
      kind: 'Policy',
      metadata: { name: 'require-app-label', namespace: 'team-a' },
      spec: {
        validationFailureAction: 'Audit',
        rules: [
          {
            name: 'require-app',
            match: { any: [{ resources: { kinds: ['Pod'] } }] },
            validate: { pattern: { metadata: { labels: { app: '?*' } } } },
          },
        ],
      },
    },
    {
      apiVersion: 'templates.gatekeeper.sh/v1',
      kind: 'ConstraintTemplate',
      metadata: { name: 'k8srequiredlabels' },
      spec: {
        crd: { spec: { names: { kind: 'K8sRequiredLabels' } } },
        targets: [
          {
            target: 'admission.k8s.gatekeeper.sh',
            rego: 'package k8srequiredlabels\nviolation[{"msg": msg}] { false; msg := "" }\n',
          },
        ],
      },
    },
    {
      apiVersion: 'constraints.gatekeeper.sh/v1beta1',
      kind: 'K8sRequiredLabels',
      metadata: { name: 'namespaces-need-ns' },
      spec: {
        enforcementAction: 'dryrun',
        match: { kinds: [{ apiGroups: [''], kinds: ['Namespace'] }] },
        parameters: { labels: [{ key: 'ns' }] },
      },
    },
  ];
}

/** Creates the objects in order (namespaces first), `concurrency` at a time within each kind. */
export async function createObjects(admin: KubeClient, objects: readonly KubeObject[], concurrency = 8): Promise<void> {
  const namespaces = objects.filter((o) => o.kind === 'Namespace');
  const rest = objects.filter((o) => o.kind !== 'Namespace');
  const create = async (o: KubeObject): Promise<void> => {
    const plural = PLURALS[o.kind];
    if (plural === undefined) throw new Error(`scenario: no plural known for ${o.kind}`);
    await admin.must('POST', collectionPath(o.apiVersion, plural, o.metadata.namespace), o);
  };
  await forEachLimited(namespaces, concurrency, create);
  await forEachLimited(rest, concurrency, create);
}

/** Sets (string) or removes (null) one namespace label through the API (a JSON merge patch). */
export async function setNamespaceLabel(
  admin: KubeClient,
  name: string,
  key: string,
  value: string | null,
): Promise<void> {
  await admin.must(
    'PATCH',
    `/api/v1/namespaces/${name}`,
    { metadata: { labels: { [key]: value } } },
    'application/merge-patch+json',
  );
}
