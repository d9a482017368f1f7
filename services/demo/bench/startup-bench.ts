/**
 * Start-up time of each service (not a test: timings vary by machine): from spawning `node main.ts`
 * to the first 200 on `/health`, each run with a fresh data dir and a free port, as the demo starts
 * them (ServiceProcess, Node's compile cache on). Also the time of `loadFhirDefinitions()` alone, in a
 * fresh process. Given several checkouts of the repository, it alternates between them run by run, so
 * a busy machine slows each alike, and prints the medians.
 *
 *   node services/demo/bench/startup-bench.ts [--runs N] [checkout...]     (default: 10 runs, this checkout)
 *
 * The gateway needs no hub to start (its token source and JWKS are fetched on first use), only its dev
 * key: the bench makes the dev credentials in each data dir first, as the demo does.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { ensureDevCredentials } from '@imaging/auth';
import { devTopology } from '@imaging/config';
import { freePort, ServiceProcess } from '@imaging/service-process';
import type { ServiceSpec } from '@imaging/service-process';

const HOST = '127.0.0.1';
/** How often /health is asked: fine enough not to blur a start-up of a few hundred ms. */
const POLL_MS = 5;
const TIMEOUT_MS = 60_000;

const args = process.argv.slice(2);
const runsAt = args.indexOf('--runs');
const RUNS = runsAt >= 0 ? Number(args.splice(runsAt, 2)[1]) : 10;
const checkouts = (args.length ? args : [resolve(import.meta.dirname, '../../..')]).map((c) => resolve(c));
if (!(RUNS > 0)) throw new Error('--runs takes a positive number');

type Measure = 'national hub' | 'regional gateway' | 'loadFhirDefinitions()';
const MEASURES: Measure[] = ['national hub', 'regional gateway', 'loadFhirDefinitions()'];

function spec(checkout: string, measure: Measure, dataDir: string, port: number): ServiceSpec {
  const common = { host: HOST, port, logFile: join(dataDir, 'service.log') };
  if (measure === 'national hub') {
    return {
      ...common,
      name: 'hub',
      label: 'national hub',
      entry: join(checkout, 'services/national-hub/src/main.ts'),
      env: { PORT: String(port), HOST, IMAGING_DATA_DIR: dataDir },
    };
  }
  return {
    ...common,
    name: 'north',
    label: 'north gateway',
    entry: join(checkout, 'services/regional-gateway/src/main.ts'),
    // Nothing listens at HUB_URL: start-up must not need the hub.
    env: { REGION_ID: 'north', PORT: String(port), HOST, HUB_URL: `http://${HOST}:9`, IMAGING_DATA_DIR: dataDir },
  };
}

async function untilHealthy(url: string, service: ServiceProcess): Promise<void> {
  const deadline = performance.now() + TIMEOUT_MS;
  for (;;) {
    if (service.unexpectedExit)
      throw new Error(`${service.spec.label} ${service.unexpectedExit}\n${service.logTail()}`);
    try {
      const res = await fetch(url);
      await res.body?.cancel();
      if (res.status === 200) return;
    } catch {
      // not listening yet
    }
    if (performance.now() > deadline) throw new Error(`${url} did not answer 200 in ${TIMEOUT_MS} ms`);
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
}

/** Spawn to first 200 on /health, in ms. */
async function startUp(checkout: string, measure: Measure): Promise<number> {
  const dataDir = mkdtempSync(join(tmpdir(), 'startup-bench-'));
  try {
    await ensureDevCredentials(devTopology(), dataDir);
    const service = new ServiceProcess(spec(checkout, measure, dataDir, await freePort(HOST)));
    const began = performance.now();
    await service.launch();
    try {
      await untilHealthy(`${service.baseUrl}/health`, service);
      return performance.now() - began;
    } finally {
      await service.stop();
    }
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
}

/** `loadFhirDefinitions()` alone, in a fresh process (imports excluded), in ms. */
function loadDefinitions(checkout: string): number {
  const script = `
    import { loadFhirDefinitions } from ${JSON.stringify(join(checkout, 'packages/fhir/src/definitions.ts'))};
    const began = performance.now();
    loadFhirDefinitions();
    console.log(performance.now() - began);`;
  return Number(execFileSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' }));
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

const times = new Map<string, number[]>();
const key = (measure: Measure, checkout: string) => `${measure}\0${checkout}`;
// One uncounted start per checkout and service fills Node's compile cache, as any earlier start would.
for (const checkout of checkouts) for (const measure of MEASURES.slice(0, 2)) await startUp(checkout, measure);
for (let run = 0; run < RUNS; run++) {
  // Alternate the order each run too, so neither checkout always goes first.
  const order = run % 2 ? [...checkouts].reverse() : checkouts;
  for (const measure of MEASURES) {
    for (const checkout of order) {
      const ms = measure === 'loadFhirDefinitions()' ? loadDefinitions(checkout) : await startUp(checkout, measure);
      const list = times.get(key(measure, checkout)) ?? [];
      list.push(ms);
      times.set(key(measure, checkout), list);
    }
  }
  process.stderr.write(`run ${run + 1}/${RUNS}\n`);
}

console.log(`median of ${RUNS} runs, ms (min–max)`);
for (const measure of MEASURES) {
  const medians = checkouts.map((c) => median(times.get(key(measure, c)) ?? []));
  const cells = checkouts.map((c, i) => {
    const list = times.get(key(measure, c)) ?? [];
    return `${(medians[i] as number).toFixed(0)} (${Math.min(...list).toFixed(0)}–${Math.max(...list).toFixed(0)})`;
  });
  const ratio =
    checkouts.length > 1
      ? `  ratio first/last ${((medians[0] as number) / (medians.at(-1) as number)).toFixed(2)}`
      : '';
  console.log(`${measure.padEnd(22)} ${cells.map((c) => c.padEnd(20)).join(' ')}${ratio}`);
}
console.log(`checkouts: ${checkouts.join(', ')}`);
