import { createAccessTokenVerifier, devTokenSource, loadDevHubKey } from '@imaging/auth';
import type { Topology } from '@imaging/config';
import { backgroundCreates, memoryLogger, observedStore, SqliteStore, validatingStore } from '@imaging/fhir';
import type { BackgroundCreates, FhirStore } from '@imaging/fhir';
import { pageTokens } from '@imaging/fhir-http';
import type { Hono } from 'hono';
// The real hub (its test kit is a devDependency of this package).
import { createTestHub, tempDataDir } from '@imaging/national-hub/testing';
import { createHubClient } from '../adapters/hub-client.ts';
import { createApp } from '../app.ts';
import type { AppEnv } from '../deps.ts';
import { patientCache } from '../domain/patient-cache.ts';
import type { AlertSettings, GatewayDeps } from '../domain/ports.ts';
import { DEFAULT_ALERTS, DEFAULT_DELIVERY, DEFAULT_TURNAROUND } from '../domain/ports.ts';
import { devNotifications } from '../adapters/dev-notifications.ts';
import type { GatewayFlow } from '../flow.ts';
import { createGatewayFlow } from '../flow.ts';
import type { TestClock } from './regions.ts';
import { testClock } from './regions.ts';

/** One region of a connected topology: the gateway's domain deps and its app. */
export interface ConnectedRegion {
  deps: GatewayDeps;
  app: Hono<AppEnv>;
  /** The records of reads, stored only when a test flushes them (no timer). */
  disclosures: BackgroundCreates;
}

export interface ConnectedOptions {
  clock?: TestClock;
  /** Default: the dev topology. Its regions get a gateway each; its clients get dev keys. */
  topology?: Topology;
  /** The store of the hub (`hub`) or of a region's gateway (its id), unvalidated; default in memory. */
  store?: (service: string) => FhirStore;
  /** False builds every gateway with its clinical safety layer off (GatewayDeps.safety): for tests only. */
  safety?: boolean;
  /** Every gateway's alert settings; default DEFAULT_ALERTS. */
  alerts?: AlertSettings;
  /** Gives every gateway the flow view's event feed (`GET /events`), fed by its store, as deps.ts does. */
  flow?: boolean;
}

/**
 * The real hub and a real gateway app for every region of the topology, in one process: one
 * in-process "network" answers at each service's URL through `app.request`, every call carries a real
 * token (gateways' from their dev keys, the hub's own), and each gateway reaches the hub through its
 * real hub client. `answer` makes a region's gateway answer the hub with a fixed response instead (a
 * receiver that refuses or fails); `down` makes it unreachable. Call `close` in afterAll.
 */
export async function connectedRegions(options: ConnectedOptions = {}) {
  const clock = options.clock ?? testClock();
  const storeOf = options.store ?? (() => new SqliteStore({ path: ':memory:' }));
  const data = tempDataDir();
  const apps = new Map<string, { request: (url: string, init?: RequestInit) => Response | Promise<Response> }>();
  const answers = new Map<string, () => Response>();
  const down = new Set<string>();
  /** Every call made on the network, as `METHOD host/path`, so a test can tell what reached whom. */
  const calls: string[] = [];
  const network = async (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
    const url = new URL(input instanceof Request ? input.url : String(input));
    calls.push(`${init?.method ?? 'GET'} ${url.host}${url.pathname}`);
    const answer = answers.get(url.host);
    if (answer) return answer();
    const app = apps.get(url.host);
    if (!app || down.has(url.host)) throw new TypeError('fetch failed', { cause: { code: 'ECONNREFUSED' } });
    return app.request(url.toString(), init);
  };
  const hub = await createTestHub({
    dataDir: data.dir,
    fetch: network as typeof fetch,
    store: storeOf('hub'),
    ...(options.topology ? { topology: options.topology } : {}),
  });
  apps.set(new URL(hub.publicUrl).host, hub.app);
  const hubKey = await loadDevHubKey(data.dir);
  const sourceOptions = { hubUrl: hub.publicUrl, dataDir: data.dir, fetch: network };

  const regions: Record<string, ConnectedRegion> = {};
  const flows: GatewayFlow[] = [];
  for (const region of hub.topology.regions) {
    const validated = validatingStore(storeOf(region.id));
    const logger = memoryLogger();
    const identity = { regionId: region.id, serviceId: region.serviceId, fhirBaseUrl: `${region.url}/fhir` };
    const flow = options.flow ? createGatewayFlow({ store: validated, region: identity, clock, logger }) : undefined;
    if (flow) flows.push(flow);
    const store = flow ? observedStore(validated, flow.onChange) : validated;
    const deps: GatewayDeps = {
      store,
      hub: createHubClient({
        hubUrl: hub.publicUrl,
        tokenSource: await devTokenSource(`gateway-${region.id}`, sourceOptions),
        fetch: network as typeof fetch,
      }),
      clock,
      logger,
      region: identity,
      delivery: DEFAULT_DELIVERY,
      alerts: options.alerts ?? DEFAULT_ALERTS,
      turnaround: DEFAULT_TURNAROUND,
      notifications: devNotifications({ store, logger, clock }),
      patients: patientCache(),
      ...(options.safety === false ? { safety: false } : {}),
    };
    const disclosures = backgroundCreates(store, { logger, what: 'disclosures', intervalMs: 0 });
    const app = createApp({
      ...deps,
      disclosures,
      ...(flow ? { flow } : {}),
      hubUrl: hub.publicUrl,
      verifier: createAccessTokenVerifier({ keys: [hubKey.publicJwk], issuer: hub.publicUrl }),
      pageTokens: pageTokens('test-page-secret'),
    });
    regions[region.id] = { deps, app, disclosures };
    apps.set(new URL(region.url).host, app);
  }
  const region = (id: string): ConnectedRegion => {
    const found = regions[id];
    if (!found) throw new Error(`no region ${id}`);
    return found;
  };
  const hostOf = (id: string) => new URL(region(id).deps.region.fhirBaseUrl).host;

  return {
    hub,
    clock,
    calls,
    /** The calls that reached a region's `$process-message`. */
    deliveriesTo: (regionId: string) => calls.filter((c) => c === `POST ${hostOf(regionId)}/fhir/$process-message`),
    north: region('north'),
    midlands: region('midlands'),
    south: region('south'),
    /** A real token for a dev client (a gateway, the GP, the RIS…), from the hub's token endpoint. */
    tokenFor: (clientId: string) => hub.tokenFor(clientId),
    /** The hub's own service token, as it sends with every message it delivers. */
    hubToken: hub.hubToken,
    /** Every region's gateway, by region id. */
    regions,
    /** Makes a region's gateway answer every call with this response (undefined: answer normally again). */
    answer(regionId: string, response: (() => Response) | undefined) {
      if (response) answers.set(hostOf(regionId), response);
      else answers.delete(hostOf(regionId));
    },
    /** Makes a region's gateway unreachable (or reachable again). */
    setDown(regionId: string, isDown: boolean) {
      if (isDown) down.add(hostOf(regionId));
      else down.delete(hostOf(regionId));
    },
    /** The in-process network, and the data dir holding every dev key: for clients of the topology. */
    fetch: network as typeof fetch,
    dataDir: data.dir,
    close: () => {
      for (const flow of flows) flow.close();
      data.remove();
    },
  };
}

export type ConnectedRegions = Awaited<ReturnType<typeof connectedRegions>>;
