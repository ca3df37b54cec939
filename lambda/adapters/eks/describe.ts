/**
 * EKS control-plane calls: DescribeCluster (endpoint, CA, status, tags, authentication mode) and
 * ListClusters (paged). SDK errors become EksErrors with a stable code and a message for people.
 */
import { DescribeClusterCommand, ListClustersCommand, type EKSClient } from '@aws-sdk/client-eks';
import { EksError } from './errors.js';

export { EksError, type EksErrorCode } from './errors.js';

/** The EKS client as this adapter uses it (an EKSClient, or anything with the same `send`). */
export type EksApi = Pick<EKSClient, 'send'>;

export interface EksClusterInfo {
  readonly name: string;
  readonly region: string;
  readonly arn?: string;
  /** https://<id>.<gr7>.<region>.eks.amazonaws.com */
  readonly endpoint?: string;
  /** Base64 PEM, as DescribeCluster returns it (and as kubeconfig's certificate-authority-data wants it). */
  readonly caData?: string;
  readonly status?: string;
  readonly version?: string;
  readonly tags: Readonly<Record<string, string>>;
  /** CONFIG_MAP, API_AND_CONFIG_MAP or API. */
  readonly authenticationMode?: string;
}

export async function describeEksCluster(eks: EksApi, name: string, region: string): Promise<EksClusterInfo> {
  let cluster;
  try {
    cluster = (await eks.send(new DescribeClusterCommand({ name }))).cluster;
  } catch (e) {
    throw eksError(e, `DescribeCluster ${name} (${region})`);
  }
  if (cluster === undefined)
    throw new EksError('eks-request-failed', `DescribeCluster ${name} (${region}): empty answer`);
  return {
    name: cluster.name ?? name,
    region,
    ...(cluster.arn ? { arn: cluster.arn } : {}),
    ...(cluster.endpoint ? { endpoint: cluster.endpoint } : {}),
    ...(cluster.certificateAuthority?.data ? { caData: cluster.certificateAuthority.data } : {}),
    ...(cluster.status ? { status: cluster.status } : {}),
    ...(cluster.version ? { version: cluster.version } : {}),
    tags: cluster.tags ?? {},
    ...(cluster.accessConfig?.authenticationMode
      ? { authenticationMode: cluster.accessConfig.authenticationMode }
      : {}),
  };
}

/** Every cluster name in the region (all pages). */
export async function listEksClusters(eks: EksApi, region: string): Promise<string[]> {
  const names: string[] = [];
  let nextToken: string | undefined;
  do {
    let page;
    try {
      page = await eks.send(new ListClustersCommand({ maxResults: 100, ...(nextToken ? { nextToken } : {}) }));
    } catch (e) {
      throw eksError(e, `ListClusters (${region})`);
    }
    names.push(...(page.clusters ?? []));
    nextToken = page.nextToken || undefined;
  } while (nextToken !== undefined);
  return names;
}

/** The cluster can serve the Kubernetes API: ACTIVE, or UPDATING (still serving). */
export function isServing(info: EksClusterInfo): boolean {
  return info.status === undefined || info.status === 'ACTIVE' || info.status === 'UPDATING';
}

function eksError(e: unknown, what: string): EksError {
  const err = e as { name?: unknown; message?: unknown } | null;
  const name = typeof err?.name === 'string' ? err.name : 'Error';
  const message = typeof err?.message === 'string' ? err.message.split('\n', 1)[0] : String(e);
  if (name === 'ResourceNotFoundException') {
    return new EksError('eks-cluster-not-found', `${what}: cluster not found (${name}: ${message})`, { cause: e });
  }
  if (/AccessDenied|UnrecognizedClient|InvalidSignature|ExpiredToken|InvalidClientTokenId|NotAuthorized/.test(name)) {
    return new EksError('eks-access-denied', `${what}: access denied (${name}: ${message})`, { cause: e });
  }
  return new EksError('eks-request-failed', `${what} failed (${name}: ${message})`, { cause: e });
}
