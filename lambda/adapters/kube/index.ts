/** The Kubernetes API adapter: kubeconfig sources, the cluster reader and its client. */
export {
  createKubeconfigSource,
  createKubeconfigSources,
  readWithKubeConfig,
  type KubeconfigSourceOptions,
  type KubeconfigSourcesOptions,
} from './source.js';
export {
  contextNames,
  kubeConfigForContext,
  kubeconfigFromText,
  loadKubeconfigFiles,
  selectContexts,
} from './kubeconfig.js';
export { failedRead, readEndpoint, type KubeReadOptions } from './read-endpoint.js';
export type { KubeCredentials, KubeEndpoint } from './endpoint.js';
export { kubeConfigEndpoint } from './kubeconfig-endpoint.js';
export { createKubeClient, safeUrl, type KubeClient, type KubeClientOptions } from './client.js';
export { readCluster, listAll, DEFAULT_PAGE_SIZE, type ReadClusterOptions } from './read-cluster.js';
export { discoverPolicyKinds, type DiscoveryResult, type ServedKind } from './discovery.js';
export { CATALOGUE, NETWORK_POLICIES, resourceName } from './kinds.js';
export { KubeRequestError, classifyKubeError, parseRetryAfter, type KubeErrorKind } from './errors.js';
export { DEFAULT_RETRY_POLICY, backoffDelay, createSemaphore, type RetryPolicy } from './retry.js';
export { redactSecrets } from './redact.js';
export {
  asksForLiveClusters,
  createLiveSources,
  parseEksSpec,
  type LiveEnvironment,
  type LiveSourcesRequest,
} from './live-sources.js';
