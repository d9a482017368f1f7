import { join, resolve } from 'node:path';
import {
  clientRegistryFile,
  createClientRegistry,
  defaultDataDir,
  ensureDevCredentials,
  loadClientRegistry,
  loadDevHubKey,
} from '@imaging/auth';
import type { AuthVariables, ClientRegistry, PublicJwk, SigningKey } from '@imaging/auth';
import { devTopology, gatewayBases, readTopology } from '@imaging/config';
import type { GatewayBase } from '@imaging/config';
import type { Clock, FhirStore, Logger } from '@imaging/fhir';
import { observedStore, openStore, systemClock, validatingStore } from '@imaging/fhir';
import { loadOrCreateSecret, nodeFetch, pageTokens } from '@imaging/fhir-http';
import type { PageTokens, RequestVars } from '@imaging/fhir-http';
import type { Context } from 'hono';
import type { HubConfig } from './config.ts';
import { publicUrlOf } from './config.ts';
import { seedDirectory } from './domain/directory.ts';
import type { PointerIds } from './domain/ports.ts';
import { pointerIds } from './adapters/pointer-ids.ts';
import type { HubDomainDeps } from './domain/ports.ts';
import type { HubFlow } from './flow.ts';
import { createHubFlow } from './flow.ts';

/** Everything the hub app needs, built by createDeps (or a test). No process.env, no globals. */
export interface AppDeps {
  /** The hub's FHIR store (directory, pointers, audit trail, used assertions), wrapped with validatingStore. */
  store: FhirStore;
  registry: ClientRegistry;
  signingKey: SigningKey;
  /** Public keys of rotated-out signing keys, still published until their tokens expire. */
  retiredKeys?: readonly PublicJwk[];
  /** The hub's public base URL (without /fhir): the issuer of its tokens. */
  publicUrl: string;
  /** `aud` of every access token (default imaging-connect). */
  audience?: string;
  tokenTtlSeconds?: number;
  clock?: Clock;
  logger: Logger;
  pageTokens: PageTokens;
  /** The ids clients know locator pointers by, from the same secret as page tokens; a random one without. */
  pointerIds?: PointerIds;
  /** The flow view's event feed (`GET /events`); without it the hub has none. */
  flow?: HubFlow;
  /** For calls to the regions (tests may route them elsewhere). */
  fetch?: typeof fetch;
  /** Gateways whose public address (the directory's) the hub reaches at another, internal one. */
  gatewayBases?: readonly GatewayBase[];
  /** How long a region has to answer before the hub says 503. Default 10 s. */
  forwardTimeoutMs?: number;
  bodyLimitBytes?: number;
  /** How long a directory answer (a region, a service, an organisation's region) is reused; 0: never. */
  directoryCacheTtlMs?: number;
  version?: string;
}

/** What the routes share once the app is built. */
export interface HubContext {
  deps: AppDeps;
  baseUrl: string;
  /** What the domain functions are given: the store, the regions, the clock, the logger. */
  domain: HubDomainDeps;
}

export type AppEnv = { Variables: RequestVars & AuthVariables };
export type AppContext = Context<AppEnv>;

/**
 * The ports wired to their real adapters, from the configuration: dev credentials or the client
 * registry, the signing key, the store (with the directory seeded from the topology) and page tokens.
 */
export async function createDeps(config: HubConfig, logger: Logger): Promise<AppDeps> {
  const dataDir = config.IMAGING_DATA_DIR ? resolve(config.IMAGING_DATA_DIR) : defaultDataDir();
  const topology = config.TOPOLOGY_FILE ? readTopology(config.TOPOLOGY_FILE) : devTopology();
  let registry: ClientRegistry;
  let signingKey: SigningKey;
  if (config.DEV_CREDENTIALS) {
    const credentials = await ensureDevCredentials(topology, dataDir);
    registry = createClientRegistry(credentials.clients);
    signingKey = credentials.hubKey;
  } else {
    registry = loadClientRegistry(config.CLIENT_REGISTRY ?? clientRegistryFile(dataDir));
    signingKey = await loadDevHubKey(dataDir);
  }
  // Every AuditEvent written is told to the flow feed once stored: the feed needs no hook in the domain code.
  const flow = createHubFlow(systemClock);
  // What the domain builds from validated input (a routed message's AuditEvent) is stored without
  // validating it again (trustBuilt); the tests' stores validate everything, which proves it valid.
  const store = observedStore(
    validatingStore(
      openStore(config.HUB_STORE ?? join(dataDir, 'hub', 'fhir.sqlite'), { groupCommit: true, fetch: nodeFetch }),
      {
        trustBuilt: true,
      },
    ),
    flow.onChange,
  );
  const seeded = await seedDirectory(store, topology);
  // Replicas share it (PAGE_TOKEN_SECRET): page tokens, and the pointer ids the locator hands out, hold on any.
  const secret = config.PAGE_TOKEN_SECRET ?? loadOrCreateSecret(join(dataDir, 'hub', 'page-token.secret'));
  logger.info('directory seeded', { store: store.description, ...seeded });
  return {
    store,
    flow,
    registry,
    signingKey,
    publicUrl: publicUrlOf(config),
    audience: config.TOKEN_AUDIENCE,
    tokenTtlSeconds: Math.round(config.TOKEN_TTL / 1000),
    logger,
    pageTokens: pageTokens(secret, { ttlMs: config.PAGE_TOKEN_TTL }),
    pointerIds: pointerIds(secret),
    forwardTimeoutMs: config.FORWARD_TIMEOUT,
    gatewayBases: gatewayBases(topology),
    bodyLimitBytes: config.BODY_LIMIT_BYTES,
    directoryCacheTtlMs: config.DIRECTORY_CACHE_TTL,
  };
}
