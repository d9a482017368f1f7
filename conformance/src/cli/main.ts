// `pnpm conformance [--target <url>] [--actor <role>] [--out <dir>] [--hapi auto|container|jar] [--db h2|postgres]… [--group <n>]…`
// Runs the suite with vitest — once per database, one run after the other — writes junit.xml, report.html
// and testreport.json for each, and exits 0 only when every test of every run passed or met a recorded
// deviation (2 for a bad command line).
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startVitest } from 'vitest/node';
import { ConformanceReporter } from '../report/reporter.ts';
import { WORK_ROOT } from '../suite/global-setup.ts';
import { GroupSequencer } from '../suite/sequencer.ts';
import { fileFilters, parseCliArgs, passesOf, suiteEnvironment, USAGE, UsageError } from './options.ts';
import type { CliOptions, Pass } from './options.ts';

const CONFORMANCE_DIR = join(dirname(fileURLToPath(import.meta.url)), '../..');
const TITLE = 'imaging-connect conformance';
const DATABASE_NAMES = { h2: 'H2', postgres: 'PostgreSQL' } as const;
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

/** One vitest run; true when it passed. */
async function run(cli: CliOptions, pass: Pass, title: string): Promise<boolean> {
  Object.assign(process.env, suiteEnvironment(cli, pass, WORK_ROOT));
  const began = performance.now();
  const reporter = new ConformanceReporter({ outDir: pass.outDir, title, log });
  const vitest = await startVitest(fileFilters({ ...cli, groups: pass.groups }), {
    config: join(CONFORMANCE_DIR, 'vitest.config.ts'),
    root: CONFORMANCE_DIR,
    run: true,
    watch: false,
    sequence: { sequencer: GroupSequencer },
    reporters: ['default', ['junit', { outputFile: join(pass.outDir, 'junit.xml'), suiteName: title }], reporter],
  });
  await vitest.close();
  log(
    `conformance: ${title}: ${reporter.passed ? 'PASSED' : 'FAILED'} in ${((performance.now() - began) / 1000).toFixed(1)} s (report: ${join(pass.outDir, 'report.html')})`,
  );
  return reporter.passed;
}

const passes = passesOf(options);
const verdicts: string[] = [];
let passed = true;
for (const [i, pass] of passes.entries()) {
  const title = pass.database ? `${TITLE}: HAPI FHIR on ${DATABASE_NAMES[pass.database]}` : TITLE;
  if (passes.length > 1)
    log(
      `conformance: run ${i + 1}/${passes.length}: ${title}, groups ${(pass.groups.length ? pass.groups : 'all').toString()}`,
    );
  const ok = await run(options, pass, title);
  passed &&= ok;
  verdicts.push(`${title}: ${ok ? 'PASSED' : 'FAILED'}`);
}
if (passes.length > 1) log(`conformance: ${passed ? 'PASSED' : 'FAILED'} (${verdicts.join('; ')})`);
process.exit(passed ? 0 : 1);
