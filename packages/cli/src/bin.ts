#!/usr/bin/env node
// The wxpay command line.
import { buildProgram } from './program.js';

/** A mistake the user can fix (a flag, a setting, an option) is one line, not a stack trace. */
function userFacing(error: unknown): string | undefined {
  if (!(error instanceof Error)) return undefined;
  if (error.name === 'UsageError' || 'setting' in error || 'option' in error) return error.message;
  return undefined;
}

try {
  await buildProgram().parseAsync(process.argv);
} catch (error) {
  const message = userFacing(error);
  if (message === undefined) throw error;
  process.stderr.write(`wxpay: ${message}\n`);
  process.exitCode = 2;
}
