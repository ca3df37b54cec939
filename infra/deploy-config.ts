/**
 * The config at synth time: `labelguard.config.yaml` validated by the same schema as everywhere
 * (`loadConfig`), then what only a deployment asks of it: the Lambda reads EKS clusters, so every
 * configured cluster must be one. Every problem is reported with its path, as `ConfigError`.
 */
import { readFileSync } from 'node:fs';
import { defaultDeployConfig, loadConfig, type Config, type DeployConfig } from '../lambda/config.js';
import { ConfigError, type ConfigIssue } from '../lambda/errors.js';
import type { EksClusterTarget, EksDiscoveryTarget } from './constructs/cluster-access.js';

export interface DeploySettings {
  readonly config: Config;
  readonly deploy: DeployConfig;
}

/**
 * Reads and validates the config file for a deployment. `region` is the default region of the
 * deployment (CDK_DEFAULT_REGION), when known; `deploy.region` overrides it. Throws ConfigError.
 */
export function readDeployConfig(file: string, options: { region?: string } = {}): DeploySettings {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? String(e);
    throw new ConfigError(file, [
      {
        path: '',
        message: `cannot read the config (${code}): give one with \`cdk synth -c config=FILE\` (see docs/deploy.md)`,
      },
    ]);
  }
  const config = loadConfig(text, file);
  const issues = deployIssues(config, options);
  if (issues.length > 0) throw new ConfigError(file, issues);
  return { config, deploy: config.deploy ?? defaultDeployConfig() };
}

/** What makes a valid config undeployable. */
export function deployIssues(config: Config, options: { region?: string } = {}): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  config.clusters.forEach((cluster, i) => {
    if (!DEPLOYABLE_KINDS.includes(cluster.kind)) {
      issues.push({
        path: `clusters[${i}].kind`,
        message: `the deployed scanner reads EKS clusters only (eks, eks-discovery); scan ${cluster.kind} clusters with the CLI`,
      });
    }
  });
  if (!config.clusters.some((c) => DEPLOYABLE_KINDS.includes(c.kind))) {
    issues.push({
      path: 'clusters',
      message: 'no cluster of kind eks or eks-discovery: the deployed scanner would have nothing to scan',
    });
  }
  const region = config.deploy?.region ?? options.region;
  if (region !== undefined) {
    (config.deploy?.accessEntries ?? []).forEach((name, i) => {
      const cluster = config.clusters.find((c) => c.name === name);
      const clusterRegion = cluster?.region ?? region;
      if (clusterRegion !== region) {
        issues.push({
          path: `deploy.accessEntries[${i}]`,
          message: `${name} is in ${clusterRegion}, the stack in ${region}: an access entry can only be created in the stack's region`,
        });
      }
    });
  }
  const keyArn = config.deploy?.tableKmsKeyArn;
  if (keyArn !== undefined) {
    const keyRegion = keyArn.split(':')[3];
    if (region === undefined) {
      issues.push({
        path: 'deploy.tableKmsKeyArn',
        message: 'a table encrypted with a customer managed key needs the stack in a known region: set deploy.region',
      });
    } else if (keyRegion !== region) {
      issues.push({
        path: 'deploy.tableKmsKeyArn',
        message: `the key is in ${keyRegion ?? 'no region'}, the stack in ${region}: DynamoDB needs a key in the table's region`,
      });
    }
  }
  return issues;
}

/** The cluster kinds the Lambda reads. */
const DEPLOYABLE_KINDS: readonly string[] = ['eks', 'eks-discovery'];

/** The EKS clusters to reach; a cluster without a region is in the function's own. */
export function eksTargetsOf(config: Config, defaultRegion: string): EksClusterTarget[] {
  return config.clusters.flatMap((c) =>
    c.kind === 'eks'
      ? [
          {
            name: c.name,
            region: c.region ?? defaultRegion,
            ...(c.roleArn === undefined ? {} : { roleArn: c.roleArn }),
          },
        ]
      : [],
  );
}

/** The account scopes EKS discovery lists clusters in. */
export function discoveryTargetsOf(config: Config): EksDiscoveryTarget[] {
  return config.clusters.flatMap((c) =>
    c.kind === 'eks-discovery'
      ? (c.accounts ?? []).map((a) => ({
          regions: a.regions,
          ...(a.roleArn === undefined ? {} : { roleArn: a.roleArn }),
        }))
      : [],
  );
}

/**
 * Whether the scan fans out over Step Functions: asked for, or `auto` with more `clusters`
 * entries than `fanOutAbove`. The unit of fan-out is an entry: a cluster, or a discovered fleet.
 */
export function usesFanOut(deploy: DeployConfig, entries: number): boolean {
  return deploy.fanOut === 'stepfunctions' || (deploy.fanOut === 'auto' && entries > deploy.fanOutAbove);
}
