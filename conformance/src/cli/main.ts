// `pnpm conformance [--target <url>] [--actor <role>] [--out <dir>] [--hapi auto|container|jar] [--group <n>]…`
// Runs the suite with vitest, writes junit.xml, report.html and testreport.json, and exits 0 only when
// every test passed or met a recorded deviation (2 for a bad command line).
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startVitest } from 'vitest/node';
import { ConformanceReporter } from '../report/reporter.ts';
import { WORK_ROOT } from '../suite/global-setup.ts';
import { GroupSequencer } from '../suite/sequencer.ts';
import { fileFilters, parseCliArgs, suiteEnvironment, USAGE, UsageError } from './options.ts';
import type { CliOptions } from './options.ts';

const CONFORMANCE_DIR = join(dirname(fileURLToPath(import.meta.url)), '../..');
const log = (line: string) => void process.stderr.write(`${line}\n`);

let options: CliOptions | undefined;
try {
  options = parseCliArgs(process.argv.slice(2));
} catch (err) {
  log((err as Error).message);
  process.exit(err instanceof UsageError ? 2 : 1);
}
if (!options) {
  process.stdout.write(`${USAGE}\n`);
  process.exit(0);
}

Object.assign(process.env, suiteEnvironment(options, WORK_ROOT));
const began = performance.now();
const reporter = new ConformanceReporter({ outDir: options.outDir, log });
const vitest = await startVitest(fileFilters(options), {
  config: join(CONFORMANCE_DIR, 'vitest.config.ts'),
  root: CONFORMANCE_DIR,
  run: true,
  watch: false,
  sequence: { sequencer: GroupSequencer },
  reporters: [
    'default',
    ['junit', { outputFile: join(options.outDir, 'junit.xml'), suiteName: 'imaging-connect conformance' }],
    reporter,
  ],
});
await vitest.close();
log(
  `conformance: ${reporter.passed ? 'PASSED' : 'FAILED'} in ${((performance.now() - began) / 1000).toFixed(1)} s (report: ${join(options.outDir, 'report.html')})`,
);
process.exit(reporter.passed ? 0 : 1);
