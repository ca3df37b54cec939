/**
 * Runs labelguard's CLI as a user would (`node --import tsx lambda/cli/main.ts ...` from the project
 * root) and reads its `--format json` report. The e2e tests judge labelguard only through this.
 */
import { execFile } from 'node:child_process';
import { PROJECT_ROOT } from './harness.js';

export interface CliResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** The parts of the `scan --format json` contract (schemaVersion 1) the e2e tests read. */
export interface JsonReport {
  readonly schemaVersion: number;
  readonly clusters: readonly {
    readonly cluster: string;
    readonly status: 'complete' | 'partial' | 'failed';
    readonly errors: readonly string[];
    readonly reads: readonly { readonly resource: string; readonly status: string; readonly reason?: string }[];
    readonly namespaces: readonly { readonly name: string; readonly labels: Readonly<Record<string, string>> }[];
    readonly policyCount: number;
    readonly policies: readonly {
      readonly engine: string;
      readonly kind: string;
      readonly namespace: string | null;
      readonly name: string;
    }[];
    readonly drift?: readonly DriftEventJson[];
  }[];
  readonly findings: readonly FindingJson[];
}

export interface FindingJson {
  readonly rule: string;
  readonly severity: string;
  readonly cluster: string;
  readonly namespace: string | null;
  readonly policy: { readonly kind: string; readonly namespace: string | null; readonly name: string } | null;
  readonly message: string;
  readonly fix: string | null;
  readonly source?: unknown;
  readonly waived?: unknown;
}

export interface DriftEventJson {
  readonly type: string;
  readonly cluster: string;
  readonly namespace: string | null;
  readonly key: string | null;
  readonly before: string | null;
  readonly after: string | null;
  readonly policy: { readonly kind: string; readonly namespace: string | null; readonly name: string } | null;
  readonly direction: string | null;
}

/** The environment every CLI run gets: no real AWS credentials, files or metadata service. */
export const CLI_ENV: Readonly<Record<string, string>> = {
  AWS_EC2_METADATA_DISABLED: 'true',
  AWS_ACCESS_KEY_ID: 'AKIDEXAMPLETESTONLY',
  AWS_SECRET_ACCESS_KEY: 'test-secret-not-real',
  AWS_CONFIG_FILE: '/dev/null',
  AWS_SHARED_CREDENTIALS_FILE: '/dev/null',
  AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
  NO_COLOR: '1',
};

export function runLabelguard(args: readonly string[], env: Readonly<Record<string, string>> = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const { KUBECONFIG: _ignored, ...inherited } = process.env;
    execFile(
      process.execPath,
      ['--import', 'tsx', 'lambda/cli/main.ts', ...args],
      {
        cwd: PROJECT_ROOT,
        env: { ...inherited, ...CLI_ENV, ...env },
        maxBuffer: 512 * 1024 * 1024,
        timeout: 300_000,
      },
      (error, stdout, stderr) => {
        if (error && typeof error.code !== 'number') {
          reject(new Error(`labelguard ${args.join(' ')}: ${error.message}\n${stderr}`));
          return;
        }
        resolve({ code: typeof error?.code === 'number' ? error.code : 0, stdout, stderr });
      },
    );
  });
}

/**
 * `labelguard scan ... --format json --fail-on none`, parsed; throws with stderr on any other exit.
 * Without `--store-dir` the scan records nothing (`--no-store`): the default store is a folder in
 * the working tree, which the suite must neither read nor write.
 */
export async function scanJson(
  args: readonly string[],
  env: Readonly<Record<string, string>> = {},
): Promise<JsonReport> {
  const store = args.includes('--store-dir') ? [] : ['--no-store'];
  const result = await runLabelguard(['scan', ...args, ...store, '--format', 'json', '--fail-on', 'none'], env);
  if (result.code !== 0) {
    throw new Error(
      `labelguard scan ${args.join(' ')} exited ${result.code}\nstderr:\n${result.stderr}\nstdout:\n${result.stdout.slice(0, 2000)}`,
    );
  }
  return JSON.parse(result.stdout) as JsonReport;
}

/** A finding with the fields that name where it came from (cluster, source file) left out, as sortable text. */
export function findingKey(finding: FindingJson): string {
  const { cluster: _cluster, source: _source, ...rest } = finding;
  return JSON.stringify(rest);
}

/** The findings as a sorted list of findingKey texts. */
export function findingKeys(report: JsonReport): string[] {
  return report.findings.map(findingKey).sort();
}
