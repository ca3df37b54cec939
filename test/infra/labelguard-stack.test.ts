import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Match } from 'aws-cdk-lib/assertions';
import { TIME_INDEX, tableDefinition } from '../../lambda/adapters/dynamo/table.js';
import { LAMBDA_ENV } from '../../lambda/lambda-env.js';
import { STORE_ACTIONS } from '../../infra/constructs/results-table.js';
import { EXAMPLE_CONFIG, cleanUpSynth, resourcesOf, statementsOfRole, synth, type Synthesized } from './synth.js';

const FAN_OUT_CONFIG = `
clusters:
  - name: shop-prod
    kind: eks
  - name: fleet
    kind: eks-discovery
    accounts:
      - regions: [eu-west-1, eu-central-1]
      - roleArn: arn:aws:iam::333333333333:role/labelguard-discovery
        externalId: fleet-ext
        regions: [us-east-1]
    tags: { labelguard/scan: 'true' }
notify:
  slack:
    channel: C0123ABCD
    tokenSecretId: labelguard/slack-bot
deploy:
  region: eu-west-1
  account: '123456789012'
  fanOut: stepfunctions
  fanOutConcurrency: 4
  vpc:
    vpcId: vpc-0123456789abcdef0
    subnetIds: [subnet-0123456789abcdef0, subnet-0123456789abcdef1]
  tableKmsKeyArn: arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab
`;

let example: Synthesized;
let fanOut: Synthesized;

beforeAll(() => {
  example = synth(EXAMPLE_CONFIG);
  fanOut = synth(FAN_OUT_CONFIG);
});
afterAll(cleanUpSynth);

function idOf(s: Synthesized, type: string, where: (props: Record<string, unknown>) => boolean = () => true): string {
  const found = resourcesOf(s, type).filter(([, p]) => where(p));
  if (found.length !== 1) throw new Error(`expected one ${type}, found ${found.length}`);
  return found[0]![0];
}

const scannerRole = (s: Synthesized): string =>
  idOf(s, 'AWS::IAM::Role', (p) => JSON.stringify(p.AssumeRolePolicyDocument).includes('lambda.amazonaws.com'));
const scannerFunction = (s: Synthesized): string => idOf(s, 'AWS::Lambda::Function');
const deadLetterQueue = (s: Synthesized): string => idOf(s, 'AWS::SQS::Queue');
const table = (s: Synthesized): string => idOf(s, 'AWS::DynamoDB::GlobalTable');

/** Statements by Sid (or by their actions when they have none), actions sorted. */
function statementsBySid(
  s: Synthesized,
  roleId: string,
): Map<string, { actions: string[]; resource: unknown; condition?: unknown }> {
  const out = new Map<string, { actions: string[]; resource: unknown; condition?: unknown }>();
  for (const st of statementsOfRole(s, roleId)) {
    const actions = [st.Action].flat().sort();
    out.set(st.Sid ?? actions.join(','), {
      actions,
      resource: st.Resource,
      ...(st.Condition ? { condition: st.Condition } : {}),
    });
  }
  return out;
}

describe('the scanner function', () => {
  it('runs Node.js 24 on arm64 with the memory, timeout and concurrency of the config', () => {
    example.template.hasResourceProperties('AWS::Lambda::Function', {
      Runtime: 'nodejs24.x',
      Architectures: ['arm64'],
      Handler: 'index.handler',
      MemorySize: 1536,
      Timeout: 300,
      ReservedConcurrentExecutions: 1,
      TracingConfig: { Mode: 'Active' },
      LoggingConfig: { LogFormat: 'JSON', LogGroup: { Ref: Match.anyValue() } },
    });
    expect(example.json.Resources[scannerFunction(example)]?.Properties?.VpcConfig).toBeUndefined();
  });

  it('gets the table, the Slack secret, source maps and Powertools settings through its environment, and nothing else', () => {
    const variables = (
      example.json.Resources[scannerFunction(example)]?.Properties?.Environment as {
        Variables: Record<string, unknown>;
      }
    ).Variables;
    expect(Object.keys(variables).sort()).toEqual(
      [
        LAMBDA_ENV.slackSecretId,
        LAMBDA_ENV.table,
        'NODE_OPTIONS',
        'POWERTOOLS_LOG_LEVEL',
        'POWERTOOLS_METRICS_NAMESPACE',
        'POWERTOOLS_SERVICE_NAME',
      ].sort(),
    );
    expect(variables).toMatchObject({
      NODE_OPTIONS: '--enable-source-maps',
      POWERTOOLS_SERVICE_NAME: 'labelguard',
      POWERTOOLS_METRICS_NAMESPACE: 'Labelguard',
      [LAMBDA_ENV.table]: { Ref: table(example) },
      [LAMBDA_ENV.slackSecretId]: { Ref: idOf(example, 'AWS::SecretsManager::Secret') },
    });
  });

  it('writes to its own log group, kept as configured', () => {
    example.template.hasResourceProperties('AWS::Logs::LogGroup', { RetentionInDays: 365 });
    const logs = statementsBySid(example, scannerRole(example)).get('OwnLogs');
    expect(logs?.actions).toEqual(['logs:CreateLogStream', 'logs:PutLogEvents']);
    expect(
      example.template.findResources('AWS::IAM::Role', { Properties: { ManagedPolicyArns: Match.anyValue() } }),
    ).toEqual({});
  });

  it('sends failed asynchronous invocations, after two retries, to the dead-letter queue', () => {
    example.template.hasResourceProperties('AWS::Lambda::EventInvokeConfig', {
      MaximumRetryAttempts: 2,
      DestinationConfig: { OnFailure: { Destination: { 'Fn::GetAtt': [deadLetterQueue(example), 'Arn'] } } },
    });
  });

  it('may do exactly what the store, the secret and its clusters need', () => {
    const statements = statementsBySid(example, scannerRole(example));
    expect([...statements.keys()].sort()).toEqual(
      [
        'AssumeClusterRoles',
        'DescribeClusters',
        'HistoryStore',
        'OwnLogs',
        'SlackToken',
        'sqs:GetQueueAttributes,sqs:GetQueueUrl,sqs:SendMessage',
        'xray:PutTelemetryRecords,xray:PutTraceSegments',
      ].sort(),
    );
    const store = statements.get('HistoryStore');
    expect(store?.actions).toEqual([...STORE_ACTIONS].sort());
    const indexes = (tableDefinition('x').GlobalSecondaryIndexes ?? []).map((i) => i.IndexName);
    expect(indexes).toContain(TIME_INDEX);
    expect(store?.resource).toEqual([
      { 'Fn::GetAtt': [table(example), 'Arn'] },
      ...indexes.map((name) => ({
        'Fn::Join': [
          '',
          [
            'arn:',
            { Ref: 'AWS::Partition' },
            ':dynamodb:eu-west-1:123456789012:table/',
            { Ref: table(example) },
            `/index/${name}`,
          ],
        ],
      })),
    ]);
    expect(statements.get('SlackToken')).toEqual({
      actions: ['secretsmanager:GetSecretValue'],
      resource: { Ref: idOf(example, 'AWS::SecretsManager::Secret') },
    });
    expect(statements.get('DescribeClusters')).toEqual({
      actions: ['eks:DescribeCluster'],
      resource: {
        'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':eks:eu-west-1:123456789012:cluster/shop-prod']],
      },
    });
    expect(statements.get('AssumeClusterRoles')).toEqual({
      actions: ['sts:AssumeRole'],
      resource: 'arn:aws:iam::210987654321:role/labelguard-reader',
    });
  });

  it('attaches to the configured subnets with a security group that only allows HTTPS out', () => {
    fanOut.template.hasResourceProperties('AWS::Lambda::Function', {
      VpcConfig: {
        SubnetIds: ['subnet-0123456789abcdef0', 'subnet-0123456789abcdef1'],
        SecurityGroupIds: [{ 'Fn::GetAtt': [Match.anyValue(), 'GroupId'] }],
      },
    });
    fanOut.template.hasResourceProperties('AWS::EC2::SecurityGroup', {
      VpcId: 'vpc-0123456789abcdef0',
      SecurityGroupEgress: [
        { CidrIp: '0.0.0.0/0', IpProtocol: 'tcp', FromPort: 443, ToPort: 443, Description: Match.anyValue() },
      ],
    });
    expect(
      fanOut.template.findResources('AWS::EC2::SecurityGroup', {
        Properties: { SecurityGroupIngress: Match.anyValue() },
      }),
    ).toEqual({});
    const vpc = statementsBySid(fanOut, scannerRole(fanOut)).get('VpcNetworkInterfaces');
    expect(vpc?.actions).toContain('ec2:CreateNetworkInterface');
    expect(vpc?.resource).toBe('*');
  });
});

describe('the schedule', () => {
  it('invokes the function on the configured cron in its time zone, with the scheduled time as the event time', () => {
    example.template.hasResourceProperties('AWS::Scheduler::Schedule', {
      ScheduleExpression: 'cron(0 6 ? * MON-FRI *)',
      ScheduleExpressionTimezone: 'Europe/Berlin',
      FlexibleTimeWindow: { Mode: 'OFF' },
      State: 'ENABLED',
      Target: {
        Arn: { 'Fn::GetAtt': [scannerFunction(example), 'Arn'] },
        RetryPolicy: { MaximumRetryAttempts: 2, MaximumEventAgeInSeconds: 3600 },
        DeadLetterConfig: { Arn: { 'Fn::GetAtt': [deadLetterQueue(example), 'Arn'] } },
      },
    });
    const schedule = resourcesOf(example, 'AWS::Scheduler::Schedule')[0]![1] as { Target: { Input: string } };
    expect(JSON.parse(schedule.Target.Input)).toEqual({
      version: '0',
      id: '<aws.scheduler.execution-id>',
      'detail-type': 'Scheduled Event',
      source: 'labelguard.scheduler',
      time: '<aws.scheduler.scheduled-time>',
      resources: ['<aws.scheduler.schedule-arn>'],
      detail: {},
    });
  });

  it('has a role of its own that may only start the target and write to the dead-letter queue', () => {
    const roleId = idOf(example, 'AWS::IAM::Role', (p) =>
      JSON.stringify(p.AssumeRolePolicyDocument).includes('scheduler.amazonaws.com'),
    );
    expect(JSON.stringify(example.json.Resources[roleId]?.Properties?.AssumeRolePolicyDocument)).toContain(
      '"aws:SourceAccount":"123456789012"',
    );
    const statements = statementsOfRole(example, roleId).map((s) => [s.Action].flat().join(','));
    expect(statements.sort()).toEqual(['lambda:InvokeFunction', 'sqs:SendMessage']);
  });

  it('defaults to hourly in UTC', () => {
    const s = synth('clusters: [{ name: a, kind: eks, region: eu-west-1 }]\n');
    s.template.hasResourceProperties('AWS::Scheduler::Schedule', {
      ScheduleExpression: 'rate(1 hour)',
      ScheduleExpressionTimezone: 'UTC',
    });
  });

  it('keeps undeliverable runs in an encrypted queue that refuses plain HTTP', () => {
    example.template.hasResourceProperties('AWS::SQS::Queue', {
      SqsManagedSseEnabled: true,
      MessageRetentionPeriod: 1209600,
    });
    example.template.hasResourceProperties('AWS::SQS::QueuePolicy', {
      PolicyDocument: {
        Statement: [Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })],
      },
    });
  });
});

describe('the results table', () => {
  it('has the store’s keys and indexes, on demand, with point-in-time recovery, TTL and deletion protection, and is retained', () => {
    const definition = tableDefinition('x');
    example.template.hasResource('AWS::DynamoDB::GlobalTable', {
      DeletionPolicy: 'Retain',
      UpdateReplacePolicy: 'Retain',
      Properties: {
        BillingMode: 'PAY_PER_REQUEST',
        KeySchema: definition.KeySchema,
        AttributeDefinitions: Match.arrayWith(definition.AttributeDefinitions ?? []),
        GlobalSecondaryIndexes: definition.GlobalSecondaryIndexes,
        TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
        Replicas: [
          Match.objectLike({
            Region: 'eu-west-1',
            DeletionProtectionEnabled: true,
            PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
          }),
        ],
        SSESpecification: { SSEEnabled: false },
      },
    });
  });

  it('uses the customer managed key of the config, and the function may use it only through DynamoDB', () => {
    const keyArn = 'arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab';
    fanOut.template.hasResourceProperties('AWS::DynamoDB::GlobalTable', {
      SSESpecification: { SSEEnabled: true, SSEType: 'KMS' },
      Replicas: [Match.objectLike({ SSESpecification: { KMSMasterKeyId: keyArn } })],
    });
    expect(statementsBySid(fanOut, scannerRole(fanOut)).get('HistoryStoreKey')).toEqual({
      actions: ['kms:Decrypt', 'kms:DescribeKey', 'kms:Encrypt', 'kms:GenerateDataKey'],
      resource: keyArn,
      condition: {
        StringEquals: { 'kms:ViaService': { 'Fn::Join': ['', ['dynamodb.eu-west-1.', { Ref: 'AWS::URLSuffix' }]] } },
      },
    });
  });
});

describe('the Slack secret', () => {
  it('is created, to be filled in after deploy, when the config names none', () => {
    example.template.resourceCountIs('AWS::SecretsManager::Secret', 1);
  });

  it('is the configured one, by name, when there is one: readable only', () => {
    fanOut.template.resourceCountIs('AWS::SecretsManager::Secret', 0);
    expect(statementsBySid(fanOut, scannerRole(fanOut)).get('SlackToken')).toEqual({
      actions: ['secretsmanager:GetSecretValue'],
      resource: {
        'Fn::Join': [
          '',
          [
            'arn:',
            { Ref: 'AWS::Partition' },
            ':secretsmanager:eu-west-1:123456789012:secret:labelguard/slack-bot-??????',
          ],
        ],
      },
    });
    fanOut.template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ [LAMBDA_ENV.slackSecretId]: 'labelguard/slack-bot' }) },
    });
  });

  it('is left out when nothing goes to Slack', () => {
    const s = synth('clusters: [{ name: a, kind: eks, region: eu-west-1 }]\n');
    s.template.resourceCountIs('AWS::SecretsManager::Secret', 0);
    const variables = (
      s.json.Resources[scannerFunction(s)]?.Properties?.Environment as { Variables: Record<string, unknown> }
    ).Variables;
    expect(variables).not.toHaveProperty(LAMBDA_ENV.slackSecretId);
    expect(statementsBySid(s, scannerRole(s)).has('SlackToken')).toBe(false);
  });
});

describe('cluster access', () => {
  it('creates a STANDARD access entry in group labelguard-readers for the function’s role on the clusters named', () => {
    example.template.resourceCountIs('AWS::EKS::AccessEntry', 1);
    example.template.hasResourceProperties('AWS::EKS::AccessEntry', {
      ClusterName: 'shop-prod',
      Type: 'STANDARD',
      KubernetesGroups: ['labelguard-readers'],
      PrincipalArn: { 'Fn::GetAtt': [scannerRole(example), 'Arn'] },
    });
    expect(JSON.stringify(example.json.Resources[idOf(example, 'AWS::EKS::AccessEntry')])).not.toContain(
      'AccessPolicies',
    );
  });

  it('lists and describes clusters only in the discovery regions, and assumes only the configured roles', () => {
    const statements = statementsBySid(fanOut, scannerRole(fanOut));
    const arn = (region: string, name: string): unknown => ({
      'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, `:eks:${region}:123456789012:cluster/${name}`]],
    });
    // shop-prod has no region: the function's own; it is covered by the discovery of eu-west-1.
    expect(statements.get('DescribeClusters')).toEqual({
      actions: ['eks:DescribeCluster'],
      resource: [arn('eu-central-1', '*'), arn('eu-west-1', '*')],
    });
    expect(statements.get('ListClusters')).toEqual({
      actions: ['eks:ListClusters'],
      resource: '*',
      condition: { StringEquals: { 'aws:RequestedRegion': ['eu-central-1', 'eu-west-1'] } },
    });
    expect(statements.get('AssumeClusterRoles')).toEqual({
      actions: ['sts:AssumeRole'],
      resource: 'arn:aws:iam::333333333333:role/labelguard-discovery',
    });
    fanOut.template.resourceCountIs('AWS::EKS::AccessEntry', 0);
  });
});

describe('fan-out', () => {
  it('is off for a few clusters: the schedule invokes the function, which runs alone', () => {
    example.template.resourceCountIs('AWS::StepFunctions::StateMachine', 0);
  });

  it('runs a Distributed Map of the same function, started by the schedule, traced and logged in full', () => {
    const machine = idOf(fanOut, 'AWS::StepFunctions::StateMachine');
    fanOut.template.hasResourceProperties('AWS::StepFunctions::StateMachine', {
      TracingConfiguration: { Enabled: true },
      LoggingConfiguration: { Level: 'ALL', IncludeExecutionData: true, Destinations: [Match.anyValue()] },
    });
    fanOut.template.hasResourceProperties('AWS::Scheduler::Schedule', { Target: { Arn: { Ref: machine } } });
    fanOut.template.hasResourceProperties('AWS::Lambda::Function', { ReservedConcurrentExecutions: 4 });
    const definition = JSON.stringify(fanOut.json.Resources[machine]?.Properties?.DefinitionString);
    for (const text of [
      '\\"labelguard\\":\\"plan\\"',
      '\\"labelguard\\":\\"cluster\\"',
      '\\"labelguard\\":\\"notify\\"',
      '\\"ProcessorConfig\\":{\\"Mode\\":\\"DISTRIBUTED\\",\\"ExecutionType\\":\\"STANDARD\\"}',
      '\\"MaxConcurrency\\":4',
      '\\"ToleratedFailurePercentage\\":100',
      '\\"Error\\":\\"EveryClusterFailed\\"',
    ]) {
      expect(definition).toContain(text);
    }
  });

  it('alarms when an execution fails', () => {
    fanOut.template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'ExecutionsFailed',
      Namespace: 'AWS/States',
    });
  });
});

describe('alarms', () => {
  it('watch errors, throttles, duration near the timeout, dead letters and partial or failed clusters', () => {
    const alarms = resourcesOf(example, 'AWS::CloudWatch::Alarm').map(([, p]) => p);
    const byName = new Map(alarms.map((a) => [a.AlarmName as string, a]));
    expect([...byName.keys()].sort()).toEqual(
      [
        'Labelguard-dead-letters',
        'Labelguard-duration',
        'Labelguard-errors',
        'Labelguard-failed-clusters',
        'Labelguard-partial-clusters',
        'Labelguard-throttles',
      ].sort(),
    );
    expect(byName.get('Labelguard-duration')).toMatchObject({
      MetricName: 'Duration',
      Statistic: 'Maximum',
      Threshold: 240_000,
    });
    expect(byName.get('Labelguard-dead-letters')).toMatchObject({
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Threshold: 1,
      OKActions: [{ Ref: idOf(example, 'AWS::SNS::Topic') }],
    });
    for (const name of ['Labelguard-partial-clusters', 'Labelguard-failed-clusters']) {
      expect(byName.get(name)).toMatchObject({
        Namespace: 'Labelguard',
        Dimensions: [{ Name: 'service', Value: 'labelguard' }],
        Statistic: 'Sum',
        Threshold: 1,
        TreatMissingData: 'ignore',
      });
      expect(byName.get(name)?.OKActions).toHaveLength(1);
    }
    expect(byName.get('Labelguard-partial-clusters')?.MetricName).toBe('ClustersPartial');
    expect(byName.get('Labelguard-failed-clusters')?.MetricName).toBe('ClustersFailed');
    const topic = idOf(example, 'AWS::SNS::Topic');
    for (const alarm of alarms) expect(alarm.AlarmActions).toEqual([{ Ref: topic }]);
  });

  it('go to an encrypted topic with the configured e-mail subscribed', () => {
    example.template.hasResourceProperties('AWS::SNS::Topic', {
      KmsMasterKeyId: { 'Fn::GetAtt': [Match.anyValue(), 'Arn'] },
    });
    example.template.hasResourceProperties('AWS::KMS::Key', { EnableKeyRotation: true });
    example.template.hasResourceProperties('AWS::SNS::Subscription', {
      Protocol: 'email',
      Endpoint: 'platform-security@example.com',
    });
    fanOut.template.resourceCountIs('AWS::SNS::Subscription', 0);
  });
});
