// Shared set-up for this package's tests (not exported from the package).
import { SqliteStore, silentLogger } from '@imaging/fhir';
import { createFhirApp } from '@imaging/fhir-http';
import { SignJWT } from 'jose';
import type { Clock } from '@imaging/fhir';
import { epochSeconds } from './clock.ts';
import { tokenEndpointOf } from './endpoints.ts';
import type { SigningAlgorithm, SigningKey } from './keys.ts';
import { generateSigningKey } from './keys.ts';
import type { ClientRegistration } from './registry.ts';
import { createClientRegistry } from './registry.ts';
import type { TokenRoutesDeps } from './routes.ts';
import { tokenRoutes } from './routes.ts';
import { CLIENT_ASSERTION_TYPE } from './token-service.ts';

export const HUB_URL = 'https://hub.test';
export const TOKEN_URL = tokenEndpointOf(HUB_URL);

export interface TestClock {
  clock: Clock;
  advance(seconds: number): void;
}

export function testClock(start = '2026-03-02T09:00:00Z'): TestClock {
  let now = new Date(start).getTime();
  return {
    clock: { now: () => new Date(now) },
    advance: (seconds) => {
      now += seconds * 1000;
    },
  };
}

// Key generation is the slow part of these tests: make each kind once per test file.
const keyCache = new Map<string, Promise<SigningKey>>();
export function testKey(name: string, alg: SigningAlgorithm = 'ES384'): Promise<SigningKey> {
  let key = keyCache.get(`${name}/${alg}`);
  if (!key) {
    key = generateSigningKey(alg, `${name}-key`);
    keyCache.set(`${name}/${alg}`, key);
  }
  return key;
}

export function registration(id: string, key: SigningKey, extra: Partial<ClientRegistration> = {}): ClientRegistration {
  return {
    id,
    kind: 'referrer',
    region: 'north',
    organisation: 'N81001',
    scopes: ['system/Patient.crs', 'system/ServiceRequest.crs', 'system/Task.rus'],
    jwks: { keys: [key.publicJwk] },
    ...extra,
  };
}

export interface AssertionClaims {
  iss?: string;
  sub?: string;
  aud?: string;
  exp?: number;
  iat?: number;
  jti?: string | null;
}

/** A client assertion; `jti: null` leaves the jti out. */
export async function signAssertion(
  key: SigningKey,
  clientId: string,
  clock: Clock,
  claims: AssertionClaims = {},
  kid = key.kid,
): Promise<string> {
  const now = epochSeconds(clock.now());
  const jti = claims.jti === undefined ? crypto.randomUUID() : claims.jti;
  const jwt = new SignJWT(jti === null ? {} : { jti })
    .setProtectedHeader({ alg: key.alg, kid, typ: 'JWT' })
    .setIssuer(claims.iss ?? clientId)
    .setSubject(claims.sub ?? clientId)
    .setAudience(claims.aud ?? TOKEN_URL)
    .setIssuedAt(claims.iat ?? now)
    .setExpirationTime(claims.exp ?? now + 240);
  return jwt.sign(key.privateKey);
}

export function tokenForm(assertion: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    grant_type: 'client_credentials',
    client_assertion_type: CLIENT_ASSERTION_TYPE,
    client_assertion: assertion,
    ...extra,
  };
}

export interface HubFixture {
  app: ReturnType<typeof createFhirApp>;
  deps: TokenRoutesDeps;
  store: SqliteStore;
  clock: TestClock;
  hubKey: SigningKey;
  gpKey: SigningKey;
  post(form: Record<string, string> | string, contentType?: string): Promise<Response>;
}

/** A hub serving the token routes inside the shared FHIR app plumbing, on an in-memory store. */
export async function hubFixture(
  options: {
    clients?: ClientRegistration[];
    store?: SqliteStore;
    clock?: TestClock;
    fetch?: (url: string, init?: RequestInit) => Response | Promise<Response>;
  } = {},
): Promise<HubFixture> {
  const clock = options.clock ?? testClock();
  const hubKey = await testKey('hub');
  const gpKey = await testKey('gp');
  const store = options.store ?? new SqliteStore({ path: ':memory:' });
  const registry = createClientRegistry(
    options.clients ?? [registration('gp-n81001', gpKey)],
    options.fetch ? { fetch: options.fetch } : {},
  );
  const deps: TokenRoutesDeps = { registry, store, signingKey: hubKey, issuer: HUB_URL, clock: clock.clock };
  const app = createFhirApp({ logger: silentLogger });
  app.route('/', tokenRoutes(deps));
  const post = (form: Record<string, string> | string, contentType = 'application/x-www-form-urlencoded') =>
    Promise.resolve(
      app.request('/oauth2/token', {
        method: 'POST',
        headers: { 'Content-Type': contentType },
        body: typeof form === 'string' ? form : new URLSearchParams(form).toString(),
      }),
    );
  return { app, deps, store, clock, hubKey, gpKey, post };
}
