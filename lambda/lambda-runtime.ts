/**
 * The Lambda's wiring, built once per container: the bundled config, the DynamoDB client with the
 * history store and the notification outbox on the stack's table, the Slack notifier with its
 * token from Secrets Manager (cached), and the function's own AWS credentials for EKS. Adapters
 * get their clients and settings here; nothing below reads the environment.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { fromEnv } from '@aws-sdk/credential-providers';
import type { AuditSettings } from './audit/index.js';
import { hashOf } from './adapters/dynamo/canonical.js';
import { createDynamoOutbox } from './adapters/dynamo/outbox.js';
import { createDynamoStore } from './adapters/dynamo/store.js';
import { memoizeCredentials } from './adapters/eks/credentials.js';
import { createEksSources } from './adapters/eks/live.js';
import { createSecretTokenSource } from './adapters/secrets/slack-token.js';
import { slackRenderer } from './adapters/slack/format.js';
import { createSlackClient, createSlackNotifier } from './adapters/slack/notifier.js';
import { auditSettingsOf } from './audit-settings.js';
import type { ClusterConfig, Config } from './config.js';
import { readLambdaSettings, type LambdaSettings } from './lambda-env.js';
import type { NotifyDeps } from './notify/deliver.js';
import type { Notifier, Outbox } from './notify/ports.js';
import { hasDestination, notifySettingsOf, type NotifySettings } from './notify/settings.js';
import { systemClock, type Clock, type ClusterSource, type Logger, type Store } from './ports.js';

/** The RoleSessionName of every role the scanner assumes (visible in CloudTrail and the cluster's audit log). */
export const SESSION_NAME = 'labelguard-lambda';
/** Each Slack request's timeout when the config sets none. */
const SLACK_TIMEOUT_MS = 10_000;

export interface LambdaRuntime {
  readonly settings: LambdaSettings;
  readonly config: Config;
  readonly clock: Clock;
  readonly store: Store;
  readonly outbox: Outbox;
  /** null when the config sends nothing to Slack. */
  readonly notifier: Notifier | null;
  readonly audit: Omit<AuditSettings, 'now'>;
  /** SHA-256 of the config, recorded with every run. */
  readonly configHash: string;
  /** The sources of some `clusters` entries (an EKS cluster, or the fleet an eks-discovery finds). */
  sources(entries: readonly ClusterConfig[]): Promise<ClusterSource[]>;
  /** What notification needs, delivering for at most `budgetMs`. */
  notifyDeps(budgetMs: number): NotifyDeps;
}

export interface LambdaRuntimeOptions {
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Where the bundled config is (next to the handler). */
  readonly configFile: string;
  readonly logger: Logger;
  readonly clock?: Clock;
}

export async function createLambdaRuntime(options: LambdaRuntimeOptions): Promise<LambdaRuntime> {
  const settings = await readLambdaSettings(options.env, options.configFile);
  const { config, region } = settings;
  const clock = options.clock ?? systemClock;
  const logger = options.logger;

  const dynamo = new DynamoDBClient({ region, maxAttempts: 5 });
  const retentionDays = config.store.retentionDays;
  const store = createDynamoStore({
    client: dynamo,
    tableName: settings.tableName,
    retentionDays,
    clock,
    // One container runs one invocation at a time: its log stream names it.
    holder: `lambda:${options.env.AWS_LAMBDA_LOG_STREAM_NAME ?? 'local'}`,
    logger,
  });
  const outbox = createDynamoOutbox({ client: dynamo, tableName: settings.tableName, retentionDays, clock });

  const slack = config.notify.slack;
  const baseNotify = notifySettingsOf(slack);
  const secretId = slack?.tokenSecretId ?? settings.slackSecretId;
  let notifier: Notifier | null = null;
  if (hasDestination(baseNotify)) {
    if (secretId === null) {
      logger.warn('notify.slack has a channel but the function has no token secret: nothing is posted', {});
    } else {
      notifier = createSlackNotifier({
        client: createSlackClient({
          timeoutMs: slack?.timeoutMs ?? SLACK_TIMEOUT_MS,
          logger,
          ...(slack?.apiUrl === undefined ? {} : { apiUrl: slack.apiUrl }),
        }),
        token: createSecretTokenSource({
          client: new SecretsManagerClient({ region, maxAttempts: 3 }),
          secretId,
          clock,
        }),
      });
    }
  }

  // The function's own credentials (the Lambda environment's), shared by every run of this container.
  const envCredentials = fromEnv();
  const awsCredentials = memoizeCredentials(() => envCredentials(), { clock });

  return {
    settings,
    config,
    clock,
    store,
    outbox,
    notifier,
    audit: lambdaAuditSettings(config),
    configHash: hashOf(config),
    sources: (entries) =>
      createEksSources({
        clusters: entries,
        region,
        awsCredentials,
        sessionName: SESSION_NAME,
        clock,
      }),
    notifyDeps(budgetMs: number): NotifyDeps {
      const notifySettings: NotifySettings = { ...baseNotify, delivery: { ...baseNotify.delivery, budgetMs } };
      return { outbox, notifier, render: slackRenderer, clock, logger, settings: notifySettings };
    },
  };
}

/** The audit settings of a config: the same mapping as the CLI's, without the config schema's parser. */
export const lambdaAuditSettings = auditSettingsOf;
