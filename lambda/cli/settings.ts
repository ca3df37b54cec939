/** Config file → the audit core's settings. */
import { access, readFile } from 'node:fs/promises';
import { DEFAULT_CONFIG, loadConfig, type Config } from '../config.js';
import { InputError } from '../errors.js';

export const DEFAULT_CONFIG_FILE = 'labelguard.config.yaml';

/** The config named by --config, else ./labelguard.config.yaml when present, else the defaults. */
export async function readConfig(file: string | undefined): Promise<{ config: Config; file: string | null }> {
  const path = file ?? ((await exists(DEFAULT_CONFIG_FILE)) ? DEFAULT_CONFIG_FILE : undefined);
  if (path === undefined) return { config: DEFAULT_CONFIG, file: null };
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    throw new InputError(path, `cannot read config: ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
  }
  return { config: loadConfig(text, path), file: path };
}

async function exists(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch {
    return false;
  }
}

export { auditSettingsOf } from '../audit-settings.js';
