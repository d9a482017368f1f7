import { rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Topology } from '@imaging/config';
import { loadFhirDefinitions } from '@imaging/fhir';
import { cpuTimeMs, ServiceProcess } from '@imaging/service-process';
import { freshWorld, serviceSpecs, storeLocations } from '@imaging/demo/world';
import { preloadHistory } from './history.ts';
import { REPO_ROOT } from './report.ts';

/** The services a cross-region benchmark runs: the hub and the two gateways an order crosses. */
export type BenchService = 'hub' | 'north' | 'midlands';
const SERVICES: BenchService[] = ['hub', 'north', 'midlands'];

export interface TopologyOptions {
  /** Tasks of history written into each gateway's store before it starts. */
  history: number;
  /** Extra environment for every service (e.g. NODE_OPTIONS=--cpu-prof). */
  env?: Record<string, string>;
  /** Keep the data dir (stores, logs) after stopping; default: removed. */
  keep?: boolean;
  /** Run each service under `node --cpu-prof`, its profile written to `<dataDir>/profiles` (kept). */
  profile?: boolean;
  /** Run the services from another checkout (a baseline to compare with); default this one. */
  sourceRoot?: string;
  /** A FHIR base (a HAPI partition) for a service's store instead of its embedded one; no history then. */
  stores?: Partial<Record<BenchService, string>>;
  /** Delivery settings for the gateways (`DELIVERY_INTERVAL`…); default the gateways' production ones. */
  delivery?: Record<string, string>;
}

/**
 * The hub and the north and midlands gateways as real processes on 127.0.0.1, with real tokens, their
 * own embedded stores in a temporary data dir and free ports: the demo's topology, without the demo.
 */
export interface BenchTopology {
  topology: Topology;
  dataDir: string;
  services: Record<BenchService, ServiceProcess>;
  /** Each service's embedded store file. */
  storePath: Record<BenchService, string>;
  /** CPU seconds (user + system) each service has used so far. */
  cpuSeconds(): Record<BenchService, number>;
  stop(): Promise<void>;
}

export async function startBenchTopology(options: TopologyOptions): Promise<BenchTopology> {
  const { dataDir, options: demoOptions, topology } = await freshWorld('imaging-bench-');
  const locations = storeLocations({}, dataDir);
  const storePath: Record<BenchService, string> = {
    hub: options.stores?.hub ?? locations.hub,
    north: options.stores?.north ?? (locations.regions.north as string),
    midlands: options.stores?.midlands ?? (locations.regions.midlands as string),
  };
  if (options.stores && options.history > 0) throw new Error('history is preloaded into embedded stores only');
  loadFhirDefinitions();
  if (options.history > 0) {
    await preloadHistory(storePath.north, options.history, 'imaging-midlands');
    await preloadHistory(storePath.midlands, options.history, 'imaging-north');
  }
  const specs = serviceSpecs(demoOptions, topology);
  const services = Object.fromEntries(
    SERVICES.map((name) => {
      const spec = specs[name];
      // The gateways' production delivery timings, not the demo's quicker ones.
      const {
        DELIVERY_INTERVAL: _i,
        DELIVERY_BASE_BACKOFF: _b,
        DELIVERY_MAX_BACKOFF: _m,
        DELIVERY_LEASE: _l,
        ...env
      } = spec.env;
      const profile: Record<string, string> = options.profile
        ? { NODE_OPTIONS: `--cpu-prof --cpu-prof-dir=${join(dataDir, 'profiles')} --cpu-prof-name=${name}.cpuprofile` }
        : {};
      const entry = options.sourceRoot ? spec.entry.replace(REPO_ROOT, options.sourceRoot) : spec.entry;
      const store: Record<string, string> = options.stores?.[name]
        ? { [name === 'hub' ? 'HUB_STORE' : 'GATEWAY_STORE']: storePath[name] }
        : {};
      return [
        name,
        new ServiceProcess({
          ...spec,
          entry,
          env: { ...env, ...options.delivery, ...store, ...profile, ...options.env },
        }),
      ];
    }),
  ) as Record<BenchService, ServiceProcess>;
  const stop = async () => {
    await Promise.all(SERVICES.map((name) => services[name].stop().catch(() => undefined)));
    if (!options.keep && !options.profile) rmSync(dataDir, { recursive: true, force: true });
  };
  try {
    for (const name of SERVICES) await services[name].launch();
    await Promise.all(SERVICES.map((name) => services[name].waitHealthy()));
  } catch (err) {
    await stop();
    throw err;
  }
  return {
    topology,
    dataDir,
    services,
    storePath,
    cpuSeconds: () =>
      Object.fromEntries(SERVICES.map((name) => [name, (cpuTimeMs(services[name].pid) ?? 0) / 1000])) as Record<
        BenchService,
        number
      >,
    stop,
  };
}
