// The hub's test kit, for its own tests and for tests of its clients (the gateway's hub client, the
// simulators), as `@imaging/national-hub/testing`: a hub in-process or on a real port, and fake regions.
import { mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { serve } from '@hono/node-server';
import type { AccessClaims, TokenSource } from '@imaging/auth';
import {
  createAccessTokenVerifier,
  createClientRegistry,
  devTokenSource,
  ensureDevCredentials,
  jwksUriOf,
  serviceTokenSource,
} from '@imaging/auth';
import type { Topology } from '@imaging/config';
import { devTopology } from '@imaging/config';
import {
  allOk,
  forbidden,
  issue,
  outcomeOf,
  serverError,
  SqliteStore,
  toOutcomeError,
  unprocessable,
  validatingStore,
  memoryLogger,
  observedStore,
  systemClock,
} from '@imaging/fhir';
import type { FhirStore, Clock } from '@imaging/fhir';
import { fhirResponse, pageTokens } from '@imaging/fhir-http';
import { buildResponse, MESSAGE_HEADERS, MESSAGE_REFUSAL, parseMessage } from '@imaging/messaging';
import type { Bundle, Resource } from '@medplum/fhirtypes';
import { Hono } from 'hono';
import { createApp, HUB_SERVICE_SCOPES } from '../app.ts';
import { seedDirectory } from '../domain/directory.ts';
import { createHubFlow } from '../flow.ts';

/** A data dir of its own for a test file (dev keys, clients.json); remove it in afterAll. */
export function tempDataDir(): { dir: string; remove: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'imaging-hub-test-'));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** The dev topology with some regions' gateway URLs replaced (fake regions on real ports). */
export function topologyWith(urls: Partial<Record<string, string>>): Topology {
  const topology = devTopology();
  return { ...topology, regions: topology.regions.map((r) => (urls[r.id] ? { ...r, url: urls[r.id] as string } : r)) };
}

export interface TestHubOptions {
  topology?: Topology;
  dataDir: string;
  /** Default http://127.0.0.1:4000 (nothing listens there: requests go through `app.request`). */
  publicUrl?: string;
  clock?: Clock;
  forwardTimeoutMs?: number;
  /** For the hub's calls to regions (default: the real fetch). */
  fetch?: typeof fetch;
  /** The hub's store, unvalidated (default: an in-memory embedded store); the kit validates writes. */
  store?: FhirStore;
}

export type TestHub = Awaited<ReturnType<typeof createTestHub>>;

/** A hub on its own store (default in memory) with real dev keys in `dataDir` and its directory seeded. */
export async function createTestHub(options: TestHubOptions) {
  const topology = options.topology ?? devTopology();
  const publicUrl = options.publicUrl ?? 'http://127.0.0.1:4000';
  const credentials = await ensureDevCredentials(topology, options.dataDir);
  const raw = options.store ?? new SqliteStore({ path: ':memory:' });
  // Wired as createDeps wires it: what the store keeps is told to the flow feed.
  const flow = createHubFlow(options.clock ?? systemClock);
  const store: FhirStore = observedStore(validatingStore(raw), flow.onChange);
  await seedDirectory(store, topology);
  const logger = memoryLogger();
  const app = createApp({
    store,
    flow,
    registry: createClientRegistry(credentials.clients),
    signingKey: credentials.hubKey,
    publicUrl,
    logger,
    pageTokens: pageTokens('test-page-token-secret'),
    forwardTimeoutMs: options.forwardTimeoutMs ?? 2_000,
    ...(options.clock ? { clock: options.clock } : {}),
    ...(options.fetch ? { fetch: options.fetch } : {}),
  });
  /** Reaches the hub app without a port, for clients that take a fetch. */
  const fetchHub = async (url: string | URL | Request, init?: RequestInit) =>
    app.request(url instanceof Request ? url : String(url), init);
  const sources = new Map<string, TokenSource>();
  /** A real token for a dev client (SMART client credentials against the hub's token endpoint). */
  const tokenFor = async (clientId: string, scope?: string): Promise<string> => {
    const key = `${clientId} ${scope ?? ''}`;
    let source = sources.get(key);
    if (!source) {
      source = await devTokenSource(clientId, {
        hubUrl: publicUrl,
        dataDir: options.dataDir,
        fetch: fetchHub,
        ...(scope ? { scope } : {}),
      });
      sources.set(key, source);
    }
    return source.getToken();
  };
  const hubTokens = serviceTokenSource(
    { signingKey: credentials.hubKey, issuer: publicUrl },
    { scope: HUB_SERVICE_SCOPES },
  );
  /** The hub's own service token, as it sends to a region with every message it delivers. */
  const hubToken = () => hubTokens.getToken();
  return { app, store, raw, flow, logger, topology, publicUrl, dataDir: options.dataDir, fetchHub, tokenFor, hubToken };
}

/** The same hub served on a real port on 127.0.0.1 (its public URL is the real one). */
export async function startTestHub(options: Omit<TestHubOptions, 'publicUrl'>) {
  let hub: TestHub | undefined;
  const server = serve({
    fetch: (request) => (hub ? hub.app.fetch(request) : new Response('starting', { status: 503 })),
    port: 0,
    hostname: '127.0.0.1',
  });
  await new Promise<void>((resolve) => server.once('listening', () => resolve()));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  hub = await createTestHub({ ...options, publicUrl: url });
  return { ...hub, url, close: () => closeServer(server) };
}

function closeServer(server: ReturnType<typeof serve>): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    (server as unknown as { closeAllConnections?: () => void }).closeAllConnections?.();
  });
}

/** What a fake region saw of one request. */
export interface Received {
  method: string;
  path: string;
  target: string | undefined;
  requestId: string | undefined;
  correlationId: string | undefined;
  claims: AccessClaims;
  body: unknown;
}

/**
 * How a fake region answers `$process-message`: accept it, refuse it (422), refuse the sender's
 * authority over its content (403, as `checkMessageAuthority` words it), refuse the hub's own token
 * (403), fail (500) or never answer.
 */
export type FakeBehaviour = 'accept' | 'refuse' | 'forbid' | 'distrust' | 'fail' | 'hang' | 'redirect';

/**
 * A stand-in regional gateway on a real port: it checks every request's token against the hub's JWKS
 * (so only the hub's real tokens pass), records what it received, answers `$process-message` as told,
 * and serves the resources it is given for `$retrieve`.
 */
export async function startFakeRegion(serviceId: string) {
  const received: Received[] = [];
  const resources = new Map<string, Resource>();
  const state: { behaviour: FakeBehaviour; verify?: (token: string) => Promise<AccessClaims> } = {
    behaviour: 'accept',
  };
  // A hanging answer is held until the region closes: the hub's own time limit is what ends the wait.
  let release = () => {};
  const held = new Promise<void>((resolve) => (release = resolve));
  const app = new Hono();
  app.use('*', async (c, next) => {
    if (!state.verify) return c.json({ error: 'the fake region trusts no hub yet' }, 500);
    try {
      const claims = await state.verify((c.req.header('Authorization') ?? '').replace(/^Bearer /, ''));
      const body = c.req.method === 'POST' ? await c.req.json() : undefined;
      received.push({
        method: c.req.method,
        path: c.req.path,
        target: c.req.header(MESSAGE_HEADERS.target),
        requestId: c.req.header(MESSAGE_HEADERS.requestId),
        correlationId: c.req.header(MESSAGE_HEADERS.correlationId),
        claims,
        body,
      });
    } catch (err) {
      const error = toOutcomeError(err);
      return fhirResponse(error.outcome, error.status);
    }
    await next();
  });
  app.post('/fhir/$process-message', async () => {
    const bundle = received.at(-1)?.body as Bundle;
    if (state.behaviour === 'hang') await held;
    if (state.behaviour === 'fail') return fhirResponse(serverError('The receiving store is broken'), 500);
    if (state.behaviour === 'refuse')
      return fhirResponse(unprocessable('No Task T-1 here', 'Bundle.entry[1].resource.identifier'), 422);
    if (state.behaviour === 'forbid') {
      const text = 'Task T-1 here is shared with imaging-south, not imaging-north';
      const refusal = issue({ code: 'forbidden', text, expression: 'Bundle.entry[1].resource.identifier' });
      return fhirResponse(outcomeOf('forbidden', [{ ...refusal, details: { coding: [MESSAGE_REFUSAL], text } }]), 403);
    }
    if (state.behaviour === 'distrust') return fhirResponse(forbidden('Only the national hub delivers messages'), 403);
    return fhirResponse(
      buildResponse(parseMessage(bundle), 'ok', allOk(`Processed by ${serviceId}`), new Date().toISOString()),
      200,
    );
  });
  app.get('/fhir/:type/:id', (c) => {
    const resource = resources.get(`${c.req.param('type')}/${c.req.param('id')}`);
    if (state.behaviour === 'fail') return fhirResponse(serverError(), 500);
    // Elsewhere on its own origin, where a resource of the kind asked for waits.
    if (state.behaviour === 'redirect') return c.redirect(`${url}/fhir/${c.req.param('type')}/elsewhere`, 302);
    return resource ? fhirResponse(resource) : fhirResponse(unprocessable('gone'), 404);
  });
  const server = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' });
  await new Promise<void>((resolve) => server.once('listening', () => resolve()));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    serviceId,
    url,
    received,
    resources,
    /** Sets how `$process-message` answers (and a read, for 'fail' and 'redirect'). */
    behave(behaviour: FakeBehaviour) {
      state.behaviour = behaviour;
    },
    /** Trust this hub's tokens: verified against its JWKS, fetched through `fetchJwks`. */
    trust(hub: { publicUrl: string; fetchHub: (url: string, init?: RequestInit) => Response | Promise<Response> }) {
      const verifier = createAccessTokenVerifier({
        jwks: jwksUriOf(hub.publicUrl),
        issuer: hub.publicUrl,
        fetch: hub.fetchHub,
      });
      state.verify = (token) => verifier.verify(token);
    },
    close: () => {
      release();
      return closeServer(server);
    },
  };
}

export type FakeRegion = Awaited<ReturnType<typeof startFakeRegion>>;

/** A URL on 127.0.0.1 where nothing listens (a region that is down). */
export async function deadUrl(): Promise<string> {
  const server = serve({ fetch: () => new Response(null), port: 0, hostname: '127.0.0.1' });
  await new Promise<void>((resolve) => server.once('listening', () => resolve()));
  const port = (server.address() as AddressInfo).port;
  await closeServer(server);
  return `http://127.0.0.1:${port}`;
}
