/**
 * The one stack: it composes the constructs and wires them together; each construct owns its
 * resources and their defaults.
 *
 *   ScanSchedule ──► ScannerFunction ─────► ResultsTable (history)
 *        │  (or ──► ScanFanOut ──► ScannerFunction per cluster)
 *        ▼                   ├──► SlackSecret (bot token)
 *   dead-letter queue        └──► ClusterAccess (EKS, assumed roles, access entries)
 *                                                     ScanAlarms ──► SNS (e-mail)
 */
import { CfnOutput, Duration, Stack, type StackProps } from 'aws-cdk-lib';
import type * as logs from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import type { Config, DeployConfig } from '../lambda/config.js';
import { LAMBDA_ENV } from '../lambda/lambda-env.js';
import { hasDestination, notifySettingsOf } from '../lambda/notify/settings.js';
import { ClusterAccess } from './constructs/cluster-access.js';
import { ResultsTable } from './constructs/results-table.js';
import { ScanAlarms } from './constructs/scan-alarms.js';
import { ScanFanOut } from './constructs/scan-fan-out.js';
import { ScanSchedule } from './constructs/scan-schedule.js';
import { ScannerFunction } from './constructs/scanner-function.js';
import { ScannerNetwork } from './constructs/scanner-network.js';
import { SlackSecret } from './constructs/slack-secret.js';
import { discoveryTargetsOf, eksTargetsOf, usesFanOut } from './deploy-config.js';

export interface LabelguardStackProps extends StackProps {
  /** The validated config (it reaches the function as is). */
  readonly config: Config;
  readonly deploy: DeployConfig;
  /** Also write esbuild's metafile next to the bundle (the bundle benchmark). */
  readonly bundleMetafile?: boolean;
}

export class LabelguardStack extends Stack {
  readonly scanner: ScannerFunction;
  readonly results: ResultsTable;
  /** Absent when the config sends nothing to Slack. */
  readonly slack: SlackSecret | undefined;
  readonly clusterAccess: ClusterAccess;
  readonly schedule: ScanSchedule;
  readonly fanOut: ScanFanOut | undefined;
  readonly alarms: ScanAlarms;

  constructor(scope: Construct, id: string, props: LabelguardStackProps) {
    super(scope, id, props);
    const { config, deploy } = props;
    const clusters = eksTargetsOf(config, this.region);
    const fanOut = usesFanOut(deploy, config.clusters.length);
    const timeout = Duration.seconds(deploy.timeoutSeconds);
    const logRetention = deploy.logRetentionDays as logs.RetentionDays;

    this.results = new ResultsTable(this, 'Results', {
      ...(deploy.tableKmsKeyArn ? { kmsKeyArn: deploy.tableKmsKeyArn } : {}),
    });
    const tokenSecretId = config.notify.slack?.tokenSecretId;
    this.slack = hasDestination(notifySettingsOf(config.notify.slack))
      ? new SlackSecret(this, 'Slack', tokenSecretId === undefined ? {} : { secretId: tokenSecretId })
      : undefined;
    const network = deploy.vpc ? new ScannerNetwork(this, 'Network', deploy.vpc) : undefined;

    this.scanner = new ScannerFunction(this, 'Scanner', {
      config,
      memorySize: deploy.memoryMb,
      timeout,
      logRetention,
      reservedConcurrency: fanOut ? deploy.fanOutConcurrency : 1,
      environment: {
        [LAMBDA_ENV.table]: this.results.table.tableName,
        ...(this.slack ? { [LAMBDA_ENV.slackSecretId]: this.slack.secretId } : {}),
      },
      ...(network ? { network } : {}),
      ...(props.bundleMetafile ? { metafile: true } : {}),
    });
    this.results.grantStoreAccess(this.scanner.role);
    this.slack?.grantReadToken(this.scanner.role);
    this.clusterAccess = new ClusterAccess(this, 'ClusterAccess', {
      role: this.scanner.role,
      clusters,
      discovery: discoveryTargetsOf(config),
      accessEntries: deploy.accessEntries,
    });
    // The function is not invoked before it may reach its clusters.
    if (this.clusterAccess.policy) this.scanner.function.node.addDependency(this.clusterAccess.policy);

    this.fanOut = fanOut
      ? new ScanFanOut(this, 'FanOut', {
          function: this.scanner.function,
          maxConcurrency: deploy.fanOutConcurrency,
          logRetention,
        })
      : undefined;
    this.schedule = new ScanSchedule(this, 'Schedule', {
      expression: deploy.schedule.expression,
      timeZone: deploy.schedule.timeZone,
      retryAttempts: deploy.schedule.retryAttempts,
      maxEventAge: Duration.minutes(deploy.schedule.maxEventAgeMinutes),
      target: this.fanOut
        ? { kind: 'state-machine', stateMachine: this.fanOut.stateMachine }
        : { kind: 'function', function: this.scanner.function },
    });
    this.scanner.sendFailedInvocationsTo(this.schedule.deadLetterQueue);

    this.alarms = new ScanAlarms(this, 'Alarms', {
      function: this.scanner.function,
      timeout,
      deadLetterQueue: this.schedule.deadLetterQueue,
      ...(this.fanOut ? { stateMachine: this.fanOut.stateMachine } : {}),
      ...(deploy.alarms.email ? { email: deploy.alarms.email } : {}),
    });

    new CfnOutput(this, 'TableName', { value: this.results.table.tableName, description: 'The history table' });
    if (this.slack) {
      new CfnOutput(this, 'SlackSecretArn', {
        value: this.slack.secret.secretArn,
        description: this.slack.created ? 'Put the Slack bot token (xoxb-...) here' : 'The Slack bot token',
      });
    }
    new CfnOutput(this, 'FunctionName', { value: this.scanner.function.functionName, description: 'The scanner' });
    new CfnOutput(this, 'FunctionRoleArn', {
      value: this.scanner.role.roleArn,
      description: 'The principal of the EKS access entries and of cross-account role trust policies',
    });
    new CfnOutput(this, 'AlarmTopicArn', { value: this.alarms.topic.topicArn, description: 'Alarm notifications' });
    new CfnOutput(this, 'DeadLetterQueueUrl', { value: this.schedule.deadLetterQueue.queueUrl });
    if (this.fanOut) new CfnOutput(this, 'StateMachineArn', { value: this.fanOut.stateMachine.stateMachineArn });
  }
}
