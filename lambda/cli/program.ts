/**
 * The CLI composition root. Only option parsing happens up front; each command's module (and with
 * it the engines, SDKs and clients it needs) is imported when that command runs, so `--help`
 * starts in tens of milliseconds.
 */
import { Command, Option } from 'commander';
import { addSlackOptions } from './notify-options.js';
import { runCommand } from './run.js';
import { VERSION } from './version.js';

const SEVERITY_CHOICES = ['critical', 'high', 'medium', 'low', 'info', 'none'];
const FORMAT_CHOICES = ['table', 'json', 'sarif', 'junit', 'markdown'];

/** Collects a repeatable option's values. */
const repeatable = (value: string, previous: string[] = []): string[] => [...previous, value];

export function createProgram(): Command {
  const program = new Command('labelguard')
    .description('Finds namespaces whose missing or changed labels make network policies silently match nothing.')
    .version(VERSION, '-V, --version')
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride();

  addSlackOptions(
    program
      .command('scan')
      .description('Audit namespace labels and match every network policy against the namespaces')
      .option(
        '--manifests <path...>',
        'manifest folders/files or `kubectl get -o json|yaml` dumps; one cluster per path',
      )
      .option('--cluster <name>', 'cluster name (with --manifests: read every path as this one cluster)')
      .option('--config <file>', 'configuration file (default: ./labelguard.config.yaml when present)')
      .addOption(new Option('--format <format>', 'output format').choices(FORMAT_CHOICES).default('table'))
      .addOption(
        new Option('--fail-on <severity>', 'exit 1 when a finding is at or above this severity').choices(
          SEVERITY_CHOICES,
        ),
      )
      .option('--output <file>', 'write the report to a file instead of stdout')
      .option('--kubeconfig <file>', 'kubeconfig file (default: KUBECONFIG, else ~/.kube/config)')
      .option('--context <name>', 'a kubeconfig context to scan; repeatable (default: the current context)', repeatable)
      .option('--all-contexts', 'scan every context of the kubeconfig')
      .option('--eks <name@region>', 'an EKS cluster to scan, e.g. prod@eu-west-1; repeatable', repeatable)
      .option('--concurrency <n>', 'clusters read at once (default: 8)')
      .option(
        '--store-dir <dir>',
        'the embedded history store (default: store.dir in the config, else .labelguard/data)',
      )
      .option(
        '--run-id <time>',
        "the run's scheduled time (ISO 8601); recording the same run again records nothing new",
      )
      .option('--no-store', 'record nothing: no history, no drift'),
  ).action((opts: Record<string, unknown>) => runCommand(async () => (await import('./scan.js')).scanCommand(opts)));

  program
    .command('eks-token')
    .description(
      'Print an EKS bearer token as an ExecCredential, like `aws eks get-token` (to check access with kubectl)',
    )
    .requiredOption('--cluster <name>', 'the EKS cluster name')
    .option('--region <region>', 'the cluster region (default: AWS_REGION)')
    .option('--role-arn <arn>', 'assume this role first (the role labelguard scans with)')
    .option('--external-id <id>', 'the external id the role trust policy requires')
    .action((opts: Record<string, unknown>) =>
      runCommand(async () => (await import('./eks-token.js')).eksTokenCommand(opts)),
    );

  program
    .command('match')
    .description('Selector debugger: does this selector match these labels, and why not?')
    .addOption(
      new Option('--engine <engine>', 'selector language').choices(['kubernetes', 'calico']).default('kubernetes'),
    )
    .option('--selector <selector>', 'a selector (Kubernetes string syntax or JSON LabelSelector; Calico expression)')
    .option('--labels <labels>', 'labels to test: k=v,k2=v2 or a JSON object')
    .option('--manifests <path...>', 'test against every namespace in these manifests instead')
    .option('--batch', 'read JSON lines from stdin, write one JSON line per input')
    .action((opts: Record<string, unknown>) => runCommand(async () => (await import('./match.js')).matchCommand(opts)));

  program
    .command('history')
    .description('The timeline of a cluster: runs, label versions, drift and findings opened or resolved')
    .option('--cluster <name>', 'one cluster (default: every recorded cluster)')
    .option('--namespace <name>', "only this namespace's label versions and events")
    .option('--since <time>', 'from this time on (ISO 8601)')
    .option('--until <time>', 'up to this time (ISO 8601)')
    .addOption(new Option('--format <format>', 'output format').choices(['table', 'json', 'csv']).default('table'))
    .option('--output <file>', 'write to a file instead of stdout')
    .option('--config <file>', 'configuration file (its store section)')
    .option('--store-dir <dir>', 'the embedded history store (default: store.dir in the config, else .labelguard/data)')
    .action((opts: Record<string, unknown>) =>
      runCommand(async () => (await import('./history.js')).historyCommand(opts)),
    );

  program
    .command('report')
    .description('The compliance state as it was at a time, rebuilt from the recorded history (evidence for auditors)')
    .option('--at <time>', 'the time (ISO 8601; default: now)')
    .option('--cluster <name>', 'one cluster (default: every recorded cluster)')
    .addOption(
      new Option('--format <format>', 'output format').choices(['json', 'csv', 'markdown', 'html']).default('json'),
    )
    .option('--since <time>', 'html: where the chart and drift timeline start (default: 90 days before --at)')
    .option('--out <file>', 'write to a file instead of stdout')
    .option('--config <file>', 'configuration file (its store section)')
    .option('--store-dir <dir>', 'the embedded history store (default: store.dir in the config, else .labelguard/data)')
    .action((opts: Record<string, unknown>) =>
      runCommand(async () => (await import('./report.js')).reportCommand(opts)),
    );

  program
    .command('verify')
    .description("Walk each cluster's hash chain of run records; exit 1 naming the first broken link")
    .option('--cluster <name>', 'one cluster (default: every recorded cluster)')
    .addOption(new Option('--format <format>', 'output format').choices(['table', 'json']).default('table'))
    .option('--config <file>', 'configuration file (its store section)')
    .option('--store-dir <dir>', 'the embedded history store (default: store.dir in the config, else .labelguard/data)')
    .action((opts: Record<string, unknown>) =>
      runCommand(async () => (await import('./verify.js')).verifyCommand(opts)),
    );

  program
    .command('demo')
    .description('Two days of one cluster (examples/day1, examples/day2) scanned into a fresh store: see the drift')
    .option('--store-dir <dir>', 'keep the demo store here (default: a temporary directory, removed afterwards)')
    .action((opts: Record<string, unknown>) => runCommand(async () => (await import('./demo.js')).demoCommand(opts)));

  const policy = program
    .command('policy')
    .description('Print admission policies that enforce the required labels (Kyverno or OPA Gatekeeper)');
  for (const [engine, what] of [
    ['kyverno', 'Kyverno ClusterPolicies: require each label on Namespace CREATE/UPDATE, deny its removal or change'],
    ['gatekeeper', 'An OPA Gatekeeper ConstraintTemplate (Rego) and its constraint, with the same meaning'],
  ] as const) {
    policy
      .command(engine)
      .description(what)
      .option('--config <file>', 'configuration file (default: ./labelguard.config.yaml when present)')
      .addOption(
        new Option('--mode <mode>', 'enforce denies violating requests; audit only reports them')
          .choices(['audit', 'enforce'])
          .default('enforce'),
      )
      .option('--output <file>', 'write the YAML to a file instead of stdout')
      .action((opts: Record<string, unknown>) =>
        runCommand(async () => (await import('./policy.js')).policyCommand(engine, opts)),
      );
  }

  program
    .command('rules')
    .description('List the rules with their ids, severities and fixes')
    .action(() => runCommand(async () => (await import('./rules.js')).rulesCommand()));

  return program;
}
