import { serve } from '@hono/node-server';
import type { ClientRegistration, SigningKey } from '@imaging/auth';
import { createClientRegistry, ensureDevCredentials, signAccessToken } from '@imaging/auth';
import type { Topology } from '@imaging/config';
import { SqliteStore, validatingStore, memoryLogger } from '@imaging/fhir';
import { pageTokens } from '@imaging/fhir-http';
import { MESSAGE_HEADERS } from '@imaging/messaging';
import { createApp, HUB_SERVICE_SCOPES, seedDirectory } from '@imaging/national-hub';
import type { Bundle, MessageHeader } from '@medplum/fhirtypes';
import { randomBytes } from 'node:crypto';
import type { Server } from 'node:http';
import { keepBody, record, recordingFetch, redactHeaders } from '../record/exchange.ts';

/** A message the hub forwarded to a region, and what the region answered. */
export interface HubDelivery {
  /** The region's `$process-message` URL. */
  url: string;
  requestId: string;
  message: Bundle | undefined;
  /** `eventCoding.code` and `destination[0].endpoint` of the message's header. */
  event?: string;
  destination?: string;
  status?: number;
  response?: unknown;
  /** No answer (refused, timed out). */
  error?: string;
}

export interface StandInHub {
  /** The hub's public URL (without /fhir): the issuer of its tokens. */
  url: string;
  signingKey: SigningKey;
  /** Every message forwarded to a region, in order. */
  deliveries: HubDelivery[];
  /** An access token as the hub mints for its own calls to the regions (`hub/deliver`). */
  hubToken(): Promise<string>;
  /** An access token for any client kind and scopes, signed by the hub (for refusal checks). */
  tokenFor(content: Parameters<typeof signAccessToken>[0]): Promise<string>;
  close(): Promise<void>;
}

export interface StandInHubOptions {
  topology: Topology;
  dataDir: string;
  host: string;
  port: number;
  /** A client that signs with keys it publishes (a vendor's gateway), instead of a dev key made here. */
  publishedKeys?: { clientId: string; jwksUri: string };
}

/**
 * The national hub, played by the suite: our real hub app (token service, directory, router, locator)
 * in this process, on a real port, with an in-memory store seeded from the topology. Every message it
 * forwards is kept (and recorded to the running test), and every request it receives is recorded.
 */
export async function startStandInHub(options: StandInHubOptions): Promise<StandInHub> {
  const url = `http://${options.host}:${options.port}`;
  const credentials = await ensureDevCredentials(options.topology, options.dataDir);
  const clients: ClientRegistration[] = credentials.clients.map((c) => {
    if (c.id !== options.publishedKeys?.clientId) return c;
    const { jwks: _jwks, ...rest } = c;
    return { ...rest, jwks_uri: options.publishedKeys.jwksUri };
  });
  const store = validatingStore(new SqliteStore({ path: ':memory:' }));
  await seedDirectory(store, options.topology);

  const deliveries: HubDelivery[] = [];
  const forward = recordingFetch('hub → region');
  const delivering: typeof fetch = async (input, init) => {
    const delivery: HubDelivery = {
      url: String(input),
      requestId: headerOf(init, MESSAGE_HEADERS.requestId) ?? '',
      message: parse<Bundle>(init?.body),
    };
    const header = delivery.message?.entry?.[0]?.resource as MessageHeader | undefined;
    if (header?.resourceType === 'MessageHeader') {
      delivery.event = header.eventCoding?.code;
      delivery.destination = header.destination?.[0]?.endpoint;
    }
    deliveries.push(delivery);
    try {
      const response = await forward(input, init);
      delivery.status = response.status;
      delivery.response = parse(await response.clone().text());
      return response;
    } catch (err) {
      delivery.error = String(err);
      throw err;
    }
  };

  const app = createApp({
    store,
    registry: createClientRegistry(clients),
    signingKey: credentials.hubKey,
    publicUrl: url,
    logger: memoryLogger(),
    pageTokens: pageTokens(randomBytes(32)),
    fetch: delivering,
    forwardTimeoutMs: 15_000,
  });

  // Requests to the hub (token requests, directory look-ups, messages to route) go in the report too.
  const handle = async (request: Request): Promise<Response> => {
    const started = performance.now();
    const body = request.method === 'GET' ? undefined : await request.clone().text();
    const response = await app.fetch(request);
    record({
      label: '→ hub',
      at: new Date().toISOString(),
      durationMs: performance.now() - started,
      request: { method: request.method, url: request.url, headers: redactHeaders(request.headers), ...keepBody(body) },
      response: {
        status: response.status,
        headers: redactHeaders(response.headers),
        ...keepBody(await response.clone().text()),
      },
    });
    return response;
  };

  const server = await new Promise<Server>((resolve, reject) => {
    const s = serve({ fetch: handle, port: options.port, hostname: options.host }, () => resolve(s as Server));
    (s as Server).once('error', reject);
  });

  const signer = { signingKey: credentials.hubKey, issuer: url };
  return {
    url,
    signingKey: credentials.hubKey,
    deliveries,
    hubToken: async () =>
      (await signAccessToken({ sub: 'national-hub', client_kind: 'hub', scope: [...HUB_SERVICE_SCOPES] }, signer))
        .access_token,
    tokenFor: async (content) => (await signAccessToken(content, signer)).access_token,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function headerOf(init: RequestInit | undefined, name: string): string | undefined {
  return init?.headers ? (new Headers(init.headers).get(name) ?? undefined) : undefined;
}

function parse<T>(body: unknown): T | undefined {
  if (typeof body !== 'string' || !body) return undefined;
  try {
    return JSON.parse(body) as T;
  } catch {
    return undefined;
  }
}
