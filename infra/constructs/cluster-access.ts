/**
 * What the scanner may do to reach its clusters, and nothing more, in a policy of its own:
 *   - `eks:DescribeCluster` on the clusters it reaches with its own role (by ARN, in this account);
 *   - for fleets it discovers with its own role: `eks:ListClusters` in the discovery regions only,
 *     and `eks:DescribeCluster` on this account's clusters in those regions;
 *   - `sts:AssumeRole` on the roles configured for the others (their account grants the rest);
 *   - optionally an EKS access entry (STANDARD, Kubernetes group `labelguard-readers`) for its own
 *     role on same-account clusters, which `deploy/rbac/labelguard-reader.yaml` binds read-only.
 * The bearer token is signed locally: no STS permission is involved in that.
 */
import { Stack } from 'aws-cdk-lib';
import * as eks from 'aws-cdk-lib/aws-eks';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { acknowledgeWildcardResources } from '../nag.js';

/** The Kubernetes group `deploy/rbac/labelguard-reader.yaml` binds to its read-only ClusterRole. */
export const READER_GROUP = 'labelguard-readers';

export interface EksClusterTarget {
  /** The EKS cluster name. */
  readonly name: string;
  readonly region: string;
  /** The role assumed to reach it (another account, or a narrower role); the function's own role when absent. */
  readonly roleArn?: string;
}

/** An account scope of EKS discovery: its clusters are listed in `regions`, with `roleArn` or the function's own role. */
export interface EksDiscoveryTarget {
  readonly regions: readonly string[];
  readonly roleArn?: string;
}

export interface ClusterAccessProps {
  /** The scanner's role: it receives the permissions and is the access entries' principal. */
  readonly role: iam.IRole;
  readonly clusters: readonly EksClusterTarget[];
  readonly discovery?: readonly EksDiscoveryTarget[];
  /** Names of clusters (reached with the function's own role, in this stack's region) to create access entries on. */
  readonly accessEntries?: readonly string[];
}

export class ClusterAccess extends Construct {
  readonly policy: iam.Policy | undefined;
  /** The cluster ARNs the role may describe. */
  readonly describableClusterArns: readonly string[];
  /** The regions the role may list clusters in (its own account). */
  readonly discoveryRegions: readonly string[];
  readonly assumableRoleArns: readonly string[];
  readonly accessEntries: readonly eks.CfnAccessEntry[];

  constructor(scope: Construct, id: string, props: ClusterAccessProps) {
    super(scope, id);
    const stack = Stack.of(this);
    const clusterArn = (region: string, name: string): string =>
      stack.formatArn({ service: 'eks', region, resource: 'cluster', resourceName: name });
    const discovery = props.discovery ?? [];
    const own = props.clusters.filter((c) => c.roleArn === undefined);

    this.discoveryRegions = unique(discovery.filter((d) => d.roleArn === undefined).flatMap((d) => d.regions));
    this.describableClusterArns = unique([
      ...own
        .filter((c) => !discovery.some((d) => d.roleArn === undefined && d.regions.includes(c.region)))
        .map((c) => clusterArn(c.region, c.name)),
      ...this.discoveryRegions.map((region) => clusterArn(region, '*')),
    ]);
    this.assumableRoleArns = unique(
      [...props.clusters, ...discovery].flatMap((c) => (c.roleArn === undefined ? [] : [c.roleArn])),
    );

    const statements: iam.PolicyStatement[] = [];
    if (this.describableClusterArns.length > 0) {
      statements.push(
        new iam.PolicyStatement({
          sid: 'DescribeClusters',
          actions: ['eks:DescribeCluster'],
          resources: [...this.describableClusterArns],
        }),
      );
    }
    if (this.discoveryRegions.length > 0) {
      statements.push(
        new iam.PolicyStatement({
          sid: 'ListClusters',
          actions: ['eks:ListClusters'],
          // ListClusters has no resource-level permissions: it is confined by region instead.
          resources: ['*'],
          conditions: { StringEquals: { 'aws:RequestedRegion': [...this.discoveryRegions] } },
        }),
      );
    }
    if (this.assumableRoleArns.length > 0) {
      statements.push(
        new iam.PolicyStatement({
          sid: 'AssumeClusterRoles',
          actions: ['sts:AssumeRole'],
          resources: [...this.assumableRoleArns],
        }),
      );
    }
    this.policy =
      statements.length === 0 ? undefined : new iam.Policy(this, 'Policy', { statements, roles: [props.role] });
    if (this.policy && this.discoveryRegions.length > 0) {
      acknowledgeWildcardResources(
        this.policy,
        ['eks:ListClusters', 'eks:DescribeCluster'],
        'EKS discovery lists the clusters of the configured regions (ListClusters supports no resource-level permission; it is confined by aws:RequestedRegion) and describes the ones it finds, whose names it cannot know in advance.',
      );
    }

    this.accessEntries = (props.accessEntries ?? []).map((name) => {
      const cluster = own.find((c) => c.name === name);
      if (cluster === undefined) {
        throw new Error(`access entry for ${name}: not a cluster reached with the function's own role`);
      }
      return new eks.CfnAccessEntry(this, `AccessEntry-${name}`, {
        clusterName: cluster.name,
        principalArn: props.role.roleArn,
        type: 'STANDARD',
        kubernetesGroups: [READER_GROUP],
      });
    });
  }
}

function unique(values: readonly string[]): string[] {
  return [...new Set(values)].sort();
}
