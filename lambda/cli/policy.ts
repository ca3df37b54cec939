/** `labelguard policy kyverno|gatekeeper`: admission policies from the config's required labels, printed as YAML. */
import { writeFile } from 'node:fs/promises';
import { InputError, UsageError } from '../errors.js';
import { POLICY_MODES, generateGatekeeperPolicies, generateKyvernoPolicies, type PolicyMode } from '../policy/index.js';
import { readConfig } from './settings.js';

export type PolicyEngineName = 'kyverno' | 'gatekeeper';

export const POLICY_ENGINES: readonly PolicyEngineName[] = ['kyverno', 'gatekeeper'];

export interface PolicyCommandOptions {
  readonly config?: string;
  readonly mode?: string;
  readonly output?: string;
}

export async function policyCommand(engine: PolicyEngineName, opts: PolicyCommandOptions): Promise<number> {
  const mode = opts.mode ?? 'enforce';
  if (!isMode(mode)) throw new UsageError(`--mode must be one of ${POLICY_MODES.join(', ')} (got "${mode}")`);
  const { config } = await readConfig(opts.config);
  const input = { requiredLabels: config.requiredLabels, exclude: config.exclude };
  if (input.requiredLabels.length === 0)
    throw new UsageError('the configuration requires no labels: nothing to enforce');
  const text =
    engine === 'kyverno' ? generateKyvernoPolicies(input, { mode }) : generateGatekeeperPolicies(input, { mode });
  if (opts.output === undefined) {
    process.stdout.write(text);
    return 0;
  }
  try {
    await writeFile(opts.output, text);
  } catch (e) {
    throw new InputError(opts.output, `cannot write: ${(e as NodeJS.ErrnoException).code ?? String(e)}`, { cause: e });
  }
  return 0;
}

function isMode(mode: string): mode is PolicyMode {
  return (POLICY_MODES as readonly string[]).includes(mode);
}
