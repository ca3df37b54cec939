/**
 * EKS fleet discovery: ListClusters in every configured account and region, DescribeCluster each
 * one for its tags, keep those whose tags match. A region that cannot be listed (or a cluster that
 * cannot be described) is a failure to report, never a silent gap: it becomes a failed cluster.
 */
import type { Clock, ClusterSource } from '../../ports.js';
import { failedRead, type KubeReadOptions } from '../kube/read-endpoint.js';
import { createSemaphore } from '../kube/retry.js';
import type { AwsCredentialsProvider } from './credentials.js';
import { describeEksCluster, listEksClusters, type EksApi, type EksClusterInfo } from './describe.js';
import { createEksClusterSource } from './source.js';

export interface EksAccountScope {
  /** The role to assume in that account; the caller's own credentials when absent. */
  readonly roleArn?: string;
  readonly externalId?: string;
  readonly regions: readonly string[];
}

export interface DiscoveredEksCluster {
  readonly scope: EksAccountScope;
  readonly region: string;
  readonly info: EksClusterInfo;
}

export interface EksDiscoveryFailure {
  readonly scope: EksAccountScope;
  readonly region: string;
  /** Set when one cluster could not be described; absent when the region could not be listed. */
  readonly cluster?: string;
  readonly reason: string;
}

export interface DiscoverEksOptions {
  readonly accounts: readonly EksAccountScope[];
  /** Every tag must match; the value "*" only asks that the key be present. No tags: every cluster. */
  readonly tags?: Readonly<Record<string, string>>;
  /** The EKS client for one account scope and region (the composition root builds and caches them). */
  readonly eksFor: (scope: EksAccountScope, region: string) => EksApi;
  /** DescribeCluster calls in flight per region. Default 4. */
  readonly concurrency?: number;
}

export async function discoverEksClusters(
  options: DiscoverEksOptions,
): Promise<{ clusters: DiscoveredEksCluster[]; failures: EksDiscoveryFailure[] }> {
  const clusters: DiscoveredEksCluster[] = [];
  const failures: EksDiscoveryFailure[] = [];
  const wanted = options.tags ?? {};
  await Promise.all(
    options.accounts.flatMap((scope) =>
      scope.regions.map(async (region) => {
        const eks = options.eksFor(scope, region);
        let names: string[];
        try {
          names = await listEksClusters(eks, region);
        } catch (e) {
          failures.push({ scope, region, reason: errorText(e) });
          return;
        }
        const limit = createSemaphore(options.concurrency ?? 4);
        await Promise.all(
          names.map((name) =>
            limit.run(async () => {
              try {
                const info = await describeEksCluster(eks, name, region);
                if (matchesTags(info.tags, wanted)) clusters.push({ scope, region, info });
              } catch (e) {
                failures.push({ scope, region, cluster: name, reason: errorText(e) });
              }
            }),
          ),
        );
      }),
    ),
  );
  const order = (
    a: { region: string; scope: EksAccountScope },
    b: { region: string; scope: EksAccountScope },
  ): number => compare(accountOf(a.scope), accountOf(b.scope)) || compare(a.region, b.region);
  clusters.sort((a, b) => order(a, b) || compare(a.info.name, b.info.name));
  failures.sort((a, b) => order(a, b) || compare(a.cluster ?? '', b.cluster ?? ''));
  return { clusters, failures };
}

export function matchesTags(tags: Readonly<Record<string, string>>, wanted: Readonly<Record<string, string>>): boolean {
  return Object.entries(wanted).every(([k, v]) => (v === '*' ? k in tags : tags[k] === v));
}

/** The account id of a role ARN, or "default" for the caller's own account. */
export function accountOf(scope: EksAccountScope): string {
  return /^arn:[^:]+:iam::(\d{12}):/.exec(scope.roleArn ?? '')?.[1] ?? 'default';
}

export interface EksDiscoverySourcesOptions extends DiscoverEksOptions {
  /** The discovery's name (from the config), used to name failures. */
  readonly name: string;
  readonly credentialsFor: (scope: EksAccountScope, region: string) => AwsCredentialsProvider;
  readonly clock?: Clock;
  readonly read?: KubeReadOptions;
}

/**
 * One source per discovered cluster, named by its EKS name (`name@region`, then
 * `name@account/region`, when names repeat), plus one failed source per region or cluster that
 * could not be discovered, named `<discovery>:<account>/<region>[/<cluster>]`.
 */
export async function createEksDiscoverySources(options: EksDiscoverySourcesOptions): Promise<ClusterSource[]> {
  const { clusters, failures } = await discoverEksClusters(options);
  const count = (key: (c: DiscoveredEksCluster) => string): Map<string, number> => {
    const m = new Map<string, number>();
    for (const c of clusters) m.set(key(c), (m.get(key(c)) ?? 0) + 1);
    return m;
  };
  const byName = count((c) => c.info.name);
  const byRegion = count((c) => `${c.info.name}@${c.region}`);
  const sources: ClusterSource[] = clusters.map((c) => {
    const name =
      (byName.get(c.info.name) ?? 0) < 2
        ? c.info.name
        : (byRegion.get(`${c.info.name}@${c.region}`) ?? 0) < 2
          ? `${c.info.name}@${c.region}`
          : `${c.info.name}@${accountOf(c.scope)}/${c.region}`;
    return createEksClusterSource({
      cluster: c.info.name,
      region: c.region,
      name,
      eks: options.eksFor(c.scope, c.region),
      credentials: options.credentialsFor(c.scope, c.region),
      info: c.info,
      ...(options.clock ? { clock: options.clock } : {}),
      ...(options.read ? { read: options.read } : {}),
    });
  });
  for (const f of failures) {
    const cluster = `${options.name}:${accountOf(f.scope)}/${f.region}${f.cluster ? `/${f.cluster}` : ''}`;
    const reason = `EKS discovery failed: ${f.reason}`;
    sources.push({ cluster, read: () => Promise.resolve(failedRead(cluster, reason)) });
  }
  return sources;
}

function errorText(e: unknown): string {
  return e instanceof Error ? (e.message.split('\n', 1)[0] ?? '') : String(e);
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
