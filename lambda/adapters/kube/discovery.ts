/**
 * Which policy kinds a cluster serves, from API discovery: `/apis` as aggregated discovery (every
 * group with its resources in one answer, Kubernetes 1.30+; 1.27+ as v2beta1), else the plain group
 * list and then `/apis/<group>/<version>` for the groups that matter. Discovery is open to every authenticated user, covers aggregated
 * APIs (Calico's `projectcalico.org/v3`) as well as CRDs, and is far smaller than the CRD list
 * (which carries every CRD's schema). An API group that is not installed is simply absent.
 */
import type { KindRead } from '../../audit/index.js';
import type { ApiGroupInfo, KubeClient } from './client.js';
import { KubeRequestError } from './errors.js';
import {
  CALICO_API_GROUP,
  CALICO_CRD_GROUP,
  CATALOGUE,
  GATEKEEPER_CONSTRAINTS_GROUP,
  GATEKEEPER_REQUIRED_LABELS,
  resourceName,
  type CatalogueKind,
} from './kinds.js';

export interface ServedKind {
  readonly group: string;
  readonly version: string;
  readonly plural: string;
  readonly kind: string;
  readonly namespaced: boolean;
  /** `<plural>.<group>` */
  readonly resource: string;
}

export interface DiscoveryResult {
  /** Kinds to list. */
  readonly served: readonly ServedKind[];
  /** Kinds known not to be installed, or whose discovery failed (they are not listed). */
  readonly reads: readonly KindRead[];
}

/** How a failed request ends a kind's read: 403 forbidden, 404 not installed, anything else failed. */
export function readStatusOf(error: KubeRequestError): KindRead['status'] {
  if (error.kind === 'forbidden') return 'forbidden';
  if (error.kind === 'not-found') return 'not-installed';
  return 'failed';
}

/**
 * Discovers the served policy kinds. Throws only a cluster-level KubeRequestError (credentials,
 * network, TLS); any other failure is reported per kind in `reads`.
 */
export async function discoverPolicyKinds(client: KubeClient): Promise<DiscoveryResult> {
  let groups: ApiGroupInfo[];
  try {
    groups = await client.apiGroups();
  } catch (e) {
    const error = asKubeError(e);
    if (error.clusterLevel || error.kind === 'cancelled') throw error;
    return { served: [], reads: undiscoveredReads(error) };
  }

  const byName = new Map(groups.map((g) => [g.name, g]));
  // Calico's API server stores its objects in the CRDs: read one or the other, never both.
  const skipGroup = byName.has(CALICO_API_GROUP) ? CALICO_CRD_GROUP : CALICO_API_GROUP;
  const wanted = new Map<string, CatalogueKind[]>();
  for (const k of CATALOGUE) {
    if (k.group === skipGroup) continue;
    wanted.set(k.group, [...(wanted.get(k.group) ?? []), k]);
  }

  const results = await Promise.all([
    ...[...wanted].map(([group, kinds]) => discoverGroup(client, byName.get(group), group, kinds)),
    discoverGatekeeper(client, byName.get(GATEKEEPER_CONSTRAINTS_GROUP)),
  ]);
  return { served: results.flatMap((r) => r.served), reads: results.flatMap((r) => r.reads) };
}

/**
 * When discovery failed as a whole, which kinds exist is unknown: every kind the audit could use is
 * reported unread, so no finding relies on its absence.
 */
export function undiscoveredReads(
  error: KubeRequestError,
  reason = `API discovery failed: ${error.message}`,
): KindRead[] {
  const status = error.kind === 'forbidden' ? 'forbidden' : 'failed';
  return [
    ...CATALOGUE.filter((k) => k.reportAbsent).map((k) => resourceName(k.plural, k.group)),
    resourceName(GATEKEEPER_REQUIRED_LABELS, GATEKEEPER_CONSTRAINTS_GROUP),
  ].map((resource) => ({ resource, status, reason }));
}

async function discoverGroup(
  client: KubeClient,
  info: ApiGroupInfo | undefined,
  group: string,
  kinds: readonly CatalogueKind[],
): Promise<DiscoveryResult> {
  const absent = (ks: readonly CatalogueKind[]): KindRead[] =>
    ks
      .filter((k) => k.reportAbsent)
      .map((k) => ({ resource: resourceName(k.plural, k.group), status: 'not-installed' as const }));
  if (info === undefined) return { served: [], reads: absent(kinds) };

  const served: ServedKind[] = [];
  const reads: KindRead[] = [];
  let remaining = [...kinds];
  for (const version of info.versions) {
    if (remaining.length === 0) break;
    let resources;
    try {
      resources = info.resources?.get(version) ?? (await client.apiResources(group, version));
    } catch (e) {
      const error = asKubeError(e);
      if (error.kind === 'not-found') continue; // that version went away: try the next one
      if (error.clusterLevel || error.kind === 'cancelled') throw error;
      const reason = `discovery of ${group}/${version} failed: ${error.message}`;
      for (const k of remaining) {
        reads.push({ resource: resourceName(k.plural, k.group), status: readStatusOf(error), reason });
      }
      remaining = [];
      break;
    }
    for (const r of resources) {
      const k = remaining.find((x) => x.plural === r.name);
      if (k === undefined || !listable(r.verbs)) continue;
      served.push({
        group,
        version,
        plural: r.name,
        kind: r.kind || k.kind,
        namespaced: r.namespaced,
        resource: resourceName(r.name, group),
      });
      remaining = remaining.filter((x) => x !== k);
    }
  }
  return { served, reads: [...reads, ...absent(remaining)] };
}

async function discoverGatekeeper(client: KubeClient, info: ApiGroupInfo | undefined): Promise<DiscoveryResult> {
  const group = GATEKEEPER_CONSTRAINTS_GROUP;
  const requiredLabels = resourceName(GATEKEEPER_REQUIRED_LABELS, group);
  if (info === undefined) return { served: [], reads: [{ resource: requiredLabels, status: 'not-installed' }] };
  const served: ServedKind[] = [];
  const seen = new Set<string>();
  for (const version of info.versions) {
    let resources;
    try {
      resources = info.resources?.get(version) ?? (await client.apiResources(group, version));
    } catch (e) {
      const error = asKubeError(e);
      if (error.kind === 'not-found') continue;
      if (error.clusterLevel || error.kind === 'cancelled') throw error;
      // The constraint kinds are unknown: the whole group is unread.
      return {
        served: [],
        reads: [
          {
            resource: group,
            status: readStatusOf(error),
            reason: `discovery of ${group}/${version} failed: ${error.message}`,
          },
        ],
      };
    }
    for (const r of resources) {
      if (r.name.includes('/') || seen.has(r.name) || !listable(r.verbs)) continue;
      seen.add(r.name);
      served.push({
        group,
        version,
        plural: r.name,
        kind: r.kind,
        namespaced: r.namespaced,
        resource: resourceName(r.name, group),
      });
    }
  }
  served.sort((a, b) => (a.plural < b.plural ? -1 : a.plural > b.plural ? 1 : 0));
  return {
    served,
    reads: seen.has(GATEKEEPER_REQUIRED_LABELS) ? [] : [{ resource: requiredLabels, status: 'not-installed' }],
  };
}

function listable(verbs: readonly string[]): boolean {
  return verbs.length === 0 || verbs.includes('list');
}

function asKubeError(e: unknown): KubeRequestError {
  return e instanceof KubeRequestError
    ? e
    : new KubeRequestError('invalid-response', e instanceof Error ? e.message : String(e));
}
