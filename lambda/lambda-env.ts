/**
 * What the deployment hands the Lambda: environment variable names and the bundled config file.
 * The stack (infra/) sets these; the handler reads them. Nothing here imports the config schema:
 * the config was validated by it at synth time and arrives as its output, so the function's bundle
 * carries neither zod nor a YAML parser.
 */
import { readFile } from 'node:fs/promises';
import type { Config } from './config.js';
import { ConfigError } from './errors.js';

export const LAMBDA_ENV = {
  /** The history store's DynamoDB table. */
  table: 'LABELGUARD_TABLE',
  /** The secret holding the Slack bot token (name or ARN; unset when nothing is sent to Slack). */
  slackSecretId: 'LABELGUARD_SLACK_SECRET_ID',
  /** Overrides where the config is read from (tests); the bundled file next to the handler by default. */
  configFile: 'LABELGUARD_CONFIG_FILE',
} as const;

/** The validated config, as JSON, written next to `index.mjs` when the function is bundled. */
export const BUNDLED_CONFIG_FILE = 'labelguard.config.json';

export interface LambdaSettings {
  readonly config: Config;
  readonly configFile: string;
  readonly tableName: string;
  readonly slackSecretId: string | null;
  readonly region: string;
}

/** The function's settings from its environment and bundled config. Throws ConfigError naming what is missing. */
export async function readLambdaSettings(
  env: Readonly<Record<string, string | undefined>>,
  defaultConfigFile: string,
): Promise<LambdaSettings> {
  const configFile = env[LAMBDA_ENV.configFile] || defaultConfigFile;
  let text: string;
  try {
    text = await readFile(configFile, 'utf8');
  } catch (e) {
    throw new ConfigError(configFile, [{ path: '', message: `cannot read the bundled config: ${errorCode(e)}` }], {
      cause: e,
    });
  }
  let config: Config;
  try {
    config = JSON.parse(text) as Config;
  } catch (e) {
    throw new ConfigError(configFile, [{ path: '', message: 'the bundled config is not JSON' }], { cause: e });
  }
  const tableName = env[LAMBDA_ENV.table];
  const region = env.AWS_REGION ?? env.AWS_DEFAULT_REGION;
  const missing = [...(tableName ? [] : [LAMBDA_ENV.table]), ...(region ? [] : ['AWS_REGION'])];
  if (missing.length > 0 || tableName === undefined || region === undefined) {
    throw new ConfigError(
      'environment',
      missing.map((name) => ({ path: name, message: 'not set (the stack sets it)' })),
    );
  }
  return { config, configFile, tableName, slackSecretId: env[LAMBDA_ENV.slackSecretId] || null, region };
}

function errorCode(e: unknown): string {
  const code = (e as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : String(e);
}
