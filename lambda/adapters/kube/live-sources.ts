/**
 * The live cluster sources a scan asks for: kubeconfig contexts (`--kubeconfig`, `--context`,
 * `--all-contexts`, the current context by default), EKS clusters (`--eks NAME@REGION`), and the
 * config file's `clusters:` of kind kubeconfig, eks and eks-discovery. The composition root reads
 * the environment and passes what it found in `env`; nothing here reads it. The EKS SDK is loaded
 * only when an EKS source is asked for.
 */
import type { Clock, ClusterSource } from '../../ports.js';
import { UsageError } from '../../errors.js';
import type { ClusterConfig } from '../../config.js';
import type { EksSourcesRequest } from '../eks/live.js';
import { loadKubeconfigFiles, selectContexts } from './kubeconfig.js';
import { createKubeconfigSource, type KubeReadOptions } from './source.js';

export interface LiveEnvironment {
  /** The entries of KUBECONFIG, in order (empty when unset). */
  readonly kubeconfigPaths: readonly string[];
  /** The home directory (for ~/.kube/config). */
  readonly home?: string;
  /** AWS_REGION (or AWS_DEFAULT_REGION): the region of EKS clusters named without one. */
  readonly region?: string;
}

/** The EKS part of a request: credentials, endpoints, session name, as the EKS sources take them. */
type EksAccessRequest = Pick<EksSourcesRequest, 'awsCredentials' | 'eksEndpoint' | 'stsEndpoint' | 'sessionName'>;

export interface LiveSourcesRequest extends EksAccessRequest {
  /** --kubeconfig FILE */
  readonly kubeconfig?: string;
  /** --context NAME (repeatable) */
  readonly contexts?: readonly string[];
  /** --all-contexts */
  readonly allContexts?: boolean;
  /** --eks NAME@REGION (repeatable) */
  readonly eks?: readonly string[];
  /** The config file's clusters (entries of other kinds are ignored here). */
  readonly clusters?: readonly ClusterConfig[];
  /** Nothing else was asked for: read the kubeconfig's current context. */
  readonly currentContextByDefault?: boolean;
  readonly env: LiveEnvironment;
  readonly read?: KubeReadOptions;
  readonly clock?: Clock;
}

/** True when the request names any live cluster. */
export function asksForLiveClusters(request: Omit<LiveSourcesRequest, 'env'>): boolean {
  return (
    request.kubeconfig !== undefined ||
    (request.contexts?.length ?? 0) > 0 ||
    request.allContexts === true ||
    (request.eks?.length ?? 0) > 0 ||
    (request.clusters ?? []).some((c) => c.kind !== 'manifests') ||
    request.currentContextByDefault === true
  );
}

export async function createLiveSources(request: LiveSourcesRequest): Promise<ClusterSource[]> {
  const sources: ClusterSource[] = [];
  const read = request.read;
  const configClusters = request.clusters ?? [];

  // kubeconfig contexts from the command line
  if ((request.contexts?.length ?? 0) > 0 && request.allContexts) {
    throw new UsageError('give --context NAME or --all-contexts, not both');
  }
  const flagsAskKube =
    request.kubeconfig !== undefined || (request.contexts?.length ?? 0) > 0 || request.allContexts === true;
  if (flagsAskKube || request.currentContextByDefault) {
    const kubeConfig = loadKubeconfig(
      request.kubeconfig,
      request.env,
      request.currentContextByDefault === true && !flagsAskKube,
    );
    const which = request.allContexts
      ? 'all'
      : (request.contexts?.length ?? 0) > 0
        ? (request.contexts ?? [])
        : 'current';
    for (const context of selectContexts(kubeConfig, which)) {
      sources.push(createKubeconfigSource({ kubeConfig, context, ...(read ? { read } : {}) }));
    }
  }

  // kubeconfig clusters from the config file
  for (const c of configClusters) {
    if (c.kind !== 'kubeconfig') continue;
    const kubeConfig = loadKubeconfig(c.kubeconfig, request.env, false);
    const [context] = selectContexts(kubeConfig, c.context === undefined ? 'current' : [c.context]);
    sources.push(
      createKubeconfigSource({ kubeConfig, context: context ?? '', name: c.name, ...(read ? { read } : {}) }),
    );
  }

  // EKS clusters and fleets
  const eksFlags = (request.eks ?? []).map((spec) => parseEksSpec(spec, request.env.region));
  if (eksFlags.length > 0 || configClusters.some((c) => c.kind === 'eks' || c.kind === 'eks-discovery')) {
    const { createEksSources } = await import('../eks/live.js');
    sources.push(
      ...(await createEksSources({
        flags: eksFlags,
        clusters: configClusters,
        ...(request.env.region === undefined ? {} : { region: request.env.region }),
        ...(read ? { read } : {}),
        ...(request.clock ? { clock: request.clock } : {}),
        ...(request.awsCredentials ? { awsCredentials: request.awsCredentials } : {}),
        ...(request.eksEndpoint === undefined ? {} : { eksEndpoint: request.eksEndpoint }),
        ...(request.stsEndpoint === undefined ? {} : { stsEndpoint: request.stsEndpoint }),
        ...(request.sessionName === undefined ? {} : { sessionName: request.sessionName }),
      })),
    );
  }
  return sources;
}

/** `NAME@REGION`, or `NAME` with the default region. */
export function parseEksSpec(spec: string, defaultRegion: string | undefined): { cluster: string; region: string } {
  const m = /^([A-Za-z0-9][A-Za-z0-9_-]{0,99})(?:@([a-z]{2}(?:-[a-z]+)+-\d+))?$/.exec(spec);
  if (!m) throw new UsageError(`--eks ${spec}: expected NAME@REGION, e.g. prod@eu-west-1`);
  const region = m[2] ?? defaultRegion;
  if (region === undefined) throw new UsageError(`--eks ${spec}: no region: give NAME@REGION or set AWS_REGION`);
  return { cluster: m[1] ?? spec, region };
}

function loadKubeconfig(
  file: string | undefined,
  env: LiveEnvironment,
  implicit: boolean,
): ReturnType<typeof loadKubeconfigFiles> {
  if (file !== undefined) return loadKubeconfigFiles([file]);
  const files = env.kubeconfigPaths.length > 0 ? env.kubeconfigPaths : env.home ? [`${env.home}/.kube/config`] : [];
  if (files.length === 0 && implicit) throw nothingToScan();
  try {
    return loadKubeconfigFiles(files, { ignoreMissing: true });
  } catch (e) {
    if (implicit) throw nothingToScan();
    throw e;
  }
}

function nothingToScan(): UsageError {
  return new UsageError(
    'nothing to scan: give --manifests PATH..., --kubeconfig FILE / --context NAME / --all-contexts, --eks NAME@REGION, or clusters in the config file',
  );
}
