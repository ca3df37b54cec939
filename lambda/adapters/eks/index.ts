/** The EKS adapter: token signing, credentials, DescribeCluster/ListClusters, sources and discovery. */
export {
  EKS_TOKEN_PREFIX,
  EKS_TOKEN_LIFETIME_MS,
  createEksTokenProvider,
  signEksToken,
  stsHost,
  type EksToken,
  type EksTokenProvider,
  type EksTokenProviderOptions,
  type SignEksTokenInput,
} from './token.js';
export {
  createAssumedRoleCredentials,
  memoizeCredentials,
  roleSessionName,
  type AssumeRoleOptions,
  type AwsCredentials,
  type AwsCredentialsProvider,
} from './credentials.js';
export {
  EksError,
  describeEksCluster,
  isServing,
  listEksClusters,
  type EksApi,
  type EksClusterInfo,
  type EksErrorCode,
} from './describe.js';
export { createEksSources, type EksSourcesRequest } from './live.js';
export { createEksClusterSource, eksEndpoint, type EksSourceOptions } from './source.js';
export {
  accountOf,
  createEksDiscoverySources,
  discoverEksClusters,
  matchesTags,
  type DiscoverEksOptions,
  type DiscoveredEksCluster,
  type EksAccountScope,
  type EksDiscoveryFailure,
  type EksDiscoverySourcesOptions,
} from './discover.js';
export { createEksAccess, type EksAccess, type EksAccessOptions, type EksRoleScope } from './access.js';
