// The demo: `npm run demo -- [--explore] [--no-scenario] [--hapi <url>] [--port-base <n>] [--data-dir <dir>]`.
// Its last line is always `demo: <passed>/<total> steps passed`; it exits 0 only when all passed.
import { startDemo, SCENARIO } from './demo.ts';
import type { DemoResult } from './demo.ts';
import { explorationGuide } from './explore.ts';
import type { DemoOptions } from './options.ts';
import { parseDemoArgs, USAGE, UsageError } from './options.ts';
import { REPO_ROOT } from './world.ts';

const write = (text: string) => void process.stdout.write(text);
const summary = (r: DemoResult) => `demo: ${r.passed}/${r.total} steps passed\n`;

let options: DemoOptions | undefined;
try {
  options = parseDemoArgs(process.argv.slice(2), REPO_ROOT);
} catch (err) {
  process.stderr.write(`${(err as Error).message}\n`);
  write(summary({ passed: 0, total: SCENARIO.length }));
  process.exit(err instanceof UsageError ? 2 : 1);
}
if (!options) {
  write(`${USAGE}\n`);
  process.exit(0);
}

const run = startDemo(options, write);
let outcome: DemoResult = { passed: 0, total: run.total };
let interrupted = false;

// Ctrl-C (or a SIGTERM) at any point: stop every process the demo started, then report.
const onSignal = (signal: NodeJS.Signals) => {
  if (interrupted) return;
  interrupted = true;
  write(`\n${signal}: stopping the hub and the gateways…\n`);
  // In explore mode the scenario has finished: Ctrl-C is the normal way to end it.
  const finished = options.explore && run.passedSoFar() === run.total;
  void run.stop().then(() => {
    write(summary({ passed: run.passedSoFar(), total: run.total }));
    process.exit(finished ? 0 : 130);
  });
};
process.on('SIGINT', onSignal);
process.on('SIGTERM', onSignal);

try {
  outcome = await run.result;
} catch (err) {
  write(`demo: unexpected failure: ${(err as Error).stack ?? String(err)}\n`);
}
if (!interrupted) {
  // Nothing to explore when the topology never started (its first step): stop, as a scenario run does.
  if (options.explore && outcome.passed > 0) {
    write(explorationGuide(run.context));
    write(summary(outcome));
    // Stay up until Ctrl-C; the signal handler stops everything.
    setInterval(() => undefined, 1 << 30);
  } else {
    await run.stop();
    write(summary(outcome));
    process.exit(outcome.passed === outcome.total ? 0 : 1);
  }
}
