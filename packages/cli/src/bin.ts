#!/usr/bin/env node
// The wxpay command line.
import { CommanderError } from 'commander';
import { buildProgram } from './program.js';

/**
 * A mistake the user can fix (a flag, a setting, a file, a port or a data dir in use) is one line, not a stack trace.
 */
function userFacing(error: unknown): string | undefined {
  if (!(error instanceof Error)) return undefined;
  if (error.name === 'UsageError' || 'setting' in error || 'option' in error) return error.message;
  // The sandbox's data dir held by another sandbox: the message names it and what to do.
  if ((error as { code?: unknown }).code === 'DATA_DIR_LOCKED') return error.message;
  return undefined;
}

try {
  await buildProgram().parseAsync(process.argv);
} catch (error) {
  if (error instanceof CommanderError) {
    // Commander has printed its message (and the help); a usage mistake exits 2 like any other.
    process.exitCode = error.exitCode === 0 ? 0 : 2;
  } else {
    const message = userFacing(error);
    if (message === undefined) throw error;
    process.stderr.write(`wxpay: ${message}\n`);
    process.exitCode = 2;
  }
}
