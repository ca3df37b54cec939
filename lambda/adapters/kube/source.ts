/**
 * ClusterSources over the Kubernetes API: one per kubeconfig context. Each read builds its own
 * client (its own connection pool and request bound), reads the cluster and closes the pool, so
 * nothing of one cluster outlives its read.
 */
import type { KubeConfig } from '@kubernetes/client-node';
import type { ClusterSnapshot } from '../../audit/index.js';
import type { ClusterSource } from '../../ports.js';
import { createKubeClient, type KubeClientOptions } from './client.js';
import { undiscoveredReads } from './discovery.js';
import { KubeRequestError } from './errors.js';
import { NETWORK_POLICIES, resourceName } from './kinds.js';
import { kubeConfigForContext, selectContexts } from './kubeconfig.js';
import { readCluster, type ReadClusterOptions } from './read-cluster.js';
import { redactSecrets } from './redact.js';

/** How one cluster is read: request timeout, retries, in-flight bound, page size. */
export interface KubeReadOptions extends KubeClientOptions, ReadClusterOptions {}

export interface KubeconfigSourceOptions {
  readonly kubeConfig: KubeConfig;
  readonly context: string;
  /** The cluster's name in reports; the context name by default. */
  readonly name?: string;
  readonly read?: KubeReadOptions;
}

export function createKubeconfigSource(options: KubeconfigSourceOptions): ClusterSource {
  const cluster = options.name ?? options.context;
  return {
    cluster,
    read: () => readWithKubeConfig(kubeConfigForContext(options.kubeConfig, options.context), cluster, options.read),
  };
}

export interface KubeconfigSourcesOptions {
  readonly kubeConfig: KubeConfig;
  /** The current context (default), every context, or those named. */
  readonly contexts?: 'current' | 'all' | readonly string[];
  readonly read?: KubeReadOptions;
}

/** One source per selected context, named by the context. Throws UsageError for unknown contexts. */
export function createKubeconfigSources(options: KubeconfigSourcesOptions): ClusterSource[] {
  return selectContexts(options.kubeConfig, options.contexts ?? 'current').map((context) =>
    createKubeconfigSource({
      kubeConfig: options.kubeConfig,
      context,
      ...(options.read ? { read: options.read } : {}),
    }),
  );
}

/** Reads the current context of `kubeConfig` as `cluster`. Never throws: a failure is a failed snapshot. */
export async function readWithKubeConfig(
  kubeConfig: KubeConfig,
  cluster: string,
  options: KubeReadOptions = {},
): Promise<ClusterSnapshot> {
  let client;
  try {
    client = createKubeClient(kubeConfig, options);
  } catch (e) {
    return failedRead(cluster, e instanceof KubeRequestError ? e.message : redactSecrets(String(e)));
  }
  try {
    return await readCluster(client, cluster, options);
  } finally {
    client.close();
  }
}

/**
 * A cluster that could not be read at all: namespaces unknown (null), and every kind reported
 * failed with the one reason (a kind left out would read as "none installed").
 */
export function failedRead(cluster: string, reason: string): ClusterSnapshot {
  const text = redactSecrets(reason);
  const error = new KubeRequestError('unreachable', text);
  return {
    cluster,
    namespaces: null,
    objects: [],
    reads: [
      { resource: 'namespaces', status: 'failed', reason: text },
      { resource: resourceName(NETWORK_POLICIES.plural, NETWORK_POLICIES.group), status: 'failed', reason: text },
      ...undiscoveredReads(error, text),
    ],
    problems: [],
  };
}
