/**
 * A ClusterSource for one EKS cluster: DescribeCluster for the endpoint and CA (or what discovery
 * already described), a bearer token signed locally and re-signed before it expires during a long
 * read (and once more after a 401), then the same reader as every kubeconfig cluster.
 * No kubeconfig is involved: the deployed scanner reads EKS clusters only and carries none of it.
 */
import type { ClusterSnapshot } from '../../audit/index.js';
import type { Clock, ClusterSource } from '../../ports.js';
import type { KubeEndpoint } from '../kube/endpoint.js';
import { failedRead, readEndpoint, type KubeReadOptions } from '../kube/read-endpoint.js';
import type { AwsCredentialsProvider } from './credentials.js';
import { describeEksCluster, isServing, type EksApi, type EksClusterInfo } from './describe.js';
import { createEksTokenProvider, type EksTokenProvider } from './token.js';

export interface EksSourceOptions {
  /** The EKS cluster name. */
  readonly cluster: string;
  readonly region: string;
  /** The name in reports; the EKS cluster name by default. */
  readonly name?: string;
  /** An EKS client for the cluster's region and account. */
  readonly eks: EksApi;
  /** The same credentials the EKS client uses; they sign the token. */
  readonly credentials: AwsCredentialsProvider;
  /** What DescribeCluster said, when discovery already asked. */
  readonly info?: EksClusterInfo;
  readonly clock?: Clock;
  readonly read?: KubeReadOptions;
}

export function createEksClusterSource(options: EksSourceOptions): ClusterSource {
  const name = options.name ?? options.cluster;
  return {
    cluster: name,
    async read(): Promise<ClusterSnapshot> {
      let info = options.info;
      if (info === undefined) {
        try {
          info = await describeEksCluster(options.eks, options.cluster, options.region);
        } catch (e) {
          return failedRead(name, e instanceof Error ? e.message : String(e));
        }
      }
      if (!isServing(info)) return failedRead(name, `the EKS cluster is ${info.status ?? 'not ready'}`);
      if (!info.endpoint) return failedRead(name, 'DescribeCluster returned no endpoint');

      const tokens = createEksTokenProvider({
        cluster: options.cluster,
        region: options.region,
        credentials: options.credentials,
        ...(options.clock ? { clock: options.clock } : {}),
      });
      try {
        await tokens.token(); // fail early and clearly when the credentials cannot be had
      } catch (e) {
        return failedRead(
          name,
          `cannot sign the EKS token: ${e instanceof Error ? (e.message.split('\n', 1)[0] ?? '') : String(e)}`,
        );
      }
      return readEndpoint(eksEndpoint(info, tokens), name, {
        ...options.read,
        onUnauthorized: async () => {
          tokens.invalidate();
          await options.read?.onUnauthorized?.();
        },
      });
    },
  };
}

/** The cluster's API endpoint, its CA from DescribeCluster, each request authenticated by `tokens`. */
export function eksEndpoint(info: EksClusterInfo, tokens: EksTokenProvider): KubeEndpoint {
  return {
    server: info.endpoint ?? '',
    ...(info.caData ? { ca: Buffer.from(info.caData, 'base64') } : {}),
    async credentials() {
      return { headers: { Authorization: `Bearer ${await tokens.token()}` } };
    },
  };
}
