import { devTopology, parseTopology } from '@imaging/config';
import type { Topology } from '@imaging/config';
import { freePort } from '@imaging/service-process';
import type { FhirClient } from '@imaging/simulators';
import { devClient } from '@imaging/simulators';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { recordingFetch } from '../record/exchange.ts';
import type { ActorRole, SuiteOptions } from '../suite/meta.ts';
import { REPO_ROOT } from '../server/hapi-jar.ts';
import { GatewayProcess } from './gateway-process.ts';
import { startStandInHub } from './stand-in-hub.ts';
import type { StandInHub } from './stand-in-hub.ts';

/**
 * The two regions of the actor tests: the referrer's (north: GP practice N81001, client gp-n81001) and
 * the imaging provider's (midlands: RM1, client ris-rm1). The system under test takes one of them;
 * our own gateway, run by the suite, is the other (the peer). The suite's hub joins them.
 */
export const REGION_OF: Record<ActorRole, 'north' | 'midlands'> = { referrer: 'north', 'imaging-provider': 'midlands' };
export const PEER_OF: Record<ActorRole, 'north' | 'midlands'> = { referrer: 'midlands', 'imaging-provider': 'north' };
export const REFERRER = { ods: 'N81001', client: 'gp-n81001' } as const;
export const PROVIDER = { ods: 'RM1', client: 'ris-rm1' } as const;

/**
 * Dev keys for runs against a vendor's system: kept from run to run, so the vendor's system can be set
 * up once with the private key of its gateway client (or it publishes its own keys: --sut-jwks-uri).
 */
export const VENDOR_KEYS_DIR = join(REPO_ROOT, '.data', 'conformance-keys');

export interface RegionUnderTest {
  regionId: 'north' | 'midlands';
  serviceId: string;
  /** Its FHIR base, e.g. `http://127.0.0.1:41234/fhir`. */
  fhirBase: string;
  /** The gateway process, when it is ours. */
  process?: GatewayProcess;
}

export interface ActorWorld {
  role: ActorRole;
  topology: Topology;
  hub: StandInHub;
  /** The system under test: a vendor's (given) or our own gateway (started here). */
  sut: RegionUnderTest & { ours: boolean };
  peer: RegionUnderTest;
  /** Where the dev keys (and clients.json) are. */
  keysDir: string;
  /** FHIR clients, each with its own dev key and hub tokens: the GP at the referrer's region, the RIS at the provider's. */
  referrer: FhirClient;
  provider: FhirClient;
  dataDir: string;
  stop(): Promise<void>;
}

/** The development topology with two regions, the hub and the two regions placed where this run has them. */
export function actorTopology(hubUrl: string, regionUrls: Record<'north' | 'midlands', string>): Topology {
  const dev = devTopology();
  const regions = dev.regions.filter((r) => r.id === 'north' || r.id === 'midlands');
  const port = (url: string) => Number(new URL(url).port || (url.startsWith('https:') ? 443 : 80));
  return parseTopology({
    hub: { url: hubUrl, port: port(hubUrl) },
    regions: regions.map((r) => ({
      ...r,
      url: regionUrls[r.id as 'north' | 'midlands'],
      port: port(regionUrls[r.id as 'north' | 'midlands']),
    })),
    organisations: dev.organisations.filter((o) => o.region === 'north' || o.region === 'midlands'),
    clients: dev.clients.filter((c) => c.region === 'north' || c.region === 'midlands'),
  });
}

/** A vendor's FHIR base must end in /fhir: the directory publishes `<region url>/fhir`. */
export function regionUrlOf(fhirBase: string): string {
  const base = fhirBase.replace(/\/+$/, '');
  if (!base.endsWith('/fhir'))
    throw new Error(
      `the system under test's base URL must end in /fhir (the hub's directory publishes <region url>/fhir), not ${fhirBase}`,
    );
  return base.slice(0, -'/fhir'.length);
}

/** Starts the hub, the peer gateway and (unless a vendor's is given) the gateway under test. */
export async function startActorWorld(role: ActorRole, options: SuiteOptions): Promise<ActorWorld> {
  const dataDir = join(options.workDir, `actor-${role}`);
  mkdirSync(join(dataDir, 'logs'), { recursive: true, mode: 0o700 });
  const vendor = options.actorTarget;
  const keysDir = vendor ? VENDOR_KEYS_DIR : dataDir;
  mkdirSync(keysDir, { recursive: true, mode: 0o700 });
  // A vendor configures their system with the hub's address beforehand; our own runs take any free port.
  const hubPort = vendor ? options.hubPort : await freePort();
  const hubUrl = `http://${vendor ? options.hubHost : '127.0.0.1'}:${hubPort}`;
  const sutRegion = REGION_OF[role];
  const peerRegion = PEER_OF[role];
  const ports = { sut: vendor ? 0 : await freePort(), peer: await freePort() };
  const urls = {
    [sutRegion]: vendor ? regionUrlOf(vendor) : `http://127.0.0.1:${ports.sut}`,
    [peerRegion]: `http://127.0.0.1:${ports.peer}`,
  } as Record<'north' | 'midlands', string>;
  const topology = actorTopology(hubUrl, urls);
  const serviceOf = (id: string) => topology.regions.find((r) => r.id === id)?.serviceId as string;

  const hub = await startStandInHub({
    topology,
    dataDir: keysDir,
    host: vendor ? options.hubHost : '127.0.0.1',
    port: hubPort,
    ...(vendor && options.sutJwksUri
      ? { publishedKeys: { clientId: `gateway-${sutRegion}`, jwksUri: options.sutJwksUri } }
      : {}),
  });
  const started: GatewayProcess[] = [];
  const stop = async () => {
    await Promise.all(started.map((p) => p.stop()));
    await hub.close();
  };
  try {
    const gateway = (regionId: 'north' | 'midlands', port: number) =>
      new GatewayProcess({
        regionId,
        serviceId: serviceOf(regionId),
        port,
        hubUrl,
        keysDir,
        storeFile: join(dataDir, `${regionId}.sqlite`),
        logFile: join(dataDir, 'logs', `${regionId}.log`),
      });
    const peerProcess = gateway(peerRegion, ports.peer);
    const sutProcess = vendor ? undefined : gateway(sutRegion, ports.sut);
    for (const p of [peerProcess, sutProcess]) {
      if (!p) continue;
      started.push(p);
      await p.start();
    }
    const fhirBaseOf = (regionId: string) => `${urls[regionId as 'north' | 'midlands']}/fhir`;
    const clientOptions = { hubUrl, dataDir: keysDir, fetch: recordingFetch('client → gateway') };
    return {
      role,
      topology,
      hub,
      sut: {
        regionId: sutRegion,
        serviceId: serviceOf(sutRegion),
        fhirBase: vendor ?? fhirBaseOf(sutRegion),
        ours: !vendor,
        ...(sutProcess ? { process: sutProcess } : {}),
      },
      peer: {
        regionId: peerRegion,
        serviceId: serviceOf(peerRegion),
        fhirBase: fhirBaseOf(peerRegion),
        process: peerProcess,
      },
      referrer: await devClient(REFERRER.client, fhirBaseOf('north'), clientOptions),
      provider: await devClient(PROVIDER.client, fhirBaseOf('midlands'), clientOptions),
      dataDir,
      keysDir,
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}
