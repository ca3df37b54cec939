/** Config file → the audit core's settings. */
import { access, readFile } from 'node:fs/promises';
import type { Config } from '../config.js';
import { InputError } from '../errors.js';
import { DEFAULT_CONFIG } from './default-config.js';

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
  // The schema (zod) and YAML parsers load only when there is a file to parse.
  const { loadConfig } = await import('../config.js');
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
