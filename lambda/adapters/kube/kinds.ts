/**
 * The kinds labelguard reads from a cluster, beyond namespaces. Built-in NetworkPolicies are always
 * read; every other kind is read only when discovery shows it is served. A `KindRead.resource` is
 * `<plural>.<group>` (`ciliumnetworkpolicies.cilium.io`), the name `kubectl` and RBAC use.
 */

export interface CatalogueKind {
  readonly group: string;
  readonly plural: string;
  readonly kind: string;
  /** Report `not-installed` when absent (false for optional variants such as staged Calico policies). */
  readonly reportAbsent: boolean;
}

export const NETWORK_POLICIES = {
  group: 'networking.k8s.io',
  version: 'v1',
  plural: 'networkpolicies',
  kind: 'NetworkPolicy',
} as const;

/** Calico's aggregated API (the Calico API server). When served, it is read instead of the CRDs behind it. */
export const CALICO_API_GROUP = 'projectcalico.org';
/** Calico's CRDs: the same policies as the aggregated API, so read only when that API is not served. */
export const CALICO_CRD_GROUP = 'crd.projectcalico.org';
/** Gatekeeper makes one kind per ConstraintTemplate in this group: every served kind is read. */
export const GATEKEEPER_CONSTRAINTS_GROUP = 'constraints.gatekeeper.sh';
/** The constraint kind the audit understands; reported `not-installed` when Gatekeeper is absent. */
export const GATEKEEPER_REQUIRED_LABELS = 'k8srequiredlabels';

const calico = (group: string, reportAbsent: boolean): CatalogueKind[] => [
  { group, plural: 'networkpolicies', kind: 'NetworkPolicy', reportAbsent },
  { group, plural: 'globalnetworkpolicies', kind: 'GlobalNetworkPolicy', reportAbsent },
  { group, plural: 'stagednetworkpolicies', kind: 'StagedNetworkPolicy', reportAbsent: false },
  { group, plural: 'stagedglobalnetworkpolicies', kind: 'StagedGlobalNetworkPolicy', reportAbsent: false },
];

/** Every discoverable kind but Gatekeeper constraints (whose kinds are whatever the cluster serves). */
export const CATALOGUE: readonly CatalogueKind[] = [
  { group: 'cilium.io', plural: 'ciliumnetworkpolicies', kind: 'CiliumNetworkPolicy', reportAbsent: true },
  {
    group: 'cilium.io',
    plural: 'ciliumclusterwidenetworkpolicies',
    kind: 'CiliumClusterwideNetworkPolicy',
    reportAbsent: true,
  },
  ...calico(CALICO_API_GROUP, false),
  ...calico(CALICO_CRD_GROUP, true),
  { group: 'policy.networking.k8s.io', plural: 'adminnetworkpolicies', kind: 'AdminNetworkPolicy', reportAbsent: true },
  {
    group: 'policy.networking.k8s.io',
    plural: 'baselineadminnetworkpolicies',
    kind: 'BaselineAdminNetworkPolicy',
    reportAbsent: true,
  },
  {
    group: 'policy.networking.k8s.io',
    plural: 'clusternetworkpolicies',
    kind: 'ClusterNetworkPolicy',
    reportAbsent: false,
  },
  { group: 'security.istio.io', plural: 'authorizationpolicies', kind: 'AuthorizationPolicy', reportAbsent: true },
  { group: 'kyverno.io', plural: 'clusterpolicies', kind: 'ClusterPolicy', reportAbsent: true },
  { group: 'kyverno.io', plural: 'policies', kind: 'Policy', reportAbsent: true },
];

export function resourceName(plural: string, group: string): string {
  return group === '' ? plural : `${plural}.${group}`;
}
