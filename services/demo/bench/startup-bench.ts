/**
 * Start-up time of each service (not a test: timings vary by machine): from spawning the service to the
 * first 200 on `/health`, each run with a fresh store and a free port, as the demo starts them
 * (ServiceProcess, Node's compile cache on), and the CPU time the process used until then (which a busy
 * machine inflates less); then the time of its first real request, so a cost moved from start-up to the
 * first request would show. The hub is then restarted on the store it left (its directory seeded): a
 * restart's start-up. Also the time of `loadFhirDefinitions()` alone, in a fresh process. Given several
 * checkouts of the repository, it alternates between them run by run, so a busy machine slows each
 * alike, and prints the medians and the load average.
 *
 *   node services/demo/bench/startup-bench.ts [--runs N] [--bundle [--bundle-compile-cache]] [checkout...]
 *   (default: 10 runs, this checkout)
 *
 * --bundle also builds and measures each checkout's production bundle (`services/<service>/dist/main.mjs`,
 * infra/topology/bundle/bundle-services.ts), where it has one; without it, the sources are measured. A
 * bundle runs as the services image runs it, without Node's compile cache directory, unless
 * --bundle-compile-cache.
 *
 * First requests, each with an access token from a hub: for the hub, its first token (a client
 * assertion checked, a token signed) and an authenticated `POST /fhir/Organization/$validate`; for the
 * gateway, an authenticated `POST /fhir/ServiceRequest/$validate`, which fetches the hub's JWKS first,
 * as a gateway's first request does. The gateways get their token and JWKS from one hub, started once
 * from this checkout's sources; they do not call it while starting (they fetch on first use).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { devTokenSource, ensureDevCredentials } from '@imaging/auth';
import { devTopology } from '@imaging/config';
import { exampleOrganization, exampleServiceRequest } from '@imaging/fhir/examples';
import { cpuTimeMs, freePort, ServiceProcess } from '@imaging/service-process';
import type { ServiceSpec } from '@imaging/service-process';

const HOST = '127.0.0.1';
/** How often /health is asked: fine enough not to blur a start-up of a few hundred ms. */
const POLL_MS = 5;
const TIMEOUT_MS = 60_000;
const THIS_CHECKOUT = resolve(import.meta.dirname, '../../..');
const BUNDLER = 'infra/topology/bundle/bundle-services.ts';

const args = process.argv.slice(2);
const runsAt = args.indexOf('--runs');
const RUNS = runsAt >= 0 ? Number(args.splice(runsAt, 2)[1]) : 10;
const bundleAt = args.indexOf('--bundle');
const BUNDLE = bundleAt >= 0 && args.splice(bundleAt, 1).length > 0;
const compileCacheAt = args.indexOf('--bundle-compile-cache');
const BUNDLE_COMPILE_CACHE = compileCacheAt >= 0 && args.splice(compileCacheAt, 1).length > 0;
const checkouts = (args.length ? args : [THIS_CHECKOUT]).map((c) => resolve(c));
if (!(RUNS > 0)) throw new Error('--runs takes a positive number');

/** One way of running one checkout's services: its sources, or its production bundle. */
interface Variant {
  label: string;
  checkout: string;
  form: 'src' | 'bundle';
}
const variants: Variant[] = checkouts.flatMap((checkout): Variant[] => {
  const src: Variant = { label: `${basename(checkout)} src`, checkout, form: 'src' };
  if (!BUNDLE || !existsSync(join(checkout, BUNDLER))) return [src];
  execFileSync(process.execPath, [join(checkout, BUNDLER)], { cwd: checkout, stdio: ['ignore', 'ignore', 'inherit'] });
  return [src, { label: `${basename(checkout)} bundle`, checkout, form: 'bundle' }];
});

type Measure = 'national hub' | 'regional gateway' | 'loadFhirDefinitions()';
const MEASURES: Measure[] = ['national hub', 'regional gateway', 'loadFhirDefinitions()'];

const entry = (v: Variant, service: string) =>
  join(v.checkout, 'services', service, v.form === 'bundle' ? 'dist/main.mjs' : 'src/main.ts');

/** The hub the gateways get their tokens and JWKS from, and its data dir (keys, client registry). */
interface SharedHub {
  url: string;
  dataDir: string;
}

function spec(v: Variant, measure: Measure, dataDir: string, port: number, hub: SharedHub): ServiceSpec {
  const common = { host: HOST, port, logFile: join(dataDir, 'service.log') };
  // A bundle runs as the services image runs it: with no compile cache directory of Node's (a bundle
  // brings its own code cache, where it has one), unless asked.
  const image: Record<string, string> =
    v.form === 'bundle' && !BUNDLE_COMPILE_CACHE ? { NODE_DISABLE_COMPILE_CACHE: '1' } : {};
  if (measure === 'national hub') {
    return {
      ...common,
      name: 'hub',
      label: 'national hub',
      entry: entry(v, 'national-hub'),
      env: { PORT: String(port), HOST, IMAGING_DATA_DIR: dataDir, ...image },
    };
  }
  return {
    ...common,
    name: 'north',
    label: 'north gateway',
    entry: entry(v, 'regional-gateway'),
    // The shared hub's keys; a fresh store of its own.
    env: {
      REGION_ID: 'north',
      PORT: String(port),
      HOST,
      HUB_URL: hub.url,
      IMAGING_DATA_DIR: hub.dataDir,
      GATEWAY_STORE: join(dataDir, 'fhir.sqlite'),
      ...image,
    },
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

async function validate(url: string, token: string, resource: unknown): Promise<void> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/fhir+json' },
    body: JSON.stringify(resource),
  });
  const text = await res.text();
  if (res.status !== 200) throw new Error(`${url}: ${res.status} ${text.slice(0, 300)}`);
}

/** The service's first real request, in ms (see the header). */
async function firstRequest(
  measure: Measure,
  service: ServiceProcess,
  dataDir: string,
  hub: SharedHub,
): Promise<number> {
  if (measure === 'national hub') {
    const began = performance.now();
    const tokens = await devTokenSource('gateway-north', { hubUrl: service.baseUrl, dataDir });
    await validate(`${service.baseUrl}/fhir/Organization/$validate`, await tokens.getToken(), exampleOrganization());
    return performance.now() - began;
  }
  const token = await (await devTokenSource('gp-n81001', { hubUrl: hub.url, dataDir: hub.dataDir })).getToken();
  const began = performance.now();
  await validate(`${service.baseUrl}/fhir/ServiceRequest/$validate`, token, exampleServiceRequest());
  return performance.now() - began;
}

interface StartUp {
  /** Spawn to first 200 on /health, ms. */
  start: number;
  /** CPU the process used until then, ms. */
  cpu: number | undefined;
  /** The first real request, ms. */
  first: number;
  /** The hub only: spawn to /health again, on the store the first start left (its directory seeded). */
  restart?: number;
}

async function launchUntilHealthy(service: ServiceProcess): Promise<{ start: number; cpu: number | undefined }> {
  const began = performance.now();
  await service.launch();
  await untilHealthy(`${service.baseUrl}/health`, service);
  return { start: performance.now() - began, cpu: cpuTimeMs(service.pid) };
}

/** A start on a fresh data dir, the first request, and for the hub a restart on the same store. */
async function startUp(v: Variant, measure: Measure, hub: SharedHub): Promise<StartUp> {
  const dataDir = mkdtempSync(join(tmpdir(), 'startup-bench-'));
  try {
    await ensureDevCredentials(devTopology(), dataDir);
    const service = new ServiceProcess(spec(v, measure, dataDir, await freePort(HOST), hub));
    try {
      const { start, cpu } = await launchUntilHealthy(service);
      const first = await firstRequest(measure, service, dataDir, hub);
      if (measure !== 'national hub') return { start, cpu, first };
      await service.stop();
      return { start, cpu, first, restart: (await launchUntilHealthy(service)).start };
    } finally {
      await service.stop();
    }
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
}

/**
 * `loadFhirDefinitions()` alone, in a fresh process (imports excluded), in ms. For a bundle, the same
 * function run beside the bundle's snapshot, then every part of it read (a snapshot may be read part by
 * part, as parts are first used: this is all of it, not what a start reads).
 */
function loadDefinitions(v: Variant): number {
  const definitions = join(v.checkout, 'packages/fhir/src/definitions.ts');
  const snapshot = join(v.checkout, 'services/regional-gateway/dist/fhir-definitions.v8');
  const script =
    v.form === 'bundle'
      ? `
    import { getAllDataTypes, globalSchema } from '@medplum/core';
    import { installDefinitionsSnapshot, readDefinitionsSnapshot } from ${JSON.stringify(definitions.replace(/definitions\.ts$/, 'definitions-snapshot.ts'))};
    const began = performance.now();
    const snapshot = readDefinitionsSnapshot(${JSON.stringify(snapshot)});
    installDefinitionsSnapshot(snapshot);
    for (const lookUp of [getAllDataTypes(), globalSchema.types]) for (const name of Object.keys(lookUp)) lookUp[name];
    snapshot.terminology;
    console.log(performance.now() - began);`
      : `
    import { loadFhirDefinitions } from ${JSON.stringify(definitions)};
    const began = performance.now();
    loadFhirDefinitions();
    console.log(performance.now() - began);`;
  // Run in packages/fhir, where @medplum/core resolves.
  return Number(
    execFileSync(process.execPath, ['--input-type=module', '-e', script], {
      cwd: join(v.checkout, 'packages/fhir'),
      encoding: 'utf8',
    }),
  );
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

const hubDir = mkdtempSync(join(tmpdir(), 'startup-bench-hub-'));
await ensureDevCredentials(devTopology(), hubDir);
const hubPort = await freePort(HOST);
const sharedHub = new ServiceProcess({
  name: 'hub',
  label: 'shared national hub',
  entry: join(THIS_CHECKOUT, 'services/national-hub/src/main.ts'),
  env: { PORT: String(hubPort), HOST, IMAGING_DATA_DIR: hubDir },
  host: HOST,
  port: hubPort,
  logFile: join(hubDir, 'service.log'),
});
await sharedHub.start();
const hub: SharedHub = { url: sharedHub.baseUrl, dataDir: hubDir };

const loadAtStart = loadavg();
const times = new Map<string, number[]>();
const record = (key: string, ms: number) => times.set(key, [...(times.get(key) ?? []), ms]);
try {
  // One uncounted start per variant and service fills Node's compile cache, as any earlier start would.
  for (const v of variants) for (const measure of MEASURES.slice(0, 2)) await startUp(v, measure, hub);
  for (let run = 0; run < RUNS; run++) {
    // Alternate the order each run too, so no variant always goes first.
    const order = run % 2 ? [...variants].reverse() : variants;
    for (const measure of MEASURES) {
      for (const v of order) {
        if (measure === 'loadFhirDefinitions()') {
          record(`${measure}\0${v.label}`, loadDefinitions(v));
        } else {
          const { start, cpu, first, restart } = await startUp(v, measure, hub);
          record(`${measure}\0${v.label}`, start);
          if (cpu !== undefined) record(`${measure}: CPU to /health\0${v.label}`, cpu);
          record(`${measure}: first request\0${v.label}`, first);
          if (restart !== undefined) record(`${measure}: restart\0${v.label}`, restart);
        }
      }
    }
    process.stderr.write(`run ${run + 1}/${RUNS}\n`);
  }
} finally {
  await sharedHub.stop();
  rmSync(hubDir, { recursive: true, force: true });
}

const rows = MEASURES.flatMap((m) =>
  m === 'loadFhirDefinitions()'
    ? [m]
    : [m, `${m}: CPU to /health`, `${m}: first request`, ...(m === 'national hub' ? [`${m}: restart`] : [])],
).filter((row) => variants.some((v) => times.has(`${row}\0${v.label}`)));
console.log(
  `median of ${RUNS} runs, ms (min–max); load average ${loadAtStart.map((l) => l.toFixed(1)).join(' ')} at start, ` +
    `${loadavg()
      .map((l) => l.toFixed(1))
      .join(' ')} at end`,
);
console.log(`${''.padEnd(34)} ${variants.map((v) => v.label.padEnd(20)).join(' ')}`);
for (const row of rows) {
  const lists = variants.map((v) => times.get(`${row}\0${v.label}`) ?? []);
  const medians = lists.map(median);
  const cells = lists.map((list, i) =>
    `${(medians[i] as number).toFixed(0)} (${Math.min(...list).toFixed(0)}–${Math.max(...list).toFixed(0)})`.padEnd(20),
  );
  const ratio =
    variants.length > 1 ? `  first/last ${((medians[0] as number) / (medians.at(-1) as number)).toFixed(2)}` : '';
  console.log(`${row.padEnd(34)} ${cells.join(' ')}${ratio}`);
}
console.log(`checkouts: ${checkouts.join(', ')}`);
