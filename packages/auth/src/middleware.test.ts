import { silentLogger } from '@imaging/fhir';
import type { RequestVars } from '@imaging/fhir-http';
import { createFhirApp } from '@imaging/fhir-http';
import type { unauthorized } from '@imaging/fhir';
import { SignJWT } from 'jose';
import { describe, expect, it } from 'vitest';
import { epochSeconds } from './clock.ts';
import type { AuthVariables } from './middleware.ts';
import { assertScope, requireAuth, requireCustomScope, requireScope } from './middleware.ts';
import type { FetchLike } from './remote-keys.ts';
import { hubFixture, HUB_URL, testClock, testKey } from './test-kit.ts';
import type { AccessTokenContent, TokenSigner } from './token-service.ts';
import { signAccessToken } from './token-service.ts';
import type { AccessTokenVerifierOptions } from './verifier.ts';
import { createAccessTokenVerifier } from './verifier.ts';

type OperationOutcome = ReturnType<typeof unauthorized>;

const clock = testClock();
const hubKey = await testKey('hub');
const signer: TokenSigner = { signingKey: hubKey, issuer: HUB_URL, clock: clock.clock };
const gp: AccessTokenContent = {
  sub: 'gp-n81001',
  client_kind: 'referrer',
  scope: ['system/Task.rs', 'system/Patient.crs'],
  org: 'N81001',
  region: 'north',
};

/** A gateway-like app: open metadata, FHIR routes behind requireAuth, scope checks per route. */
function gateway(options: Partial<AccessTokenVerifierOptions> = {}) {
  const verifier = createAccessTokenVerifier({
    keys: [hubKey.publicJwk],
    issuer: HUB_URL,
    clock: clock.clock,
    ...options,
  });
  const app = createFhirApp<{ Variables: RequestVars & AuthVariables }>({ logger: silentLogger });
  app.get('/metadata', (c) => c.json({ resourceType: 'CapabilityStatement' }));
  app.use('/fhir/*', requireAuth(verifier));
  app.get('/fhir/Task', requireScope('Task', 'search'), (c) =>
    c.json({ sub: c.var.auth.sub, org: c.var.auth.org, kind: c.var.auth.client_kind }),
  );
  app.post('/fhir/Task', requireScope('Task', 'create'), (c) => c.json({ ok: true }));
  app.post('/fhir/$route', requireCustomScope('hub/route'), (c) => c.json({ ok: true }));
  app.post('/fhir', (c) => {
    assertScope(c.var.auth, 'DiagnosticReport', 'create'); // a transaction learns its types late
    return c.json({ ok: true });
  });
  return app;
}

const bearer = (token: string) => ({ headers: { Authorization: `Bearer ${token}` } });
const tokenFor = async (content: AccessTokenContent = gp, overrides: Partial<TokenSigner> = {}) =>
  (await signAccessToken(content, { ...signer, ...overrides })).access_token;

async function refused(res: Response, status: 401 | 403, text: RegExp): Promise<void> {
  expect(res.status).toBe(status);
  expect(res.headers.get('Content-Type')).toContain('application/fhir+json');
  const outcome = (await res.json()) as OperationOutcome;
  expect(outcome.issue[0]?.code).toBe(status === 401 ? 'login' : 'forbidden');
  expect(outcome.issue[0]?.details?.text).toMatch(text);
}

describe('requireAuth', () => {
  it('lets a valid token through and exposes its claims', async () => {
    const res = await gateway().request('/fhir/Task', bearer(await tokenFor()));
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ sub: 'gp-n81001', org: 'N81001', kind: 'referrer' });
  });

  it('leaves open routes open', async () => {
    expect((await gateway().request('/metadata')).status).toBe(200);
  });

  it.each([
    ['no Authorization header', undefined, /Missing Authorization/],
    ['a non-Bearer scheme', 'Basic Z3A6c2VjcmV0', /must be "Bearer/],
    ['a Bearer header with two tokens', 'Bearer a b', /must be "Bearer/],
    ['an empty Bearer header', 'Bearer ', /must be "Bearer|Missing/],
    ['a token that is not a JWT', 'Bearer not-a-jwt', /malformed/],
  ])('answers %s with 401 and a Bearer challenge', async (_name, header, text) => {
    const res = await gateway().request(
      '/fhir/Task',
      header === undefined ? {} : { headers: { Authorization: header } },
    );
    expect(res.headers.get('WWW-Authenticate')).toMatch(
      /^Bearer realm="imaging-connect", error="invalid_token", error_description="[^"]+"$/,
    );
    await refused(res, 401, text);
  });

  it('refuses a token once it has expired', async () => {
    const local = testClock();
    const app = gateway({ clock: local.clock });
    const token = await tokenFor(gp, { clock: local.clock });
    expect((await app.request('/fhir/Task', bearer(token))).status).toBe(200);
    local.advance(300 + 11); // lifetime plus the clock tolerance
    await refused(await app.request('/fhir/Task', bearer(token)), 401, /expired/);
  });

  it('refuses a token signed by a key that is not the hub’s', async () => {
    const forger = await testKey('forger');
    const sameKid = { ...forger, kid: hubKey.kid };
    await refused(
      await gateway().request('/fhir/Task', bearer(await tokenFor(gp, { signingKey: sameKid }))),
      401,
      /signature does not verify/,
    );
    await refused(
      await gateway().request('/fhir/Task', bearer(await tokenFor(gp, { signingKey: forger }))),
      401,
      /key the hub does not publish/,
    );
  });

  it('refuses a token from another issuer or for another audience', async () => {
    await refused(
      await gateway().request('/fhir/Task', bearer(await tokenFor(gp, { issuer: 'https://evil.test' }))),
      401,
      /not issued by https:\/\/hub.test/,
    );
    await refused(
      await gateway().request('/fhir/Task', bearer(await tokenFor(gp, { audience: 'other-api' }))),
      401,
      /not for audience imaging-connect/,
    );
  });

  it('refuses a hub-signed JWT that is not an access token, or lacks our claims', async () => {
    const now = epochSeconds(clock.clock.now());
    const base = () =>
      new SignJWT({ scope: 'system/Task.rs', client_kind: 'referrer' })
        .setIssuer(HUB_URL)
        .setAudience('imaging-connect')
        .setSubject('gp-n81001')
        .setIssuedAt(now)
        .setExpirationTime(now + 60)
        .setJti('j1');
    const plainJwt = await base()
      .setProtectedHeader({ alg: 'ES384', kid: hubKey.kid, typ: 'JWT' })
      .sign(hubKey.privateKey);
    await refused(await gateway().request('/fhir/Task', bearer(plainJwt)), 401, /not an access token/);
    const noKind = await new SignJWT({ scope: 'system/Task.rs' })
      .setProtectedHeader({ alg: 'ES384', kid: hubKey.kid, typ: 'at+jwt' })
      .setIssuer(HUB_URL)
      .setAudience('imaging-connect')
      .setSubject('gp-n81001')
      .setIssuedAt(now)
      .setExpirationTime(now + 60)
      .setJti('j2')
      .sign(hubKey.privateKey);
    await refused(await gateway().request('/fhir/Task', bearer(noKind)), 401, /claims are malformed \(client_kind\)/);
  });
});

describe('scope checks', () => {
  it('answers a token without the scope a route needs with 403 naming it', async () => {
    const res = await gateway().request('/fhir/Task', { method: 'POST', ...bearer(await tokenFor()) });
    expect(res.headers.get('WWW-Authenticate')).toBe(
      'Bearer realm="imaging-connect", error="insufficient_scope", scope="system/Task.c"',
    );
    await refused(res, 403, /does not allow create on Task: it needs scope system\/Task\.c/);
  });

  it('checks custom scopes exactly', async () => {
    const app = gateway();
    await refused(
      await app.request('/fhir/$route', { method: 'POST', ...bearer(await tokenFor()) }),
      403,
      /does not hold scope hub\/route/,
    );
    const gatewayToken = await tokenFor({
      sub: 'gateway-north',
      client_kind: 'gateway',
      scope: ['hub/route'],
      region: 'north',
    });
    expect((await app.request('/fhir/$route', { method: 'POST', ...bearer(gatewayToken) })).status).toBe(200);
  });

  it('lets handlers check scopes they learn late', async () => {
    const app = gateway();
    await refused(await app.request('/fhir', { method: 'POST', ...bearer(await tokenFor()) }), 403, /DiagnosticReport/);
    const ris = await tokenFor({
      sub: 'ris-rm1',
      client_kind: 'provider',
      scope: ['system/DiagnosticReport.crus'],
      org: 'RM1',
      region: 'midlands',
    });
    expect((await app.request('/fhir', { method: 'POST', ...bearer(ris) })).status).toBe(200);
  });
});

describe('verifier with the hub’s JWKS URL', () => {
  it('fetches the hub’s keys once and verifies with them', async () => {
    const hub = await hubFixture();
    let fetched = 0;
    const fetchJwks: FetchLike = (url, init) => {
      fetched++;
      return hub.app.request(url, init);
    };
    const app = gateway({ keys: undefined, jwks: `${HUB_URL}/.well-known/jwks.json`, fetch: fetchJwks });
    const token = await tokenFor();
    expect((await app.request('/fhir/Task', bearer(token))).status).toBe(200);
    expect((await app.request('/fhir/Task', bearer(token))).status).toBe(200);
    expect(fetched).toBe(1);
  });

  it('answers 503, not 401, when the hub’s keys cannot be fetched', async () => {
    const down: FetchLike = () => Promise.reject(new TypeError('fetch failed', { cause: { code: 'ECONNREFUSED' } }));
    const app = gateway({ keys: undefined, jwks: `${HUB_URL}/.well-known/jwks.json`, fetch: down });
    const res = await app.request('/fhir/Task', bearer(await tokenFor()));
    expect(res.status).toBe(503);
    expect(((await res.json()) as OperationOutcome).issue[0]?.details?.text).toMatch(/ECONNREFUSED/);
  });
});
