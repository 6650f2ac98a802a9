// The one entry file that node's test runner loads: every package's tests, in one process.
import '../packages/sdk/test/all.ts';
import '../packages/sandbox/test/all.ts';
import '../packages/cli/test/all.ts';
import '../packages/gateway/test/all.ts';
