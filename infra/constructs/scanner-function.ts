/**
 * The scanner Lambda: `lambda/handler.ts` bundled locally by esbuild into one minified ESM file
 * with source maps, on Node.js 24 / arm64, with the validated config written next to it, its own
 * log group, a role that may write to that log group and nothing else until the stack grants more,
 * active tracing, and a reserved concurrency (1 without fan-out: runs never overlap).
 */
import { Duration, Validations } from 'aws-cdk-lib';
import type * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as destinations from 'aws-cdk-lib/aws-lambda-destinations';
import * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { fileURLToPath } from 'node:url';
import type { Config } from '../../lambda/config.js';
import { BUNDLED_CONFIG_FILE } from '../../lambda/lambda-env.js';
import { METRICS_NAMESPACE, SERVICE_NAME } from '../../lambda/scan-metrics.js';

const PROJECT_ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const HANDLER_ENTRY = fileURLToPath(new URL('../../lambda/handler.ts', import.meta.url));

/** Lets an ESM bundle `require()` the Node built-ins that CommonJS dependencies ask for. */
export const ESM_REQUIRE_BANNER =
  "import { createRequire } from 'module'; const require = createRequire(import.meta.url);";

/** Node.js 24; built by name on an aws-cdk-lib that predates the constant. */
const NODEJS_24: lambda.Runtime =
  (lambda.Runtime as { NODEJS_24_X?: lambda.Runtime }).NODEJS_24_X ??
  new lambda.Runtime('nodejs24.x', lambda.RuntimeFamily.NODEJS, { supportsInlineCode: true });

export interface ScannerNetworkAttachment {
  readonly vpc: ec2.IVpc;
  readonly subnets: ec2.SubnetSelection;
  readonly securityGroups: readonly ec2.ISecurityGroup[];
}

export interface ScannerFunctionProps {
  /** The validated config: bundled as JSON next to the handler (its only source at run time). */
  readonly config: Config;
  readonly memorySize: number;
  readonly timeout: Duration;
  readonly logRetention: logs.RetentionDays;
  /** Invocations at once: 1 without fan-out, so scheduled runs never overlap. */
  readonly reservedConcurrency: number;
  /** Added to the function's own variables (the table, the secret). */
  readonly environment?: Readonly<Record<string, string>>;
  readonly network?: ScannerNetworkAttachment;
  /** Also write esbuild's metafile next to the bundle (for the bundle benchmark). */
  readonly metafile?: boolean;
}

export class ScannerFunction extends Construct {
  readonly function: nodejs.NodejsFunction;
  readonly role: iam.Role;
  readonly logGroup: logs.LogGroup;

  constructor(scope: Construct, id: string, props: ScannerFunctionProps) {
    super(scope, id);

    this.logGroup = new logs.LogGroup(this, 'Logs', { retention: props.logRetention });

    this.role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: 'labelguard scanner: reads clusters, writes the history table, reads the Slack token',
    });
    // Instead of AWSLambdaBasicExecutionRole (logs:* on every log group): its own log group only.
    this.role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'OwnLogs',
        actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
        resources: [this.logGroup.logGroupArn],
      }),
    );

    const configJson = JSON.stringify(props.config);
    this.function = new nodejs.NodejsFunction(this, 'Function', {
      entry: HANDLER_ENTRY,
      handler: 'handler',
      projectRoot: PROJECT_ROOT,
      depsLockFilePath: `${PROJECT_ROOT}package-lock.json`,
      runtime: NODEJS_24,
      architecture: lambda.Architecture.ARM_64,
      memorySize: props.memorySize,
      timeout: props.timeout,
      reservedConcurrentExecutions: props.reservedConcurrency,
      role: this.role,
      logGroup: this.logGroup,
      loggingFormat: lambda.LoggingFormat.JSON,
      tracing: lambda.Tracing.ACTIVE,
      description: 'labelguard: scans Kubernetes namespace labels against network policies on a schedule',
      environment: {
        NODE_OPTIONS: '--enable-source-maps',
        POWERTOOLS_SERVICE_NAME: SERVICE_NAME,
        POWERTOOLS_METRICS_NAMESPACE: METRICS_NAMESPACE,
        POWERTOOLS_LOG_LEVEL: 'INFO',
        ...props.environment,
      },
      ...(props.network
        ? {
            vpc: props.network.vpc,
            vpcSubnets: props.network.subnets,
            securityGroups: [...props.network.securityGroups],
          }
        : {}),
      bundling: {
        format: nodejs.OutputFormat.ESM,
        mainFields: ['module', 'main'],
        minify: true,
        sourceMap: true,
        sourcesContent: false,
        banner: ESM_REQUIRE_BANNER,
        // The SDK is bundled (tree-shaken) rather than taken from the runtime: what runs is what was tested.
        bundleAwsSDK: true,
        metafile: props.metafile ?? false,
        logLevel: nodejs.LogLevel.ERROR,
        commandHooks: {
          beforeBundling: () => [],
          beforeInstall: () => [],
          afterBundling: (_inputDir, outputDir) => [
            writeFileCommand(`${outputDir}/${BUNDLED_CONFIG_FILE}`, configJson),
          ],
        },
      },
    });

    if (props.network) {
      // What Lambda needs to manage the function's network interfaces (AWSLambdaVPCAccessExecutionRole's actions).
      this.role.addToPrincipalPolicy(
        new iam.PolicyStatement({
          sid: 'VpcNetworkInterfaces',
          actions: [
            'ec2:CreateNetworkInterface',
            'ec2:DescribeNetworkInterfaces',
            'ec2:DescribeSubnets',
            'ec2:DeleteNetworkInterface',
            'ec2:AssignPrivateIpAddresses',
            'ec2:UnassignPrivateIpAddresses',
          ],
          resources: ['*'],
        }),
      );
    }

    const policy = this.role.node.tryFindChild('DefaultPolicy');
    if (policy) {
      Validations.of(policy).acknowledge({
        id: 'AwsSolutions-IAM5[Resource::*]',
        reason: props.network
          ? 'xray:PutTraceSegments/PutTelemetryRecords (active tracing) and the ec2 network-interface actions of a VPC function support no resource-level permissions.'
          : 'xray:PutTraceSegments/PutTelemetryRecords (active tracing) support no resource-level permissions.',
      });
    }
  }

  /** Sends invocations that failed after Lambda's retries (asynchronous invocations) to `queue`. */
  sendFailedInvocationsTo(queue: sqs.IQueue, retryAttempts = 2): void {
    this.function.configureAsyncInvoke({
      onFailure: new destinations.SqsDestination(queue),
      retryAttempts,
      maxEventAge: Duration.hours(6),
    });
    Validations.of(this.function).acknowledge({
      id: 'Serverless-LambdaDLQ',
      reason:
        'Failed asynchronous invocations go to an on-failure destination (the schedule’s encrypted dead-letter queue), which also records the error; a legacy DeadLetterConfig would duplicate it.',
    });
  }
}

/** A shell command writing `text` to `file`, whatever characters either holds (base64 through node). */
function writeFileCommand(file: string, text: string): string {
  const script = "require('node:fs').writeFileSync(process.argv[1], Buffer.from(process.argv[2], 'base64'))";
  return `node -e "${script}" ${shellQuote(file)} ${Buffer.from(text, 'utf8').toString('base64')}`;
}

function shellQuote(text: string): string {
  return `'${text.replace(/'/g, `'\\''`)}'`;
}
