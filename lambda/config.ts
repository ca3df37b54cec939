/**
 * The one schema for `labelguard.config.yaml`. `parseConfig` is pure and reports every problem
 * with its path; `loadConfig` parses the YAML text and throws a `ConfigError` listing them all.
 * The same schema exports a JSON Schema for editor completion (`configJsonSchema()`).
 */
import { LineCounter, parseDocument } from 'yaml';
import { z } from 'zod';
import { NAME_TEMPLATE, SEVERITIES, validateLabelKey, validateLabelValue } from './audit/index.js';
import type { RuleId } from './audit/index.js';
import { ConfigError } from './errors.js';
import type { ConfigIssue } from './errors.js';

/** Rule ids a config may name (in `waivers` and `severities`): every rule but the internal `rule-error`. */
export const CONFIGURABLE_RULE_IDS = [
  'label-missing',
  'label-invalid',
  'namespace-unprotected',
  'peer-selects-nothing',
  'near-miss',
  'selector-invalid',
  'enforcement-missing',
  'waiver-expired',
] as const satisfies readonly RuleId[];

export type ConfigurableRuleId = (typeof CONFIGURABLE_RULE_IDS)[number];

// A compile-time check that the list above names every rule but `rule-error`.
const _everyRuleListed: Exclude<RuleId, 'rule-error'> extends ConfigurableRuleId ? true : never = true;

const DNS1123_LABEL_RE = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const NAMESPACE_GLOB_RE = /^[a-z0-9*?-]+$/;

const ISO_DATE_RE = /^(\d{4})-(\d{2})-(\d{2})$/;
const ISO_DATE_TIME_RE = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?(?:Z|[+-](\d{2}):(\d{2}))$/;

/** True for a real calendar date `YYYY-MM-DD` or a date-time with seconds optional and a zone (`Z` or `±hh:mm`). */
export function isIsoDateOrDateTime(text: string): boolean {
  const m = ISO_DATE_RE.exec(text) ?? ISO_DATE_TIME_RE.exec(text);
  if (!m) return false;
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const day = new Date(Date.UTC(y, mo - 1, d));
  if (day.getUTCFullYear() !== y || day.getUTCMonth() !== mo - 1 || day.getUTCDate() !== d) return false;
  const [h = 0, mi = 0, s = 0, oh = 0, om = 0] = [m[4], m[5], m[6], m[7], m[8]].map((x) => Number(x ?? 0));
  return h < 24 && mi < 60 && s < 60 && oh < 24 && om < 60;
}

// ---------------------------------------------------------------------------------------------
// The schema

const severitySchema = z.enum(SEVERITIES);
const ruleIdSchema = z.enum(CONFIGURABLE_RULE_IDS);

const labelKeySchema = z.string().superRefine((key, ctx) => {
  const problem = validateLabelKey(key);
  if (problem !== null) ctx.addIssue({ code: 'custom', message: problem });
});

/** A label value, or one with `{{name}}` in it (checked with the shortest name put in its place). */
const labelValueSchema = z.string().superRefine((value, ctx) => {
  const filled = value.split(NAME_TEMPLATE).join('x');
  if (filled.includes('{{') || filled.includes('}}')) {
    ctx.addIssue({ code: 'custom', message: `the only template is "${NAME_TEMPLATE}"` });
    return;
  }
  const problem = validateLabelValue(filled);
  if (problem !== null) {
    ctx.addIssue({
      code: 'custom',
      message: filled === value ? problem : `with ${NAME_TEMPLATE} filled in, ${problem}`,
    });
  }
});

const namespaceGlobSchema = z
  .string()
  .regex(
    NAMESPACE_GLOB_RE,
    'expected a namespace name or glob: lowercase letters, digits, "-", and the wildcards * and ?',
  );

const requiredLabelSchema = z
  .strictObject({
    key: labelKeySchema,
    value: labelValueSchema
      .optional()
      .describe(`The exact value required; "${NAME_TEMPLATE}" stands for the namespace's own name.`),
    allowed: z
      .array(labelValueSchema)
      .min(1, 'expected at least one allowed value')
      .optional()
      .describe('The values accepted.'),
    pattern: z
      .string()
      .superRefine((source, ctx) => {
        try {
          new RegExp(source, 'u'); // as the audit compiles it, anchored: ^(?:pattern)$
        } catch (e) {
          ctx.addIssue({ code: 'custom', message: e instanceof Error ? e.message : 'invalid regular expression' });
        }
      })
      .optional()
      .describe('A JavaScript regular expression (Unicode mode) the whole value must match.'),
    severity: severitySchema.optional().describe('Overrides the severity of findings about this label.'),
  })
  .superRefine((label, ctx) => {
    const given = (['value', 'allowed', 'pattern'] as const).filter((k) => label[k] !== undefined);
    if (given.length > 1) {
      ctx.addIssue({
        code: 'custom',
        path: [given[1] ?? 'value'],
        message: `give at most one of value, allowed and pattern (found ${given.join(' and ')})`,
      });
    }
  });

const waiverSchema = z.strictObject({
  rule: ruleIdSchema,
  cluster: z.string().min(1).optional().describe('A cluster name or glob (* and ?); every cluster when absent.'),
  namespace: namespaceGlobSchema.describe('A namespace name or glob (* and ?).'),
  reason: z.string().min(1, 'expected a reason'),
  owner: z.string().min(1, 'expected an owner'),
  expires: z
    .string()
    .refine(isIsoDateOrDateTime, 'expected an ISO date (2026-01-31) or date-time with zone (2026-01-31T12:00:00Z)'),
  ticket: z.string().min(1).optional(),
});

const severityOverridesSchema = z.strictObject(
  Object.fromEntries(CONFIGURABLE_RULE_IDS.map((id) => [id, severitySchema.optional()])) as Record<
    ConfigurableRuleId,
    z.ZodOptional<typeof severitySchema>
  >,
);

const enginesSchema = z.strictObject({
  cilium: z
    .strictObject({
      namespaceLabels: z
        .enum(['cross-namespace', 'policy-namespace'])
        .default('cross-namespace')
        .describe(
          'How Cilium agents treat io.cilium.k8s.namespace.labels.* peer keys: cross-namespace (cilium/cilium#30650 and later) or policy-namespace (older agents).',
        ),
    })
    .prefault({}),
  istio: z
    .strictObject({
      rootNamespace: z
        .string()
        .regex(DNS1123_LABEL_RE, 'expected a namespace name')
        .max(63)
        .default('istio-system')
        .describe('meshConfig.rootNamespace: AuthorizationPolicies there apply mesh-wide.'),
    })
    .prefault({}),
  kubernetes: z
    .strictObject({
      synthesizeNameLabel: z
        .boolean()
        .default(true)
        .describe('Treat kubernetes.io/metadata.name as set on every namespace, as the API server does (1.21+).'),
    })
    .prefault({}),
});

const CLUSTER_FIELDS_BY_KIND = {
  kubeconfig: ['context', 'kubeconfig'],
  eks: ['region', 'roleArn', 'externalId'],
  manifests: ['paths'],
  'eks-discovery': ['accounts', 'tags'],
} as const;

const regionSchema = z.string().regex(/^[a-z0-9-]+$/, 'expected an AWS region such as eu-west-1');
const roleArnSchema = z.string().regex(/^arn:aws[a-z-]*:iam::\d{12}:role\/[\w+=,.@/-]+$/, 'expected an IAM role ARN');
const externalIdSchema = z.string().min(2).max(1224);

const eksAccountSchema = z
  .strictObject({
    roleArn: roleArnSchema
      .optional()
      .describe('The role to assume in that account (your own credentials when absent).'),
    externalId: externalIdSchema.optional().describe('The external id the role trust policy requires.'),
    regions: z.array(regionSchema).min(1, 'expected at least one region').describe('Regions to list clusters in.'),
  })
  .superRefine((account, ctx) => {
    if (account.externalId !== undefined && account.roleArn === undefined) {
      ctx.addIssue({ code: 'custom', path: ['externalId'], message: 'needs roleArn' });
    }
  });

const clusterSchema = z
  .strictObject({
    name: z
      .string()
      .min(1, 'expected a cluster name')
      .describe(
        'The name in reports; for eks, the EKS cluster name; for eks-discovery, the name failures are reported under.',
      ),
    kind: z.enum(['kubeconfig', 'eks', 'manifests', 'eks-discovery']),
    context: z.string().min(1).optional().describe('kubeconfig: the context to use (the current one when absent).'),
    kubeconfig: z
      .string()
      .min(1)
      .optional()
      .describe('kubeconfig: the kubeconfig file (default: KUBECONFIG, else ~/.kube/config).'),
    region: regionSchema.optional().describe('eks: the cluster region (default: AWS_REGION).'),
    roleArn: roleArnSchema.optional().describe('eks: a role to assume before calling the cluster.'),
    externalId: externalIdSchema.optional().describe('eks: the external id the role trust policy requires.'),
    paths: z.array(z.string().min(1)).min(1, 'expected at least one path').optional(),
    accounts: z
      .array(eksAccountSchema)
      .min(1, 'expected at least one account')
      .optional()
      .describe('eks-discovery: accounts (a role each, or your own) and the regions to list clusters in.'),
    tags: z
      .record(z.string().min(1), z.string())
      .optional()
      .describe('eks-discovery: scan only clusters with every one of these tags ("*" matches any value).'),
  })
  .superRefine((cluster, ctx) => {
    const own: readonly string[] = CLUSTER_FIELDS_BY_KIND[cluster.kind];
    for (const fields of Object.values(CLUSTER_FIELDS_BY_KIND)) {
      for (const field of fields) {
        if (!own.includes(field) && cluster[field] !== undefined) {
          ctx.addIssue({ code: 'custom', path: [field], message: `not used by clusters of kind ${cluster.kind}` });
        }
      }
    }
    if (cluster.kind === 'manifests' && cluster.paths === undefined) {
      ctx.addIssue({ code: 'custom', path: ['paths'], message: 'required for clusters of kind manifests' });
    }
    if (cluster.kind === 'eks-discovery' && cluster.accounts === undefined) {
      ctx.addIssue({ code: 'custom', path: ['accounts'], message: 'required for clusters of kind eks-discovery' });
    }
    if (cluster.externalId !== undefined && cluster.roleArn === undefined) {
      ctx.addIssue({ code: 'custom', path: ['externalId'], message: 'needs roleArn' });
    }
  });

const storeSchema = z.strictObject({
  dir: z
    .string()
    .min(1)
    .optional()
    .describe('The embedded store: a directory for its data (default .labelguard/data). One process at a time.'),
  table: z
    .string()
    .regex(/^[A-Za-z0-9_.-]{3,255}$/, 'expected a DynamoDB table name')
    .optional()
    .describe('A DynamoDB table to keep the history in instead of the embedded store.'),
  region: z
    .string()
    .regex(/^[a-z0-9-]+$/, 'expected an AWS region such as eu-west-1')
    .optional()
    .describe("The table's AWS region."),
  lockWaitSeconds: z
    .number()
    .min(0, 'expected zero or more seconds')
    .max(3600, 'expected at most 3600 seconds')
    .optional()
    .describe(
      'How long a command waits for another labelguard process using the embedded store before "store in use" (default 10).',
    ),
  retentionDays: z
    .number()
    .int('expected a whole number of days')
    .positive('expected a positive number of days')
    .default(400)
    .describe('Days scan history is kept.'),
});

/** A Slack channel ID (`C0123ABCD`, `G…` for old private channels) or a channel name, with or without `#`. */
const SLACK_CHANNEL_RE = /^(#?[a-z0-9][a-z0-9._-]{0,79}|[CGD][A-Z0-9]{6,})$/;
/** A user group (`<!subteam^S0123ABC>`), a user (`<@U0123ABC>`) or `<!here>` / `<!channel>`. */
const SLACK_MENTION_RE = /^<(!subteam\^[A-Z0-9]+|@[UW][A-Z0-9]+|!here|!channel)(\|[^<>|]*)?>$/;

/** A rule glob (`*`, `?`) as a regular expression, as the audit core's globMatch reads it. */
const ruleGlob = (glob: string): RegExp =>
  new RegExp(
    `^${[...glob].map((c) => (c === '*' ? '.*' : c === '?' ? '.' : c.replace(/[.+^${}()|[\]\\/]/g, '\\$&'))).join('')}$`,
    's',
  );

const slackChannelSchema = z
  .string()
  .min(1)
  // (an empty string is already reported as too small)
  .refine((v) => v === '' || SLACK_CHANNEL_RE.test(v), 'expected a channel ID (C0123ABCD) or name (#security)');

const slackRouteSchema = z.strictObject({
  match: z
    .strictObject({
      cluster: z.string().min(1).optional().describe('A cluster name or glob (* and ?).'),
      namespace: namespaceGlobSchema
        .optional()
        .describe('A namespace name or glob; never matches cluster-wide changes.'),
      rule: z
        .string()
        .min(1)
        .refine(
          (glob) => [...CONFIGURABLE_RULE_IDS, 'rule-error'].some((id) => ruleGlob(glob).test(id)),
          'matches no rule id (see `labelguard rules`)',
        )
        .optional()
        .describe('A rule id or glob: matches changes with a finding of such a rule.'),
      minSeverity: severitySchema.optional().describe('Matches changes of this severity or above.'),
    })
    .prefault({})
    .describe('Every condition given must hold; an empty match takes every change.'),
  channel: slackChannelSchema,
  mention: z
    .string()
    .refine(
      (v) => v.split(' ').every((m) => SLACK_MENTION_RE.test(m)),
      'expected Slack mentions such as <!subteam^S0123ABC>, <@U0123ABC> or <!here>, separated by spaces',
    )
    .optional(),
});

const notifySchema = z.strictObject({
  slack: z
    .strictObject({
      channel: slackChannelSchema.optional().describe('The default channel: changes no route matches go here.'),
      apiUrl: z
        .url({ protocol: /^https?$/, error: 'expected an http or https URL' })
        .optional()
        .describe('The Slack Web API base URL (for tests and proxies).'),
      tokenSecretId: z
        .string()
        .min(1)
        .optional()
        .describe('Lambda: the Secrets Manager secret (name or ARN) holding the bot token.'),
      routes: z
        .array(slackRouteSchema)
        .optional()
        .describe('Tried in order; the first match wins; changes no route matches go to the default channel.'),
      announceFirstRun: z
        .boolean()
        .optional()
        .describe("Announce the findings a cluster's first recorded run opens (default true)."),
      timeoutMs: z.number().int().min(100).max(60_000).optional().describe('Each Slack request (default 10000).'),
      retries: z
        .number()
        .int()
        .min(0)
        .max(5)
        .optional()
        .describe('Retries after a 5xx, network error or timeout, within one run (default 2).'),
      pacingMs: z
        .number()
        .int()
        .min(0)
        .max(60_000)
        .optional()
        .describe(
          'The least time between two messages to one channel (default 1000: Slack allows about one a second).',
        ),
      maxRetryAfterMs: z
        .number()
        .int()
        .min(0)
        .max(900_000)
        .optional()
        .describe(
          'The longest rate-limit wait a run sits out; longer ones leave messages for the next run (default 30000).',
        ),
    })
    .optional(),
});

// ---------------------------------------------------------------------------------------------
// The deployment (read by `cdk synth` only; the CLI ignores it)

/** The retention periods CloudWatch Logs accepts, in days. */
export const LOG_RETENTION_DAYS = [
  1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
] as const;

const RATE_RE = /^rate\((\d+) (minute|minutes|hour|hours|day|days)\)$/;
const CRON_RE = /^cron\((\S+) (\S+) (\S+) (\S+) (\S+) (\S+)\)$/;

/**
 * Why an EventBridge Scheduler expression is not a recurring `rate(...)` or `cron(...)` one, or
 * null. Checks what Scheduler rejects at deploy time: the unit's number, six cron fields, and
 * exactly one of day-of-month and day-of-week being `?`.
 */
export function scheduleExpressionProblem(expression: string): string | null {
  const rate = RATE_RE.exec(expression);
  if (rate) {
    const value = Number(rate[1]);
    const unit = rate[2] ?? '';
    if (value < 1) return 'a rate must be at least 1';
    if ((value === 1) !== !unit.endsWith('s')) {
      return `write rate(1 ${unit.replace(/s$/, '')}) for one, and plural units for more`;
    }
    return null;
  }
  const cron = CRON_RE.exec(expression);
  if (cron) {
    const [dayOfMonth, dayOfWeek] = [cron[3], cron[5]];
    if ((dayOfMonth === '?') === (dayOfWeek === '?')) {
      return 'in a cron expression exactly one of day-of-month and day-of-week must be "?"';
    }
    return null;
  }
  return 'expected rate(N minutes|hours|days) or cron(minutes hours day-of-month month day-of-week year)';
}

/** True for a time zone the platform knows (IANA names such as Europe/Berlin, and UTC). */
export function isTimeZone(name: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: name });
    return true;
  } catch {
    return false;
  }
}

const deployScheduleSchema = z.strictObject({
  expression: z
    .string()
    .superRefine((expression, ctx) => {
      const problem = scheduleExpressionProblem(expression);
      if (problem !== null) ctx.addIssue({ code: 'custom', message: problem });
    })
    .default('rate(1 hour)')
    .describe('When scans run: an EventBridge Scheduler rate(...) or cron(...) expression.'),
  timeZone: z
    .string()
    .refine(isTimeZone, 'expected an IANA time zone such as Europe/Berlin')
    .default('UTC')
    .describe('The time zone of a cron expression.'),
  retryAttempts: z
    .number()
    .int('expected a whole number')
    .min(0, 'expected 0 to 185')
    .max(185, 'expected 0 to 185')
    .default(2)
    .describe('How often the scheduler retries an invocation it could not deliver.'),
  maxEventAgeMinutes: z
    .number()
    .int('expected a whole number of minutes')
    .min(1, 'expected 1 to 1440 minutes')
    .max(1440, 'expected 1 to 1440 minutes')
    .default(60)
    .describe('How long the scheduler keeps trying to deliver one scheduled run.'),
});

const deployVpcSchema = z.strictObject({
  vpcId: z
    .string()
    .regex(/^vpc-[0-9a-f]{8,17}$/, 'expected a VPC id such as vpc-0123456789abcdef0')
    .describe('The VPC of the subnets.'),
  subnetIds: z
    .array(z.string().regex(/^subnet-[0-9a-f]{8,17}$/, 'expected a subnet id such as subnet-0123456789abcdef0'))
    .min(1, 'expected at least one subnet')
    .describe('Private subnets with a route to the clusters’ endpoints, to STS and EKS, and to Slack.'),
  securityGroupIds: z
    .array(z.string().regex(/^sg-[0-9a-f]{8,17}$/, 'expected a security group id such as sg-0123456789abcdef0'))
    .min(1, 'expected at least one security group')
    .optional()
    .describe('Security groups of the function; a new one allowing HTTPS out when absent.'),
});

const deploySchema = z.strictObject({
  stackName: z
    .string()
    .regex(/^[A-Za-z][A-Za-z0-9-]{0,127}$/, 'expected a CloudFormation stack name')
    .default('Labelguard')
    .describe('The CloudFormation stack (also the prefix of the alarm names).'),
  account: z
    .string()
    .regex(/^\d{12}$/, 'expected a 12-digit AWS account id')
    .optional()
    .describe('The account to deploy to (default: the AWS CLI’s).'),
  region: z
    .string()
    .regex(/^[a-z0-9-]+$/, 'expected an AWS region such as eu-west-1')
    .optional()
    .describe('The region to deploy to (default: the AWS CLI’s).'),
  schedule: deployScheduleSchema.prefault({}).describe('When scans run, and how their delivery is retried.'),
  memoryMb: z
    .number()
    .int('expected a whole number of MB')
    .min(128, 'expected 128 to 10240 MB')
    .max(10240, 'expected 128 to 10240 MB')
    .default(1024)
    .describe('The function memory (CPU grows with it).'),
  timeoutSeconds: z
    .number()
    .int('expected a whole number of seconds')
    .min(10, 'expected 10 to 900 seconds (the Lambda limit)')
    .max(900, 'expected 10 to 900 seconds (the Lambda limit)')
    .default(300)
    .describe('The function timeout: one scheduled run of every cluster (or one cluster, with fan-out).'),
  logRetentionDays: z
    .literal(LOG_RETENTION_DAYS)
    .default(90)
    .describe('Days the function and state machine logs are kept.'),
  fanOut: z
    .enum(['auto', 'none', 'stepfunctions'])
    .default('auto')
    .describe(
      'none: one invocation scans every cluster; stepfunctions: a Distributed Map invokes the function once per clusters entry; auto: stepfunctions above fanOutAbove entries.',
    ),
  fanOutAbove: z
    .number()
    .int('expected a whole number')
    .positive('expected a positive number')
    .default(20)
    .describe('With fanOut auto: the number of clusters entries above which the scan fans out.'),
  fanOutConcurrency: z
    .number()
    .int('expected a whole number')
    .min(1, 'expected 1 to 1000')
    .max(1000, 'expected 1 to 1000')
    .default(10)
    .describe('Entries the Distributed Map scans at once (also the function’s reserved concurrency with fan-out).'),
  vpc: deployVpcSchema.optional().describe('Attach the function to a VPC (clusters with private endpoints).'),
  alarms: z
    .strictObject({
      email: z.email('expected an e-mail address').optional().describe('Subscribed to the alarm topic.'),
    })
    .prefault({})
    .describe('Where alarms are sent (an SNS topic always; an e-mail address optionally).'),
  tableKmsKeyArn: z
    .string()
    .regex(/^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:key\/[A-Za-z0-9-]+$/, 'expected a KMS key ARN')
    .optional()
    .describe('A customer managed key for the results table (default: a DynamoDB owned key).'),
  accessEntries: z
    .array(z.string().min(1))
    .default(() => [])
    .describe(
      'EKS clusters (by name, kind eks, no roleArn, in the stack’s region) that get an access entry for the function’s role in group labelguard-readers.',
    ),
});

export type DeployConfig = z.output<typeof deploySchema>;

/** The deployment settings an absent `deploy` section stands for. */
export function defaultDeployConfig(): DeployConfig {
  return deploySchema.parse({});
}

/** `deploy.accessEntries` may only name EKS clusters the function reaches with its own role. */
function checkAccessEntries(
  ctx: z.RefinementCtx,
  names: readonly string[],
  clusters: readonly z.output<typeof clusterSchema>[],
): void {
  names.forEach((name, i) => {
    const cluster = clusters.find((c) => c.name === name);
    const problem =
      cluster === undefined
        ? 'names no cluster in clusters'
        : cluster.kind !== 'eks'
          ? `names a cluster of kind ${cluster.kind}: access entries are for EKS clusters`
          : cluster.roleArn !== undefined
            ? 'names a cluster reached through roleArn: create the access entry for that role in its own account'
            : null;
    if (problem !== null) ctx.addIssue({ code: 'custom', path: ['deploy', 'accessEntries', i], message: problem });
  });
}

/** The schema of `labelguard.config.yaml`. Every object is strict: unknown keys are errors. */
export const configSchema = z
  .strictObject({
    requiredLabels: z
      .array(requiredLabelSchema)
      .default(() => [{ key: 'ns', value: NAME_TEMPLATE }])
      .describe('Labels every namespace must carry.'),
    exclude: z
      .array(namespaceGlobSchema)
      .default(() => ['kube-*'])
      .describe('Namespaces (names or globs with * and ?) the audit skips.'),
    waivers: z.array(waiverSchema).default(() => []),
    severities: severityOverridesSchema.prefault({}).describe('Severity overrides by rule id.'),
    engines: enginesSchema.prefault({}),
    failOn: severitySchema.default('high').describe('The lowest severity that makes a scan fail.'),
    clusters: z.array(clusterSchema).default(() => []),
    store: storeSchema.prefault({}),
    notify: notifySchema.prefault({}),
    deploy: deploySchema.optional().describe('The AWS deployment (cdk synth/deploy); the CLI ignores it.'),
  })
  .superRefine((config, ctx) => {
    reportDuplicates(ctx, 'requiredLabels', 'key', config.requiredLabels);
    reportDuplicates(ctx, 'clusters', 'name', config.clusters);
    if (config.deploy) checkAccessEntries(ctx, config.deploy.accessEntries, config.clusters);
  });

function reportDuplicates<K extends string>(
  ctx: z.RefinementCtx,
  list: string,
  field: K,
  items: readonly Readonly<Record<K, string>>[],
): void {
  const first = new Map<string, number>();
  items.forEach((item, i) => {
    const seen = first.get(item[field]);
    if (seen === undefined) first.set(item[field], i);
    else ctx.addIssue({ code: 'custom', path: [list, i, field], message: `duplicate of ${list}[${seen}].${field}` });
  });
}

export type Config = z.output<typeof configSchema>;
/** The config as written, before defaults (what a YAML file or a CDK prop holds). */
export type ConfigInput = z.input<typeof configSchema>;
export type RequiredLabel = Config['requiredLabels'][number];
export type Waiver = Config['waivers'][number];
export type ClusterConfig = Config['clusters'][number];
export type EnginesConfig = Config['engines'];
export type StoreConfig = Config['store'];
export type NotifyConfig = Config['notify'];

export type ParseConfigResult = { ok: true; config: Config } | { ok: false; issues: ConfigIssue[] };

// ---------------------------------------------------------------------------------------------
// Parse and load

/** Validates an already-parsed document. Pure. An empty document (null/undefined) means all defaults. */
export function parseConfig(raw: unknown): ParseConfigResult {
  const result = configSchema.safeParse(raw ?? {}, { error: messageFor });
  if (result.success) return { ok: true, config: result.data };
  return { ok: false, issues: result.error.issues.flatMap(toConfigIssues) };
}

/** Parses YAML text and validates it; throws `ConfigError` naming `file` (and the line, for YAML syntax errors). */
export function loadConfig(text: string, file: string): Config {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false });
  if (doc.errors.length > 0) {
    throw new ConfigError(
      file,
      doc.errors.map((e) => {
        const { line, col } = lineCounter.linePos(e.pos[0]);
        return { path: '', line, message: `invalid YAML (column ${col}): ${e.message}` };
      }),
    );
  }
  let raw: unknown;
  try {
    raw = doc.toJS();
  } catch (e) {
    throw new ConfigError(
      file,
      [{ path: '', message: `invalid YAML: ${e instanceof Error ? e.message : String(e)}` }],
      {
        cause: e,
      },
    );
  }
  const result = parseConfig(raw);
  if (!result.ok) throw new ConfigError(file, result.issues);
  return result.config;
}

/** A JSON Schema (draft 2020-12) of the config as written, for editor completion. */
export function configJsonSchema(): Record<string, unknown> {
  return {
    ...z.toJSONSchema(configSchema, { io: 'input' }),
    title: 'labelguard configuration',
  };
}

/** The configuration an empty file yields. */
export const DEFAULT_CONFIG: Readonly<Config> = deepFreeze(configSchema.parse({}));

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null) {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}

// ---------------------------------------------------------------------------------------------
// Messages

/** Per-parse messages: shorter than zod's defaults and phrased for people editing YAML. */
function messageFor(issue: z.core.$ZodRawIssue): string | undefined {
  if (issue.code === 'invalid_type') {
    if (issue.input === undefined) return `required (expected ${issue.expected})`;
    return `expected ${issue.expected}, received ${describeValue(issue.input)}`;
  }
  if (issue.code === 'invalid_value') {
    return `expected one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}, received ${JSON.stringify(issue.input) ?? describeValue(issue.input)}`;
  }
  return undefined;
}

function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  return typeof value;
}

function toConfigIssues(issue: z.core.$ZodIssue): ConfigIssue[] {
  if (issue.code === 'unrecognized_keys') {
    const known = knownKeysAt(configSchema, issue.path);
    return issue.keys.map((key) => {
      const suggestion = closest(key, known);
      return {
        path: formatPath([...issue.path, key]),
        message: `unknown key${suggestion === undefined ? '' : ` (did you mean "${suggestion}"?)`}`,
      };
    });
  }
  return [{ path: formatPath(issue.path), message: issue.message }];
}

/** `requiredLabels[0].key`, `severities.label-missing`, `exclude[2]`; odd keys are quoted: `a["b c"]`. */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const seg of path) {
    if (typeof seg === 'number') out += `[${seg}]`;
    else if (typeof seg === 'string' && /^[A-Za-z_$][\w$-]*$/.test(seg)) out += out === '' ? seg : `.${seg}`;
    else out += `[${JSON.stringify(String(seg))}]`;
  }
  return out;
}

/** The keys the schema allows at `path`, for "did you mean" hints. */
function knownKeysAt(schema: z.ZodType, path: readonly PropertyKey[]): string[] {
  let node: z.ZodType | undefined = schema;
  for (const seg of path) {
    node = unwrap(node);
    if (node instanceof z.ZodObject) node = (node.shape as Record<string, z.ZodType>)[String(seg)];
    else if (node instanceof z.ZodArray) node = node.element as z.ZodType;
    else return [];
    if (node === undefined) return [];
  }
  node = unwrap(node);
  return node instanceof z.ZodObject ? Object.keys(node.shape) : [];
}

function unwrap(schema: z.ZodType): z.ZodType {
  let s = schema;
  while (s instanceof z.ZodOptional || s instanceof z.ZodDefault || s instanceof z.ZodPrefault) {
    s = s.unwrap() as z.ZodType;
  }
  return s;
}

/** The known key nearest to a typo, when it is near enough to be what was meant. */
function closest(key: string, known: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of known) {
    const d = editDistance(key.toLowerCase(), candidate.toLowerCase());
    if (d < bestDistance) [best, bestDistance] = [candidate, d];
  }
  return bestDistance <= Math.min(3, Math.max(1, Math.floor(key.length / 3))) ? best : undefined;
}

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      row[j] = Math.min((prev[j] ?? 0) + 1, (row[j - 1] ?? 0) + 1, (prev[j - 1] ?? 0) + cost);
    }
    prev = row;
  }
  return prev[b.length] ?? 0;
}
