/**
 * When scans run: an EventBridge Scheduler schedule (a rate or a cron in a time zone) that invokes
 * the scanner, or starts the fan-out state machine, with an EventBridge-style scheduled event whose
 * `time` is the scheduled time (the run id, the same on every retry). What cannot be delivered
 * after the retry policy lands in an encrypted dead-letter queue, which the function's own failed
 * asynchronous invocations share.
 */
import { Duration, Stack, TimeZone, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import * as targets from 'aws-cdk-lib/aws-scheduler-targets';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { arnWildcardFinding } from '../nag.js';

export type ScanTarget =
  | { readonly kind: 'function'; readonly function: lambda.IFunction }
  | { readonly kind: 'state-machine'; readonly stateMachine: sfn.IStateMachine };

export interface ScanScheduleProps {
  /** `rate(...)` or `cron(...)`, as EventBridge Scheduler writes them. */
  readonly expression: string;
  /** The time zone of a cron expression (IANA name). */
  readonly timeZone: string;
  readonly target: ScanTarget;
  /** Delivery retries before an event goes to the dead-letter queue. */
  readonly retryAttempts: number;
  readonly maxEventAge: Duration;
}

export class ScanSchedule extends Construct {
  readonly schedule: scheduler.Schedule;
  readonly deadLetterQueue: sqs.Queue;
  /** The role the scheduler uses to start the target and to write to the dead-letter queue. */
  readonly role: iam.Role;

  constructor(scope: Construct, id: string, props: ScanScheduleProps) {
    super(scope, id);

    this.deadLetterQueue = new sqs.Queue(this, 'DeadLetterQueue', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    Validations.of(this.deadLetterQueue).acknowledge({
      id: 'AwsSolutions-SQS3',
      reason:
        'This queue is itself the dead-letter queue (of the schedule and of the function’s asynchronous invocations); nothing consumes it automatically.',
    });
    Validations.of(this.deadLetterQueue).acknowledge({
      id: 'Serverless-SQSRedrivePolicy',
      reason: 'This queue is the last stop for undeliverable scheduled runs: there is nowhere further to redrive to.',
    });

    const input = scheduler.ScheduleTargetInput.fromObject({
      version: '0',
      id: scheduler.ContextAttribute.executionId,
      'detail-type': 'Scheduled Event',
      source: 'labelguard.scheduler',
      time: scheduler.ContextAttribute.scheduledTime,
      resources: [scheduler.ContextAttribute.scheduleArn],
      detail: {},
    });
    // Its own role (not the stack-wide one the targets would share), confined to this account's schedules.
    this.role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('scheduler.amazonaws.com', {
        conditions: { StringEquals: { 'aws:SourceAccount': Stack.of(this).account } },
      }),
      description: 'labelguard: the scan schedule starts its target',
    });
    const targetProps: targets.ScheduleTargetBaseProps = {
      role: this.role,
      input,
      deadLetterQueue: this.deadLetterQueue,
      retryAttempts: props.retryAttempts,
      maxEventAge: props.maxEventAge,
    };
    const target =
      props.target.kind === 'function'
        ? new targets.LambdaInvoke(props.target.function, targetProps)
        : new targets.StepFunctionsStartExecution(props.target.stateMachine, targetProps);

    this.schedule = new scheduler.Schedule(this, 'Schedule', {
      schedule: scheduler.ScheduleExpression.expression(props.expression, TimeZone.of(props.timeZone)),
      target,
      description: `labelguard scan, ${props.expression} (${props.timeZone})`,
    });

    // The target granted itself on the role when the schedule bound it.
    const policy = this.role.node.tryFindChild('DefaultPolicy');
    if (props.target.kind === 'function' && policy !== undefined) {
      Validations.of(policy).acknowledge({
        id: arnWildcardFinding(this, props.target.function.functionArn),
        reason:
          'lambda grantInvoke also covers the function’s versions and aliases (`<arn>:*`): it is the one scanner function, invoked unqualified.',
      });
    }
  }
}
