/**
 * Reading one cluster behind a KubeEndpoint: a client of its own (its own connection pool and
 * request bound) for the read, closed after it, so nothing of one cluster outlives its read.
 */
import type { ClusterSnapshot } from '../../audit/index.js';
import { createKubeClient, type KubeClientOptions } from './client.js';
import { undiscoveredReads } from './discovery.js';
import type { KubeEndpoint } from './endpoint.js';
import { KubeRequestError } from './errors.js';
import { NETWORK_POLICIES, resourceName } from './kinds.js';
import { readCluster, type ReadClusterOptions } from './read-cluster.js';
import { redactSecrets } from './redact.js';

/** How one cluster is read: request timeout, retries, in-flight bound, page size. */
export interface KubeReadOptions extends KubeClientOptions, ReadClusterOptions {}

/** Reads `endpoint` as `cluster`. Never throws: a failure is a failed snapshot. */
export async function readEndpoint(
  endpoint: KubeEndpoint | (() => KubeEndpoint),
  cluster: string,
  options: KubeReadOptions = {},
): Promise<ClusterSnapshot> {
  let client;
  try {
    client = createKubeClient(typeof endpoint === 'function' ? endpoint() : endpoint, options);
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
