/** Runs one command: its number becomes the exit code; known errors print one clear line, never a stack. */
import { LabelguardError } from '../errors.js';

export async function runCommand(command: () => Promise<number>): Promise<void> {
  try {
    process.exitCode = await command();
  } catch (e) {
    if (e instanceof LabelguardError) {
      process.stderr.write(`labelguard: ${e.message}\n`);
    } else {
      const message = e instanceof Error ? e.message : String(e);
      process.stderr.write(`labelguard: unexpected error: ${message}\n`);
      if (process.env.LABELGUARD_DEBUG && e instanceof Error && e.stack) process.stderr.write(`${e.stack}\n`);
    }
    process.exitCode = 2;
  }
}
