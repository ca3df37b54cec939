/**
 * The alarms an operator acts on, to one encrypted SNS topic (with an optional e-mail
 * subscription). Two kinds:
 *   - events (errors, throttles, a run close to the timeout, a failed execution): ALARM when it
 *     happens, quiet afterwards;
 *   - states (clusters partial or failed in the latest run, letters in the dead-letter queue):
 *     ALARM while it holds and OK once it no longer does, so the topic also says when it is over.
 * docs/deploy.md (Operate) says what each one means and what to do.
 */
import { Duration, Stack, Validations } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { METRICS_NAMESPACE, SCAN_METRICS, SERVICE_NAME } from '../../lambda/scan-metrics.js';

export interface ScanAlarmsProps {
  readonly function: lambda.IFunction;
  /** The function's timeout: the duration alarm fires at `durationThreshold` of it. */
  readonly timeout: Duration;
  readonly deadLetterQueue: sqs.IQueue;
  /** The fan-out state machine, when there is one. */
  readonly stateMachine?: sfn.IStateMachine;
  /** Subscribed to the alarm topic (a confirmation e-mail is sent on deploy). */
  readonly email?: string;
  /** The share of the timeout a run may take before it alarms. Default 0.8. */
  readonly durationThreshold?: number;
}

export class ScanAlarms extends Construct {
  readonly topic: sns.Topic;
  readonly alarms: Readonly<Record<string, cloudwatch.Alarm>>;

  constructor(scope: Construct, id: string, props: ScanAlarmsProps) {
    super(scope, id);
    const stackName = Stack.of(this).stackName;

    // CloudWatch can only publish to an encrypted topic whose key lets it: an AWS managed key cannot.
    const key = new kms.Key(this, 'TopicKey', {
      description: 'labelguard: encrypts the alarm topic',
      enableKeyRotation: true,
    });
    key.grant(new iam.ServicePrincipal('cloudwatch.amazonaws.com'), 'kms:Decrypt', 'kms:GenerateDataKey');
    this.topic = new sns.Topic(this, 'Topic', {
      displayName: 'labelguard alarms',
      masterKey: key,
      enforceSSL: true,
    });
    if (props.email !== undefined) {
      const subscription = this.topic.addSubscription(new subscriptions.EmailSubscription(props.email));
      Validations.of(subscription).acknowledge({
        id: 'Serverless-SNSRedrivePolicy',
        reason:
          'An alarm e-mail that cannot be delivered has no reader in a queue either; the alarm state and history stay in CloudWatch.',
      });
    }

    const fiveMinutes = Duration.minutes(5);
    const scanMetric = (metricName: string): cloudwatch.Metric =>
      new cloudwatch.Metric({
        namespace: METRICS_NAMESPACE,
        metricName,
        dimensionsMap: { service: SERVICE_NAME },
        statistic: cloudwatch.Stats.SUM,
        period: fiveMinutes,
      });
    const threshold = props.durationThreshold ?? 0.8;

    const alarms: Record<string, cloudwatch.Alarm> = {};
    const add = (
      name: string,
      metric: cloudwatch.IMetric,
      options: { threshold: number; description: string; state: boolean },
    ): void => {
      const alarm = new cloudwatch.Alarm(this, name, {
        alarmName: `${stackName}-${kebab(name)}`,
        alarmDescription: options.description,
        metric,
        threshold: options.threshold,
        evaluationPeriods: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        // State alarms keep their state between runs (the metric is emitted by every run, zeros included).
        treatMissingData: options.state
          ? cloudwatch.TreatMissingData.IGNORE
          : cloudwatch.TreatMissingData.NOT_BREACHING,
      });
      alarm.addAlarmAction(new actions.SnsAction(this.topic));
      if (options.state) alarm.addOkAction(new actions.SnsAction(this.topic));
      alarms[name] = alarm;
    };

    add('Errors', props.function.metricErrors({ period: fiveMinutes, statistic: cloudwatch.Stats.SUM }), {
      threshold: 1,
      state: false,
      description:
        'The scanner threw: every cluster failed, the history store failed, or the config/secret could not be read. Lambda retries; then the event goes to the dead-letter queue.',
    });
    add('Throttles', props.function.metricThrottles({ period: fiveMinutes, statistic: cloudwatch.Stats.SUM }), {
      threshold: 1,
      state: false,
      description:
        'An invocation was throttled: a run started while the previous one was still going (reserved concurrency). Runs take longer than the schedule interval.',
    });
    add('Duration', props.function.metricDuration({ period: fiveMinutes, statistic: cloudwatch.Stats.MAXIMUM }), {
      threshold: Math.round(props.timeout.toMilliseconds() * threshold),
      state: false,
      description: `A run took more than ${Math.round(threshold * 100)}% of the function timeout (${props.timeout.toSeconds()} s): raise deploy.timeoutSeconds or fan out.`,
    });
    add(
      'DeadLetters',
      props.deadLetterQueue.metricApproximateNumberOfMessagesVisible({
        period: fiveMinutes,
        statistic: cloudwatch.Stats.MAXIMUM,
      }),
      {
        threshold: 1,
        state: true,
        description:
          'Scheduled runs could not be delivered or failed after every retry: they are in the dead-letter queue. Read, fix, replay (docs/deploy.md), then purge.',
      },
    );
    add('PartialClusters', scanMetric(SCAN_METRICS.clustersPartial), {
      threshold: 1,
      state: true,
      description:
        'The latest run read some clusters only partly (a policy kind forbidden or failing): findings needing the missing data are not claimed. See the run summary log line.',
    });
    add('FailedClusters', scanMetric(SCAN_METRICS.clustersFailed), {
      threshold: 1,
      state: true,
      description:
        'The latest run could not read some clusters at all (unreachable, access denied, not found): they are unknown, not empty. See the run summary log line.',
    });
    if (props.stateMachine) {
      add('FanOutFailed', props.stateMachine.metricFailed({ period: fiveMinutes, statistic: cloudwatch.Stats.SUM }), {
        threshold: 1,
        state: false,
        description:
          'A fan-out execution failed: every cluster failed, or a step failed after its retries. See the execution history.',
      });
    }
    this.alarms = alarms;
  }
}

function kebab(name: string): string {
  return name.replace(/([a-z])([A-Z])/g, '$1-$2').toLowerCase();
}
