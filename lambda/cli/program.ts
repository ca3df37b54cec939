/**
 * The CLI composition root. Only option parsing happens up front; each command's module (and with
 * it the engines, SDKs and clients it needs) is imported when that command runs, so `--help`
 * starts in tens of milliseconds.
 */
import { Command, Option } from 'commander';
import { runCommand } from './run.js';
import { VERSION } from './version.js';

const SEVERITY_CHOICES = ['critical', 'high', 'medium', 'low', 'info', 'none'];
const FORMAT_CHOICES = ['table', 'json', 'sarif', 'junit', 'markdown'];


export function createProgram(): Command {
  const program = new Command('labelguard')
    .description('Finds namespaces whose missing or changed labels make network policies silently match nothing.')
    .version(VERSION, '-V, --version')
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride();

  program
    .command('scan')
    .description('Audit namespace labels and match every network policy against the namespaces')
    .option('--manifests <path...>', 'manifest folders/files or `kubectl get -o json|yaml` dumps; one cluster per path')
    .option('--cluster <name>', 'cluster name (with --manifests: read every path as this one cluster)')
    .option('--config <file>', 'configuration file (default: ./labelguard.config.yaml when present)')
    .addOption(new Option('--format <format>', 'output format').choices(FORMAT_CHOICES).default('table'))
    .addOption(
      new Option('--fail-on <severity>', 'exit 1 when a finding is at or above this severity').choices(
        SEVERITY_CHOICES,
      ),
    )
    .option('--output <file>', 'write the report to a file instead of stdout')
    .action((opts: Record<string, unknown>) => runCommand(async () => (await import('./scan.js')).scanCommand(opts)));

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
    .command('rules')
    .description('List the rules with their ids, severities and fixes')
    .action(() => runCommand(async () => (await import('./rules.js')).rulesCommand()));

  return program;
}
