#!/usr/bin/env node
// The wxpay command line.
import { UsageError } from './options.js';
import { buildProgram } from './program.js';

try {
  await buildProgram().parseAsync(process.argv);
} catch (error) {
  if (
    !(error instanceof UsageError) &&
    !(error instanceof Error && 'code' in error && error.code === 'CONFIG')
  )
    throw error;
  process.stderr.write(`wxpay: ${error.message}\n`);
  process.exitCode = 2;
}
