/**
 * Fleets beyond one invocation: a Step Functions state machine that runs one scheduled scan as
 *   plan (the run id and its `clusters` entries) → a Distributed Map invoking the same function
 *   once per entry (an EKS cluster, or a discovered fleet), at most `maxConcurrency` at once →
 *   notify (deliver the run's digests) → fail the execution when every cluster failed.
 * Every step is the scanner function with a step event (lambda/lambda-events.ts). A cluster that
 * keeps failing does not stop the others (every item failure is tolerated); the notify step runs
 * whatever happened to them. Logged in full to its own log group, traced with X-Ray.
 */
import { Duration, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import { Construct } from 'constructs';
import { STEP_FIELD } from '../../lambda/lambda-events.js';
import { acknowledgeWildcardResources, arnWildcardFinding } from '../nag.js';

export interface ScanFanOutProps {
  readonly function: lambda.IFunction;
  /** Clusters scanned at once. */
  readonly maxConcurrency: number;
  readonly logRetention: logs.RetentionDays;
  /** How long one execution may take. Default 2 hours. */
  readonly timeout?: Duration;
}

export class ScanFanOut extends Construct {
  readonly stateMachine: sfn.StateMachine;
  readonly logGroup: logs.LogGroup;

  constructor(scope: Construct, id: string, props: ScanFanOutProps) {
    super(scope, id);

    const throttled = (task: tasks.LambdaInvoke): sfn.TaskStateBase =>
      task.addRetry({
        errors: ['Lambda.TooManyRequestsException'],
        interval: Duration.seconds(5),
        backoffRate: 2,
        maxAttempts: 8,
        jitterStrategy: sfn.JitterType.FULL,
      });

    const plan = throttled(
      new tasks.LambdaInvoke(this, 'Plan', {
        lambdaFunction: props.function,
        payload: sfn.TaskInput.fromObject({ [STEP_FIELD]: 'plan', time: sfn.JsonPath.stringAt('$.time') }),
        payloadResponseOnly: true,
        comment: 'The run id (the scheduled time) and the clusters to scan',
      }),
    );

    const scanCluster = throttled(
      new tasks.LambdaInvoke(this, 'ScanCluster', {
        lambdaFunction: props.function,
        payload: sfn.TaskInput.fromObject({
          [STEP_FIELD]: 'cluster',
          runId: sfn.JsonPath.stringAt('$.runId'),
          cluster: sfn.JsonPath.stringAt('$.cluster'),
        }),
        payloadResponseOnly: true,
        comment: 'Scan one entry of the run (a cluster, or a discovered fleet) and record it',
      }),
    ).addRetry({
      // The store failed, or another run holds the cluster: the run is idempotent, try again.
      errors: ['States.TaskFailed'],
      interval: Duration.seconds(10),
      backoffRate: 2,
      maxAttempts: 2,
    });

    const clusters = new sfn.DistributedMap(this, 'Clusters', {
      itemsPath: sfn.JsonPath.stringAt('$.clusters'),
      itemSelector: {
        runId: sfn.JsonPath.stringAt('$.runId'),
        cluster: sfn.JsonPath.stringAt('$$.Map.Item.Value'),
      },
      maxConcurrency: props.maxConcurrency,
      mapExecutionType: sfn.StateMachineType.STANDARD,
      toleratedFailurePercentage: 100,
      // One small answer per entry: how many clusters it scanned and how many failed.
      resultPath: '$.results',
      comment: 'One invocation per clusters entry',
    });
    clusters.itemProcessor(scanCluster);

    const notify = throttled(
      new tasks.LambdaInvoke(this, 'Notify', {
        lambdaFunction: props.function,
        payload: sfn.TaskInput.fromObject({
          [STEP_FIELD]: 'notify',
          runId: sfn.JsonPath.stringAt('$.runId'),
          clusters: sfn.JsonPath.listAt('$.clusters'),
          results: sfn.JsonPath.listAt('$.results'),
        }),
        payloadResponseOnly: true,
        comment: 'Deliver the run’s digests; count the clusters that failed',
      }),
    );

    const outcome = new sfn.Choice(this, 'EveryClusterFailed?')
      .when(
        sfn.Condition.and(
          sfn.Condition.numberGreaterThan('$.clusters', 0),
          sfn.Condition.numberEqualsJsonPath('$.failed', '$.clusters'),
        ),
        new sfn.Fail(this, 'EveryClusterFailed', {
          error: 'EveryClusterFailed',
          cause: 'No cluster of the run could be read or recorded; see the function logs.',
        }),
      )
      .otherwise(new sfn.Succeed(this, 'Done'));

    this.logGroup = new logs.LogGroup(this, 'Logs', { retention: props.logRetention });
    this.stateMachine = new sfn.StateMachine(this, 'StateMachine', {
      definitionBody: sfn.DefinitionBody.fromChainable(plan.next(clusters).next(notify).next(outcome)),
      timeout: props.timeout ?? Duration.hours(2),
      tracingEnabled: true,
      logs: { destination: this.logGroup, level: sfn.LogLevel.ALL, includeExecutionData: true },
      comment: 'labelguard: one scheduled scan, one invocation per cluster',
    });

    const rolePolicy = this.stateMachine.role.node.tryFindChild('DefaultPolicy');
    if (rolePolicy !== undefined) {
      Validations.of(rolePolicy).acknowledge(
        {
          id: arnWildcardFinding(this, props.function.functionArn),
          reason:
            'LambdaInvoke grants the function’s versions and aliases (`<arn>:*`): it is the one scanner function.',
        },
        {
          id: 'AwsSolutions-IAM5[Resource::*]',
          reason:
            'X-Ray (PutTraceSegments, PutTelemetryRecords, GetSampling*) and CloudWatch Logs delivery (logs:*LogDelivery*, DescribeResourcePolicies, DescribeLogGroups) support no resource-level permissions.',
        },
      );
    }
    const mapPolicy = this.stateMachine.node.tryFindChild('DistributedMapPolicy');
    if (mapPolicy instanceof iam.Policy) {
      acknowledgeWildcardResources(
        mapPolicy,
        ['states:DescribeExecution', 'states:StopExecution', 'states:RedriveExecution'],
        'A Distributed Map manages its own child executions, whose names are generated: it is granted them by this state machine’s execution ARN prefix.',
      );
    }
  }
}
