// Adds the optional, platform-specific packages that package-lock.json lacks (for example
// @biomejs/cli-darwin-arm64) as entries that say which platform they are for. A registry that
// serves only some platforms' builds leaves them out when the lock file is written, and `npm ci`
// then refuses the lock file; with these entries it skips them as not for this machine.
// Idempotent: running it on a complete lock file changes nothing.
import { readFileSync, writeFileSync } from 'node:fs';

const PLATFORM =
  /(android|darwin|linux|win32|freebsd|openbsd|netbsd|sunos|aix)-(arm64|x64|ia32|arm|ppc64|s390x|riscv64|loong64|mips64el)(-musl|-gnu|-msvc)?$/;

const path = new URL('../package-lock.json', import.meta.url);
const lock = JSON.parse(readFileSync(path, 'utf8'));
const packages = lock.packages;
const added = [];
for (const [location, entry] of Object.entries(packages)) {
  for (const [name, version] of Object.entries(entry.optionalDependencies ?? {})) {
    const nested = location ? `${location}/node_modules/${name}` : `node_modules/${name}`;
    if (packages[`node_modules/${name}`] || packages[nested]) continue;
    const match = PLATFORM.exec(name);
    if (!match) continue;
    const stub = { version, cpu: [match[2]], optional: true, os: [match[1]] };
    if (entry.dev) stub.dev = true;
    if (match[3] === '-musl') stub.libc = ['musl'];
    packages[`node_modules/${name}`] = stub;
    added.push(name);
  }
}
if (added.length > 0) {
  lock.packages = Object.fromEntries(
    Object.entries(packages).sort(([a], [b]) => (a === '' ? -1 : b === '' ? 1 : a < b ? -1 : a > b ? 1 : 0)),
  );
  writeFileSync(path, `${JSON.stringify(lock, null, 2)}\n`);
  console.log(`package-lock.json: added ${added.length} platform entries (${added.join(', ')})`);
}
