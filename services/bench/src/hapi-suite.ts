import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resolveTarget } from '@imaging/conformance';
import { printGatewayVsDirect, runGatewayVsDirect, runHapiLatency } from './hapi.ts';
import type { GatewayVsDirectResult } from './hapi.ts';
import type { LatencyResult } from './latency.ts';
import { loadAverage } from './report.ts';

export interface HapiSuiteOptions {
  /** A HAPI root (partitions are made for each run); when absent, HAPI is started per database. */
  hapiUrl?: string;
  databases: ('h2' | 'postgres')[];
  tiny: boolean;
  /** Orders per round (default 200). */
  orders?: number;
  /** Rounds per side (default 3). */
  rounds?: number;
}

export interface HapiSuiteRun {
  /** `given` for a HAPI passed in, else the database the started HAPI stored in. */
  database: string;
  server: string;
  gatewayVsDirect: GatewayVsDirectResult;
  latency: LatencyResult;
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
    try {
      const root = target.info.root;
      const load = loadAverage();
      const gatewayVsDirect = await runGatewayVsDirect(root, {
        orders: options.tiny ? 10 : (options.orders ?? 200),
        clients: 8,
        rounds: options.tiny ? 1 : (options.rounds ?? 3),
        sequential: options.tiny ? 2 : 10,
      });
      printGatewayVsDirect(`HAPI (${database}): the north gateway on HAPI against direct HAPI`, gatewayVsDirect, load);
      const latency = await runHapiLatency(root, { ratePerSecond: 5, seconds: options.tiny ? 1 : 60 });
      runs.push({ database, server: target.info.detail, gatewayVsDirect, latency });
    } finally {
      await target.stop();
      rmSync(workDir, { recursive: true, force: true });
    }
  }
  return runs;
}
