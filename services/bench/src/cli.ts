/**
 * `pnpm bench`: the benchmark suites (not tests: no timing ever fails anything). Each prints its
 * figures with the machine's load average and writes `reports/bench/<suite>.json`.
 *
 *   pnpm bench [--tiny] [--suite <name>]... [--orders N] [--history N] [--hapi <FHIR base>] [--baseline <ref>]
 *
 * --tiny runs every suite once on a tiny size, so the suites cannot rot (the bench project's test does).
 */
import { parseArgs } from 'node:util';
import { loadAverage, loadLine } from './report.ts';
import { SUITES } from './suites.ts';
import type { SuiteOptions } from './suites.ts';

const USAGE = `Usage: pnpm bench [--tiny] [--suite <name>]... [--orders N] [--history N] [--hapi <FHIR base>] [--baseline <ref>]
  suites: ${Object.keys(SUITES).join(', ')} (default: all)
  --tiny          every suite once on a tiny size (checks that they run; the figures mean nothing)
  --orders N      orders in the design-day replay (default 5000); the 250k design day is extrapolated
  --repeat N      rounds of the design-day replay, alternating fresh and history, or of the hapi suite,
                  alternating gateway and direct (medians reported)
  --history N     Tasks of history preloaded into each gateway's store (default 100000)
  --history-only  the design-day replay with history only, without its fresh rounds (for a whole design day,
                  compared with a fresh run made just before)
  --hapi <url>    a HAPI FHIR root (partitioned) for the hapi suite, which makes its own partitions (or HAPI_BASE_URL);
                  without one the suite starts HAPI itself (the launcher jar), and the tiny run skips it
  --hapi-db L     the databases the hapi suite starts HAPI on, in turn: h2, postgres (default h2,postgres)
  --baseline REF  also run the services of git ref REF (e.g. main) beside this checkout's, alternating, and
                  print after/before ratios (design-day, latency; hapi runs the baseline first)
  --store-sizes A,B,C  Tasks in the store and outbox-poll suites (default 5000,20000,100000)
  --profile       run the services under node --cpu-prof (profiles kept in the data dir): design-day and hapi
  --split-cores   the hapi suite pins the HAPI it starts to the last CPU and the services, clients and proxy
                  to the others (taskset), as if HAPI had a host of its own (not with --hapi)`;

const { values } = parseArgs({
  args: process.argv.slice(2).filter((a) => a !== '--'),
  options: {
    tiny: { type: 'boolean', default: false },
    suite: { type: 'string', multiple: true },
    orders: { type: 'string' },
    history: { type: 'string' },
    'history-only': { type: 'boolean', default: false },
    hapi: { type: 'string' },
    'hapi-db': { type: 'string' },
    baseline: { type: 'string' },
    'store-sizes': { type: 'string' },
    repeat: { type: 'string' },
    profile: { type: 'boolean', default: false },
    'split-cores': { type: 'boolean', default: false },
    help: { type: 'boolean', short: 'h', default: false },
  },
});
if (values.help) {
  console.log(USAGE);
  process.exit(0);
}

const count = (text: string | undefined, name: string): number | undefined => {
  if (text === undefined) return undefined;
  const n = Number(text);
  if (!Number.isInteger(n) || n < 0) {
    console.error(`${name} must be a whole number\n${USAGE}`);
    process.exit(2);
  }
  return n;
};

const names = values.suite?.length ? values.suite : Object.keys(SUITES);
const unknown = names.filter((n) => !(n in SUITES));
if (unknown.length) {
  console.error(`unknown suite ${unknown.join(', ')}\n${USAGE}`);
  process.exit(2);
}

const hapiUrl = values.hapi ?? process.env.HAPI_BASE_URL;
const hapiDatabases = values['hapi-db']?.split(',').map((d) => d.trim());
if (values['split-cores'] && hapiUrl) {
  console.error(
    `--split-cores pins the HAPI the hapi suite starts: it cannot pin one given by --hapi or HAPI_BASE_URL\n${USAGE}`,
  );
  process.exit(2);
}
if (hapiDatabases?.some((d) => d !== 'h2' && d !== 'postgres')) {
  console.error(`--hapi-db takes h2, postgres or both\n${USAGE}`);
  process.exit(2);
}
const options: SuiteOptions = {
  tiny: values.tiny,
  profile: values.profile,
  ...(count(values.orders, '--orders') !== undefined ? { orders: count(values.orders, '--orders') as number } : {}),
  ...(count(values.history, '--history') !== undefined
    ? { history: count(values.history, '--history') as number }
    : {}),
  ...(values['history-only'] ? { historyOnly: true } : {}),
  ...(values['split-cores'] ? { splitCores: true } : {}),
  ...(hapiUrl ? { hapiUrl } : {}),
  ...(hapiDatabases ? { hapiDatabases: hapiDatabases as ('h2' | 'postgres')[] } : {}),
  ...(values.baseline ? { baseline: values.baseline } : {}),
  ...(count(values.repeat, '--repeat') ? { repeat: count(values.repeat, '--repeat') as number } : {}),
  ...(values['store-sizes']
    ? { storeSizes: values['store-sizes'].split(',').map((n) => count(n, '--store-sizes') as number) }
    : {}),
};

let failed = 0;
for (const name of names) {
  console.log(`\n== ${name} (${loadLine(loadAverage())})`);
  try {
    const path = await SUITES[name]?.(options);
    console.log(`${name}: report written to ${path}`);
  } catch (err) {
    failed++;
    console.error(`${name}: failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
  }
}
process.exit(failed ? 1 : 0);
