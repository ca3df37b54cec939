/**
 * The EKS sources a scan asks for: `--eks NAME@REGION` flags (already parsed) and the config file's
 * `clusters:` of kind eks and eks-discovery (entries of other kinds are ignored here). Used by the
 * CLI through `createLiveSources` and directly by the deployed scanner, which reads EKS clusters only.
 */
import { UsageError } from '../../errors.js';
import type { ClusterConfig } from '../../config.js';
import type { Clock, ClusterSource } from '../../ports.js';
import type { KubeReadOptions } from '../kube/read-endpoint.js';
import { createEksAccess } from './access.js';
import { memoizeCredentials, type AwsCredentialsProvider } from './credentials.js';
import { createEksDiscoverySources } from './discover.js';
import { createEksClusterSource } from './source.js';

export interface EksSourcesRequest {
  /** `--eks` flags: cluster and region. */
  readonly flags?: readonly { readonly cluster: string; readonly region: string }[];
  readonly clusters?: readonly ClusterConfig[];
  /** The region of config clusters named without one (AWS_REGION). */
  readonly region?: string;
  readonly read?: KubeReadOptions;
  readonly clock?: Clock;
  /** The caller's AWS credentials (default: the SDK's default provider chain). */
  readonly awsCredentials?: AwsCredentialsProvider;
  /** For tests and private endpoints: EKS and STS endpoint URLs (the SDK also honours AWS_ENDPOINT_URL_EKS/_STS). */
  readonly eksEndpoint?: string;
  readonly stsEndpoint?: string;
  /** The RoleSessionName of assumed roles. Default "labelguard-scan". */
  readonly sessionName?: string;
}

export async function createEksSources(request: EksSourcesRequest): Promise<ClusterSource[]> {
  const flags = request.flags ?? [];
  const configClusters = request.clusters ?? [];
  const eksClusters = configClusters.filter((c) => c.kind === 'eks');
  const discoveries = configClusters.filter((c) => c.kind === 'eks-discovery');
  if (flags.length + eksClusters.length + discoveries.length === 0) return [];

  let base = request.awsCredentials;
  if (base === undefined) {
    const { fromNodeProviderChain } = await import('@aws-sdk/credential-providers');
    const chain = fromNodeProviderChain();
    base = memoizeCredentials(() => chain(), request.clock ? { clock: request.clock } : {});
  }
  const access = createEksAccess({
    baseCredentials: base,
    sessionName: request.sessionName ?? 'labelguard-scan',
    ...(request.eksEndpoint === undefined ? {} : { eksEndpoint: request.eksEndpoint }),
    ...(request.stsEndpoint === undefined ? {} : { stsEndpoint: request.stsEndpoint }),
    ...(request.clock ? { clock: request.clock } : {}),
  });
  const common = {
    ...(request.clock ? { clock: request.clock } : {}),
    ...(request.read ? { read: request.read } : {}),
  };
  const eksSource = (
    name: string,
    cluster: string,
    region: string,
    scope: { roleArn?: string; externalId?: string },
  ): ClusterSource =>
    createEksClusterSource({
      name,
      cluster,
      region,
      eks: access.eksFor(scope, region),
      credentials: access.credentialsFor(scope, region),
      ...common,
    });

  const sources: ClusterSource[] = [];
  for (const f of flags) sources.push(eksSource(f.cluster, f.cluster, f.region, {}));
  for (const c of eksClusters) {
    const region = c.region ?? request.region;
    if (region === undefined) {
      throw new UsageError(`clusters: ${c.name}: no region (set region in the config or AWS_REGION)`);
    }
    const scope = {
      ...(c.roleArn === undefined ? {} : { roleArn: c.roleArn }),
      ...(c.externalId === undefined ? {} : { externalId: c.externalId }),
    };
    sources.push(eksSource(c.name, c.name, region, scope));
  }
  for (const d of discoveries) {
    sources.push(
      ...(await createEksDiscoverySources({
        name: d.name,
        accounts: (d.accounts ?? []).map((a) => ({
          regions: a.regions,
          ...(a.roleArn === undefined ? {} : { roleArn: a.roleArn }),
          ...(a.externalId === undefined ? {} : { externalId: a.externalId }),
        })),
        tags: d.tags ?? {},
        eksFor: (scope, region) => access.eksFor(scope, region),
        credentialsFor: (scope, region) => access.credentialsFor(scope, region),
        ...common,
      })),
    );
  }
  return sources;
}
