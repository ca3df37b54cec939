#!/usr/bin/env node
/** The `labelguard` entry point: parse, run, exit 0 / 1 (findings) / 2 (usage, config or input error). */
import { CommanderError } from 'commander';
import { createProgram } from './program.js';

try {
  await createProgram().parseAsync(process.argv);
} catch (e) {
  if (e instanceof CommanderError) {
    // --help and --version exit 0; every usage error exits 2 (commander has already printed it).
    process.exitCode = e.exitCode === 0 ? 0 : 2;
  } else {
    process.stderr.write(`labelguard: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exitCode = 2;
  }
}
