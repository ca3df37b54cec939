import { afterAll, describe, expect, it } from 'vitest';
import { Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks, ServerlessChecks } from 'cdk-nag';
import { EXAMPLE_CONFIG, cleanUpSynth, synth, type Synthesized } from './synth.js';

afterAll(cleanUpSynth);

/** The configs that make the stack take each of its shapes. */
const CONFIGS: Readonly<Record<string, string>> = {
  example: EXAMPLE_CONFIG,
  minimal: 'clusters: [{ name: a, kind: eks }]\n',
  'fan-out, discovery, VPC, customer key, secret by name': `
clusters:
  - { name: a, kind: eks, region: eu-west-1 }
  - name: fleet
    kind: eks-discovery
    accounts: [{ regions: [eu-west-1] }, { roleArn: 'arn:aws:iam::333333333333:role/d', regions: [us-east-1] }]
notify: { slack: { channel: '#sec', tokenSecretId: labelguard/slack } }
deploy:
  region: eu-west-1
  fanOut: stepfunctions
  vpc: { vpcId: vpc-0123456789abcdef0, subnetIds: [subnet-0123456789abcdef0], securityGroupIds: [sg-0123456789abcdef0] }
  tableKmsKeyArn: arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab
`,
  'secret by complete ARN': `
clusters: [{ name: a, kind: eks, region: eu-west-1 }]
notify: { slack: { channel: '#sec', tokenSecretId: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:labelguard/slack-AbCdEf' } }
`,
};

function violations(s: Synthesized): string[] {
  return [new AwsSolutionsChecks(s.stack), new ServerlessChecks(s.stack)].flatMap((pack) =>
    pack
      .validateScope(s.stack)
      .violations.flatMap((v) =>
        v.violatingResources.map((r) => `${v.ruleName} at ${r.constructPath ?? r.resourceLogicalId}`),
      ),
  );
}

function acknowledgements(s: Synthesized): { path: string; id: string; reason: string }[] {
  return s.stack.node.findAll().flatMap((c) =>
    c.node.metadata
      .filter((m) => m.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY)
      .flatMap((m) =>
        Object.entries(m.data as Record<string, string>).map(([id, reason]) => ({
          path: c.node.path,
          id: id.replace(/^Annotation::/, ''),
          reason,
        })),
      ),
  );
}

describe('cdk-nag (AwsSolutions and Serverless packs)', () => {
  const synthesized = new Map<string, Synthesized>();
  const of = (name: string): Synthesized => {
    let s = synthesized.get(name);
    if (s === undefined) {
      s = synth(CONFIGS[name]!);
      synthesized.set(name, s);
    }
    return s;
  };

  for (const name of Object.keys(CONFIGS)) {
    it(`finds nothing unacknowledged in the ${name} stack`, () => {
      expect(violations(of(name))).toEqual([]);
    });
  }

  it('acknowledges each finding at the construct that causes it, with a reason', () => {
    for (const name of Object.keys(CONFIGS)) {
      for (const ack of acknowledgements(of(name))) {
        expect(ack.path.split('/').length, `${ack.id} acknowledged at ${ack.path}`).toBeGreaterThan(2);
        expect(ack.reason.length, `${ack.id} at ${ack.path}`).toBeGreaterThan(40);
      }
    }
  });

  it('acknowledges exactly these findings (a new one is a decision to review)', () => {
    const list = (name: string): string[] =>
      acknowledgements(of(name))
        .map((a) => `${a.path.replace(/^Labelguard\//, '')}: ${a.id.replace(/[A-Z0-9]{8}(?=\.Arn)/, '…')}`)
        .sort();
    expect(list('example')).toEqual([
      'Alarms/Topic/platform-security@example.com: Serverless-SNSRedrivePolicy',
      'Scanner/Function: Serverless-LambdaDLQ',
      'Scanner/Role/DefaultPolicy: AwsSolutions-IAM5[Resource::*]',
      'Schedule/DeadLetterQueue: AwsSolutions-SQS3',
      'Schedule/DeadLetterQueue: Serverless-SQSRedrivePolicy',
      'Schedule/Role/DefaultPolicy: AwsSolutions-IAM5[Resource::<ScannerFunction….Arn>:*]',
      'Slack/Secret: AwsSolutions-SMG4',
    ]);
    expect(list('fan-out, discovery, VPC, customer key, secret by name')).toEqual([
      'ClusterAccess/Policy: AwsSolutions-IAM5[Resource::*]',
      'ClusterAccess/Policy: AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:eks:eu-west-1:<AWS::AccountId>:cluster/*]',
      'FanOut/StateMachine/DistributedMapPolicy: AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:states:eu-west-1:<AWS::AccountId>:execution:{"Fn::Select":[6,{"Fn::Split":[":",{"Ref":"FanOutStateMachineD6078A7F"}]}]}/*:*]',
      'FanOut/StateMachine/DistributedMapPolicy: AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:states:eu-west-1:<AWS::AccountId>:execution:{"Fn::Select":[6,{"Fn::Split":[":",{"Ref":"FanOutStateMachineD6078A7F"}]}]}:*]',
      'FanOut/StateMachine/Role/DefaultPolicy: AwsSolutions-IAM5[Resource::*]',
      'FanOut/StateMachine/Role/DefaultPolicy: AwsSolutions-IAM5[Resource::<ScannerFunction….Arn>:*]',
      'Scanner/Function: Serverless-LambdaDLQ',
      'Scanner/Role/DefaultPolicy: AwsSolutions-IAM5[Resource::*]',
      'Schedule/DeadLetterQueue: AwsSolutions-SQS3',
      'Schedule/DeadLetterQueue: Serverless-SQSRedrivePolicy',
    ]);
  });
});
