/**
 * The CDK app: `npx cdk synth -c config=labelguard.config.yaml` (the default file). A config the
 * schema rejects, or one a deployment cannot use, stops synth with every problem and its path.
 */
import { pathToFileURL } from 'node:url';
import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks, ServerlessChecks } from 'cdk-nag';
import { ConfigError } from '../lambda/errors.js';
import { readDeployConfig } from './deploy-config.js';
import { LabelguardStack } from './labelguard-stack.js';

export const DEFAULT_CONFIG_FILE = 'labelguard.config.yaml';

export interface CreateAppOptions {
  /** Context values (as `-c key=value` gives them); `config` names the config file. */
  readonly context?: Record<string, unknown>;
  readonly outdir?: string;
  readonly env?: Readonly<Record<string, string | undefined>>;
}

/** The app with its one stack and the cdk-nag packs. Throws ConfigError for a bad config. */
export function createApp(options: CreateAppOptions = {}): { app: App; stack: LabelguardStack } {
  const app = new App({
    ...(options.context ? { context: options.context } : {}),
    ...(options.outdir ? { outdir: options.outdir } : {}),
  });
  const env = options.env ?? process.env;
  const file = String(app.node.tryGetContext('config') ?? DEFAULT_CONFIG_FILE);
  const region = env.CDK_DEFAULT_REGION;
  const { config, deploy } = readDeployConfig(file, region === undefined ? {} : { region });
  const stack = new LabelguardStack(app, deploy.stackName, {
    config,
    deploy,
    env: {
      ...((deploy.account ?? env.CDK_DEFAULT_ACCOUNT) ? { account: deploy.account ?? env.CDK_DEFAULT_ACCOUNT } : {}),
      ...((deploy.region ?? region) ? { region: deploy.region ?? region } : {}),
    },
    description: 'labelguard: scheduled audit of Kubernetes namespace labels against network policies',
  });
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app), new ServerlessChecks(app));
  return { app, stack };
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  try {
    createApp().app.synth();
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    process.stderr.write(`labelguard: the config cannot be deployed:\n${e.message}\n`);
    process.exit(1);
  }
}
