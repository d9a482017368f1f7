import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { ensureDevCredentials } from '@imaging/auth';
import { devTopology } from '@imaging/config';
import type { Topology } from '@imaging/config';
import { randomTestNhsNumber } from '@imaging/fhir';
import type { ServiceSpec } from '@imaging/service-process';
import { freePortBase as freeServicePortBase } from '@imaging/service-process';
import type { DemoOptions } from './options.ts';
import { DEFAULT_PORT_BASE } from './options.ts';

export const REPO_ROOT = resolve(import.meta.dirname, '../../..');
const MARKER = '.imaging-demo';

export type ServiceName = 'hub' | 'north' | 'midlands' | 'south';
export const REGIONS = ['north', 'midlands', 'south'] as const;

/** The demo's topology: the development one, moved to the chosen ports. */
export function demoTopology(options: Pick<DemoOptions, 'host' | 'portBase'>): Topology {
  return devTopology(options.host, { portOffset: options.portBase - DEFAULT_PORT_BASE });
}

/**
 * Empties the data dir for a fresh run. A directory the demo did not make (no marker file) is only
 * used when it is empty: the demo never deletes anything it did not create.
 */
export function prepareDataDir(dataDir: string): void {
  if (existsSync(dataDir) && readdirSync(dataDir).length > 0) {
    if (!existsSync(join(dataDir, MARKER))) {
      throw new Error(
        `${dataDir} is not empty and was not made by the demo: choose another --data-dir (the demo wipes it at start)`,
      );
    }
    rmSync(dataDir, { recursive: true, force: true });
  }
  mkdirSync(join(dataDir, 'logs'), { recursive: true, mode: 0o700 });
  writeFileSync(join(dataDir, MARKER), 'Made by the imaging-connect demo; wiped at the start of each run.\n');
}

export function topologyFile(dataDir: string): string {
  return join(dataDir, 'topology.json');
}

/**
 * A data dir ready for the services to start: emptied (prepareDataDir), the topology written where they
 * read it, and the development keys and client registry made.
 */
export async function prepareWorld(dataDir: string, topology: Topology): Promise<void> {
  prepareDataDir(dataDir);
  writeFileSync(topologyFile(dataDir), `${JSON.stringify(topology, null, 2)}\n`);
  await ensureDevCredentials(topology, dataDir);
}

/** A prepared world in a new temporary dir, on free ports (for the benchmarks and the replica race). */
export async function freshWorld(
  prefix: string,
): Promise<{ dataDir: string; options: DemoOptions; topology: Topology }> {
  const dataDir = mkdtempSync(join(tmpdir(), prefix));
  const options: DemoOptions = {
    explore: false,
    scenario: false,
    dataDir,
    host: '127.0.0.1',
    portBase: await freePortBase(),
  };
  const topology = demoTopology(options);
  await prepareWorld(dataDir, topology);
  return { dataDir, options, topology };
}

export function storeLocations(
  options: Pick<DemoOptions, 'hapiUrl'>,
  dataDir: string,
): { hub: string; regions: Record<string, string> } {
  const at = (name: string) => (options.hapiUrl ? `${options.hapiUrl}/${name}` : join(dataDir, name, 'fhir.sqlite'));
  return { hub: at('hub'), regions: Object.fromEntries(REGIONS.map((r) => [r, at(r)])) };
}

/**
 * Delivery timings for the demo: a region coming back is noticed within a second, and a delivery
 * claimed by a gateway that crashed is taken over after two. (Production keeps the gateway's
 * defaults: 1 s backoff doubling to 60 s, 30 s lease.)
 */
export const DEMO_DELIVERY = {
  DELIVERY_INTERVAL: '200ms',
  DELIVERY_BASE_BACKOFF: '250ms',
  DELIVERY_MAX_BACKOFF: '1s',
  DELIVERY_LEASE: '2s',
} as const;

/** The demo's ports, as offsets from its port base: the hub, the flow view, the three gateways. */
export const DEMO_PORT_OFFSETS = [0, 100, 101, 102, 103] as const;

/** A port base whose demo ports are all free now (for tests, benchmarks and the conformance suite). */
export function freePortBase(host = '127.0.0.1'): Promise<number> {
  return freeServicePortBase(DEMO_PORT_OFFSETS, host);
}

/**
 * The clinical safety scene's windows, short so that an alert is missed, escalated and answered within
 * seconds: a CRITICAL alert is due 10 s after its report is issued, each escalation step waits 30 s, and the
 * safety job looks every second. Long enough on HAPI FHIR too, where every hop is slower: the alert must
 * reach the north and be seen there before it is due, and be answered before its next step. Other
 * categories keep the gateway's defaults (the pathway's CANCER alert is due in 7 days).
 */
export const DEMO_SAFETY = {
  criticalAcknowledgementMs: 10_000,
  criticalStepMs: 30_000,
  safetyIntervalMs: 1_000,
} as const;

const DEMO_SAFETY_ENV = {
  ALERT_ACK_WINDOWS: `CRITICAL=${DEMO_SAFETY.criticalAcknowledgementMs / 1000}s`,
  ESCALATION_STEP: `CRITICAL=${DEMO_SAFETY.criticalStepMs / 1000}s`,
  SAFETY_INTERVAL: `${DEMO_SAFETY.safetyIntervalMs / 1000}s`,
} as const;

/** Said when one of the demo's ports is taken. */
const PORT_ADVICE = 'or run the demo on other ports with --port-base <n>';

export function serviceSpecs(options: DemoOptions, topology: Topology): Record<ServiceName, ServiceSpec> {
  const { dataDir, host } = options;
  const stores = storeLocations(options, dataDir);
  const log = (name: string) => join(dataDir, 'logs', `${name}.log`);
  const gateway = (id: (typeof REGIONS)[number]): ServiceSpec => {
    const region = topology.regions.find((r) => r.id === id);
    if (!region) throw new Error(`the topology has no region ${id}`);
    return {
      name: id,
      label: `${id} gateway`,
      entry: join(REPO_ROOT, 'services/regional-gateway/src/main.ts'),
      host,
      port: region.port,
      logFile: log(id),
      portAdvice: PORT_ADVICE,
      env: {
        REGION_ID: id,
        SERVICE_ID: region.serviceId,
        PORT: String(region.port),
        HOST: host,
        HUB_URL: topology.hub.url,
        GATEWAY_STORE: stores.regions[id] as string,
        // No PAGE_TOKEN_SECRET: each service keeps its own in the data dir (its default), so page links
        // outlive a restart of one service, by the demo or by hand.
        IMAGING_DATA_DIR: dataDir,
        ...DEMO_DELIVERY,
        ...DEMO_SAFETY_ENV,
      },
    };
  };
  return {
    hub: {
      name: 'hub',
      label: 'national hub',
      entry: join(REPO_ROOT, 'services/national-hub/src/main.ts'),
      host,
      port: topology.hub.port,
      logFile: log('hub'),
      portAdvice: PORT_ADVICE,
      env: {
        PORT: String(topology.hub.port),
        HOST: host,
        HUB_STORE: stores.hub,
        TOPOLOGY_FILE: topologyFile(dataDir),
        IMAGING_DATA_DIR: dataDir,
        FORWARD_TIMEOUT: '5s',
      },
    },
    north: gateway('north'),
    midlands: gateway('midlands'),
    south: gateway('south'),
  };
}

/**
 * Business identifiers for this run. They are unique per run, so the same scenario can run again on a
 * HAPI server that keeps its data (the embedded stores start empty every run).
 */
export interface RunIds {
  stamp: string;
  nhsNumber: string;
  placer(n: number): string;
  caseId(n: number): string;
  studyUid: string;
  accession: string;
  report: string;
  /** The clinician's look-up of priors is a case of its own. */
  priorCase: string;
}

export function runIds(now: Date = new Date()): RunIds {
  const stamp = String(Math.floor(now.getTime() / 1000) % 1_000_000).padStart(6, '0');
  const placer = (n: number) => `N81001-${stamp}-${n}`;
  return {
    stamp,
    nhsNumber: randomTestNhsNumber(),
    placer,
    caseId: (n) => `case-${placer(n)}`,
    // A UUID-derived UID (DICOM PS3.5 §B.2): 2.25 followed by the UUID as one decimal number.
    studyUid: `2.25.${BigInt(`0x${randomUUID().replaceAll('-', '')}`).toString()}`,
    accession: `RM1-ACC-${stamp}-1`,
    report: `RM1-REP-${stamp}-1`,
    priorCase: `case-prior-${stamp}`,
  };
}
