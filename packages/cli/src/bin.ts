#!/usr/bin/env node
// The wxpay command line.
import { buildProgram } from './program.js';

await buildProgram().parseAsync(process.argv);
