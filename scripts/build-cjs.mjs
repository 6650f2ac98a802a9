// Emits a CommonJS bundle next to tsc's ESM output so that `require()` works on every Node 20.
// Usage: node build-cjs.mjs src/index.ts [src/other.ts …]  (run from a package folder)

import { basename } from 'node:path';
import { build } from 'esbuild';

const entries = process.argv.slice(2);
await Promise.all(
  entries.map((entry) =>
    build({
      entryPoints: [entry],
      outfile: `dist/${basename(entry, '.ts')}.cjs`,
      bundle: true,
      platform: 'node',
      format: 'cjs',
      target: 'node20',
      packages: 'external',
      sourcemap: true,
      logLevel: 'warning',
    }),
  ),
);
