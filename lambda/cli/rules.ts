/** `labelguard rules`: the rule catalogue. */
import { RULES } from '../audit/index.js';

export function rulesCommand(): Promise<number> {
  for (const r of RULES) process.stdout.write(`${r.id.padEnd(22)} ${r.severity.padEnd(7)} ${r.summary}\n`);
  return Promise.resolve(0);
}
