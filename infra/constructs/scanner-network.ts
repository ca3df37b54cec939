/**
 * The optional VPC attachment, for clusters whose API endpoint is private: existing subnets (with
 * a route to the clusters, to STS and EKS endpoints or a NAT, and to Slack), and existing security
 * groups or a new one that allows HTTPS out and nothing in. Nothing is looked up at synth time, so
 * `cdk synth` stays offline.
 */
import { Fn } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { Construct } from 'constructs';

export interface ScannerNetworkProps {
  readonly vpcId: string;
  readonly subnetIds: readonly string[];
  readonly securityGroupIds?: readonly string[];
}

export class ScannerNetwork extends Construct {
  readonly vpc: ec2.IVpc;
  readonly subnets: ec2.SubnetSelection;
  readonly securityGroups: readonly ec2.ISecurityGroup[];

  constructor(scope: Construct, id: string, props: ScannerNetworkProps) {
    super(scope, id);
    // Only the subnets below are used: the VPC's zones and other subnets are not needed to place the function.
    this.vpc = ec2.Vpc.fromVpcAttributes(this, 'Vpc', { vpcId: props.vpcId, availabilityZones: Fn.getAzs() });
    this.subnets = {
      subnets: props.subnetIds.map((subnetId, i) => ec2.Subnet.fromSubnetId(this, `Subnet${i}`, subnetId)),
    };
    if (props.securityGroupIds !== undefined) {
      this.securityGroups = props.securityGroupIds.map((sg, i) =>
        ec2.SecurityGroup.fromSecurityGroupId(this, `SecurityGroup${i}`, sg, { mutable: false }),
      );
    } else {
      const group = new ec2.SecurityGroup(this, 'SecurityGroup', {
        vpc: this.vpc,
        description: 'labelguard scanner: HTTPS out to cluster endpoints, AWS APIs and Slack; nothing in',
        allowAllOutbound: false,
      });
      group.addEgressRule(ec2.Peer.anyIpv4(), ec2.Port.tcp(443), 'HTTPS to cluster endpoints, AWS APIs and Slack');
      this.securityGroups = [group];
    }
  }
}
