/**
 * ClusterSources over the Kubernetes API: one per kubeconfig context, each read through the
 * context's endpoint (`kubeconfig-endpoint.ts`).
 */
import type { KubeConfig } from '@kubernetes/client-node';
import type { ClusterSnapshot } from '../../audit/index.js';
import type { ClusterSource } from '../../ports.js';
import { kubeConfigForContext, selectContexts } from './kubeconfig.js';
import { kubeConfigEndpoint } from './kubeconfig-endpoint.js';
import { readEndpoint, type KubeReadOptions } from './read-endpoint.js';

export { failedRead, type KubeReadOptions } from './read-endpoint.js';

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
export function readWithKubeConfig(
  kubeConfig: KubeConfig,
  cluster: string,
  options: KubeReadOptions = {},
): Promise<ClusterSnapshot> {
  return readEndpoint(() => kubeConfigEndpoint(kubeConfig), cluster, options);
}
