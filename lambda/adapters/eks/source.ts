/**
 * A ClusterSource for one EKS cluster: DescribeCluster for the endpoint and CA (or what discovery
 * already described), a bearer token signed locally and re-signed before it expires during a long
 * read (and once more after a 401), then the same reader as every kubeconfig cluster.
 */
import { KubeConfig, type User } from '@kubernetes/client-node';
import type { ClusterSnapshot } from '../../audit/index.js';
import type { Clock, ClusterSource } from '../../ports.js';
import { failedRead, readWithKubeConfig, type KubeReadOptions } from '../kube/source.js';
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
      const kubeConfig = eksKubeConfig(info, options.region, tokens);
      return readWithKubeConfig(kubeConfig, name, {
        ...options.read,
        onUnauthorized: async () => {
          tokens.invalidate();
          await options.read?.onUnauthorized?.();
        },
      });
    },
  };
}

/** A one-context KubeConfig for the cluster whose user is authenticated by `tokens`. */
export function eksKubeConfig(info: EksClusterInfo, region: string, tokens: EksTokenProvider): KubeConfig {
  // The client caches credentials by user name: one unique name per cluster.
  const id = `eks/${region}/${info.name}`;
  const userName = `labelguard:${id}`;
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [
      {
        name: id,
        server: info.endpoint,
        skipTLSVerify: false,
        ...(info.caData ? { caData: info.caData } : {}),
      },
    ],
    users: [{ name: userName }],
    contexts: [{ name: id, cluster: id, user: userName }],
    currentContext: id,
  });
  kc.addAuthenticator({
    isAuthProvider: (user: User) => user.name === userName,
    async applyAuthentication(_user, opts) {
      const token = await tokens.token();
      const request = opts as { headers?: Record<string, unknown> };
      request.headers = { ...request.headers, Authorization: `Bearer ${token}` };
    },
  });
  return kc;
}
