/**
 * CustomResourceDefinitions for the policy engines labelguard reads, as the projects ship them
 * in group, version, kind, plural and scope, with structural schemas that keep every unknown field
 * under spec (the real CRDs carry full schemas; the audit only needs the objects to round-trip).
 */

export type CrdScope = 'Namespaced' | 'Cluster';

export interface CrdKind {
  readonly group: string;
  /** Served versions; the first is the storage version. */
  readonly versions: readonly string[];
  readonly kind: string;
  readonly plural: string;
  readonly scope: CrdScope;
  readonly categories?: readonly string[];
}

/** The kinds the brief names: every engine labelguard evaluates, plus Kyverno and Gatekeeper. */
export const ENGINE_CRDS: readonly CrdKind[] = [
  {
    group: 'cilium.io',
    versions: ['v2'],
    kind: 'CiliumNetworkPolicy',
    plural: 'ciliumnetworkpolicies',
    scope: 'Namespaced',
  },
  {
    group: 'cilium.io',
    versions: ['v2'],
    kind: 'CiliumClusterwideNetworkPolicy',
    plural: 'ciliumclusterwidenetworkpolicies',
    scope: 'Cluster',
  },
  {
    group: 'crd.projectcalico.org',
    versions: ['v1'],
    kind: 'NetworkPolicy',
    plural: 'networkpolicies',
    scope: 'Namespaced',
  },
  {
    group: 'crd.projectcalico.org',
    versions: ['v1'],
    kind: 'GlobalNetworkPolicy',
    plural: 'globalnetworkpolicies',
    scope: 'Cluster',
  },
  {
    group: 'policy.networking.k8s.io',
    versions: ['v1alpha1'],
    kind: 'AdminNetworkPolicy',
    plural: 'adminnetworkpolicies',
    scope: 'Cluster',
  },
  {
    group: 'policy.networking.k8s.io',
    versions: ['v1alpha1'],
    kind: 'BaselineAdminNetworkPolicy',
    plural: 'baselineadminnetworkpolicies',
    scope: 'Cluster',
  },
  {
    group: 'security.istio.io',
    versions: ['v1', 'v1beta1'],
    kind: 'AuthorizationPolicy',
    plural: 'authorizationpolicies',
    scope: 'Namespaced',
  },
  { group: 'kyverno.io', versions: ['v1'], kind: 'ClusterPolicy', plural: 'clusterpolicies', scope: 'Cluster' },
  { group: 'kyverno.io', versions: ['v1'], kind: 'Policy', plural: 'policies', scope: 'Namespaced' },
  {
    group: 'templates.gatekeeper.sh',
    versions: ['v1', 'v1beta1'],
    kind: 'ConstraintTemplate',
    plural: 'constrainttemplates',
    scope: 'Cluster',
  },
  {
    group: 'constraints.gatekeeper.sh',
    versions: ['v1beta1', 'v1', 'v1alpha1'],
    kind: 'K8sRequiredLabels',
    plural: 'k8srequiredlabels',
    scope: 'Cluster',
    categories: ['constraint', 'constraints'],
  },
];

/**
 * Kinds a read-only ClusterRole may also name in those groups (staged Calico policies, tiers,
 * PeerAuthentication, Kyverno exceptions, the newer ClusterNetworkPolicy). The harness installs the
 * ones the shipped role names, so that removing any rule of the role has something to forbid.
 * Groups that are not CRDs on a real cluster (the aggregated `projectcalico.org/v3`) are left out.
 */
export const EXTRA_CRDS: readonly CrdKind[] = [
  {
    group: 'crd.projectcalico.org',
    versions: ['v1'],
    kind: 'StagedNetworkPolicy',
    plural: 'stagednetworkpolicies',
    scope: 'Namespaced',
  },
  {
    group: 'crd.projectcalico.org',
    versions: ['v1'],
    kind: 'StagedGlobalNetworkPolicy',
    plural: 'stagedglobalnetworkpolicies',
    scope: 'Cluster',
  },
  {
    group: 'crd.projectcalico.org',
    versions: ['v1'],
    kind: 'StagedKubernetesNetworkPolicy',
    plural: 'stagedkubernetesnetworkpolicies',
    scope: 'Namespaced',
  },
  { group: 'crd.projectcalico.org', versions: ['v1'], kind: 'Tier', plural: 'tiers', scope: 'Cluster' },
  {
    group: 'security.istio.io',
    versions: ['v1', 'v1beta1'],
    kind: 'PeerAuthentication',
    plural: 'peerauthentications',
    scope: 'Namespaced',
  },
  {
    group: 'kyverno.io',
    versions: ['v2', 'v2beta1'],
    kind: 'PolicyException',
    plural: 'policyexceptions',
    scope: 'Namespaced',
  },
  { group: 'kyverno.io', versions: ['v2'], kind: 'CleanupPolicy', plural: 'cleanuppolicies', scope: 'Namespaced' },
  {
    group: 'policy.networking.k8s.io',
    versions: ['v1alpha2'],
    kind: 'ClusterNetworkPolicy',
    plural: 'clusternetworkpolicies',
    scope: 'Cluster',
  },
];

const PRESERVE = { type: 'object', 'x-kubernetes-preserve-unknown-fields': true } as const;

/** The CustomResourceDefinition object for one kind. */
export function crdManifest(crd: CrdKind): Record<string, unknown> {
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: {
      name: `${crd.plural}.${crd.group}`,
      // *.k8s.io groups are protected: the network-policy-api CRDs carry their approval, as here.
      ...(/(^|\.)(k8s|kubernetes)\.io$/.test(crd.group)
        ? {
            annotations: {
              'api-approved.kubernetes.io': 'https://github.com/kubernetes-sigs/network-policy-api/pull/30',
            },
          }
        : {}),
    },
    spec: {
      group: crd.group,
      scope: crd.scope,
      names: {
        kind: crd.kind,
        listKind: `${crd.kind}List`,
        plural: crd.plural,
        singular: crd.kind.toLowerCase(),
        ...(crd.categories ? { categories: crd.categories } : {}),
      },
      versions: crd.versions.map((name, i) => ({
        name,
        served: true,
        storage: i === 0,
        schema: {
          openAPIV3Schema: {
            type: 'object',
            properties: {
              apiVersion: { type: 'string' },
              kind: { type: 'string' },
              metadata: { type: 'object' },
              spec: PRESERVE,
              status: PRESERVE,
            },
          },
        },
      })),
    },
  };
}
