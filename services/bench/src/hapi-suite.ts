import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { resolveTarget } from '@imaging/conformance';
import { allowedCpus, pinProcess, splitCpus } from './cpu-split.ts';
import type { CpuSplit } from './cpu-split.ts';
import { printGatewayVsDirect, runGatewayVsDirect, runHapiLatency } from './hapi.ts';
import type { GatewayVsDirectResult } from './hapi.ts';
import type { LatencyResult } from './latency.ts';
import { loadAverage } from './report.ts';
import { prepareBaseline } from './baseline.ts';

export interface HapiSuiteOptions {
  /** A HAPI root (partitions are made for each run); when absent, HAPI is started per database. */
  hapiUrl?: string;
  databases: ('h2' | 'postgres')[];
  tiny: boolean;
  /** Orders per round (default 200). */
  orders?: number;
  /** Rounds per side (default 3). */
  rounds?: number;
  /** A git ref whose gateway is measured the same way first, for before/after. */
  baseline?: string;
  /** Run the services of the gateway-against-direct rounds under `node --cpu-prof`. */
  profile?: boolean;
  /**
   * HAPI on the last CPU, the services, clients and proxy on the others (the HAPI the suite starts only):
   * HAPI's throughput then no longer pays for the services' CPU, as on hosts of their own.
   */
  splitCores?: boolean;
}

export interface HapiSuiteRun {
  /** `given` for a HAPI passed in, else the database the started HAPI stored in. */
  database: string;
  server: string;
  /** This checkout's gateway, and the baseline's when one was given. */
  gatewayVsDirect: (GatewayVsDirectResult & { version: string })[];
  latency: LatencyResult;
  /** With `splitCores`: the CPUs HAPI ran on, and those the services, clients and proxy ran on. */
  cpus?: { hapi: string; services: string };
}

/**
 * HAPI FHIR, started as the conformance suite starts it (the launcher jar on a free port, in-memory H2
 * or a fresh database on the machine's PostgreSQL), or given: the gateway against direct HAPI on the
 * same transactions, then cross-region delivery latency with every service storing in HAPI.
 */
export async function runHapiSuite(options: HapiSuiteOptions): Promise<HapiSuiteRun[]> {
  const runs: HapiSuiteRun[] = [];
  const targets = options.hapiUrl ? ['given' as const] : options.databases;
  for (const database of targets) {
    const workDir = mkdtempSync(join(tmpdir(), 'imaging-bench-hapi-'));
    const log = (line: string) => console.log(line.replace(/^conformance: /, 'bench: '));
    const target = await resolveTarget({
      ...(database === 'given' ? { given: options.hapiUrl as string } : { database }),
      mode: 'jar',
      runId: `bench-${process.pid}-${Date.now()}`,
      workDir,
      log,
    });
    // This process's own CPUs, given back when the suite ends.
    const ownCpus = allowedCpus(process.pid);
    let split: CpuSplit | undefined;
    try {
      if (options.splitCores) split = pinApart(target.pid, database, log);
      const root = target.info.root;
      const baseline = options.baseline ? prepareBaseline(options.baseline) : undefined;
      const versions = baseline ? [{ label: `before (${baseline.commit.slice(0, 7)})`, root: baseline.root }] : [];
      const gatewayVsDirect: (GatewayVsDirectResult & { version: string })[] = [];
      for (const version of [...versions, { label: 'this checkout', root: undefined }]) {
        const load = loadAverage();
        const result = await runGatewayVsDirect(root, {
          orders: options.tiny ? 10 : (options.orders ?? 100),
          clients: 8,
          rounds: options.tiny ? 1 : (options.rounds ?? 3),
          sequential: options.tiny ? 2 : 10,
          ...(target.pid === undefined ? {} : { serverPid: target.pid }),
          ...(version.root ? { sourceRoot: version.root } : {}),
          ...(options.profile ? { profile: true } : {}),
        });
        if (result.dataDir) log(`bench: the services' profiles are in ${join(result.dataDir, 'profiles')}`);
        printGatewayVsDirect(
          `HAPI (${database}), ${version.label}: the north gateway on HAPI against direct HAPI`,
          result,
          load,
        );
        gatewayVsDirect.push({ version: version.label, ...result });
      }
      const latency = await runHapiLatency(root, { ratePerSecond: 5, seconds: options.tiny ? 1 : 30 });
      runs.push({
        database,
        server: target.info.detail,
        gatewayVsDirect,
        latency,
        ...(split ? { cpus: { hapi: split.server, services: split.rest } } : {}),
      });
    } finally {
      await target.stop();
      rmSync(workDir, { recursive: true, force: true });
      if (split) pinProcess(process.pid, ownCpus);
    }
  }
  return runs;
}

/**
 * Pins the HAPI the suite started to the last CPU, and this process (the clients and the proxy) to the
 * others; the services it starts from now on inherit that.
 */
function pinApart(hapiPid: number | undefined, database: string, log: (line: string) => void): CpuSplit {
  if (hapiPid === undefined) throw new Error('--split-cores pins the HAPI the suite starts: it cannot pin a given one');
  const split = splitCpus(cpus().length);
  pinProcess(hapiPid, split.server);
  pinProcess(process.pid, split.rest);
  const unpinned = database === 'postgres' ? " (PostgreSQL's own processes are not pinned)" : '';
  log(`bench: HAPI pinned to CPU ${split.server}, the services, clients and proxy to CPU ${split.rest}${unpinned}`);
  return split;
}
