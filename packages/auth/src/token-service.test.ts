import { SqliteStore, silentLogger } from '@imaging/fhir';
import { createFhirApp } from '@imaging/fhir-http';
import { Hono } from 'hono';
import { decodeJwt, decodeProtectedHeader } from 'jose';
import { describe, expect, it } from 'vitest';
import { purgeAssertionRecords, recordAssertionUse } from './assertion-records.ts';
import { epochSeconds } from './clock.ts';
import { PRIVATE_JWK_MEMBERS } from './keys.ts';
import { tokenRoutes } from './routes.ts';
import { hubFixture, HUB_URL, registration, signAssertion, testClock, testKey, tokenForm } from './test-kit.ts';
import { mintServiceToken } from './token-service.ts';
import { createAccessTokenVerifier } from './verifier.ts';

interface OAuthError {
  error: string;
  error_description: string;
}

async function oauthError(res: Response, status: number, error: string): Promise<OAuthError> {
  expect(res.status).toBe(status);
  expect(res.headers.get('Content-Type')).toContain('application/json');
  expect(res.headers.get('Cache-Control')).toBe('no-store');
  const body = (await res.json()) as OAuthError;
  expect(body.error).toBe(error);
  expect(body.error_description).toEqual(expect.any(String));
  return body;
}

describe('POST /oauth2/token', () => {
  it('issues a signed access token for a valid client assertion', async () => {
    const hub = await hubFixture();
    const assertion = await signAssertion(hub.gpKey, 'gp-n81001', hub.clock.clock);
    const res = await hub.post(tokenForm(assertion, { scope: 'system/Task.rs system/Patient.r' }));

    expect(res.status).toBe(200);
    expect(res.headers.get('Cache-Control')).toBe('no-store');
    const body = (await res.json()) as { access_token: string; token_type: string; expires_in: number; scope: string };
    expect(body).toMatchObject({ token_type: 'bearer', expires_in: 300, scope: 'system/Task.rs system/Patient.r' });
    expect(decodeProtectedHeader(body.access_token)).toMatchObject({
      alg: 'ES384',
      kid: hub.hubKey.kid,
      typ: 'at+jwt',
    });

    const verifier = createAccessTokenVerifier({
      keys: [hub.hubKey.publicJwk],
      issuer: HUB_URL,
      clock: hub.clock.clock,
    });
    const claims = await verifier.verify(body.access_token);
    const now = epochSeconds(hub.clock.clock.now());
    expect(claims).toMatchObject({
      iss: HUB_URL,
      aud: 'imaging-connect',
      sub: 'gp-n81001',
      scope: 'system/Task.rs system/Patient.r',
      client_kind: 'referrer',
      org: 'N81001',
      region: 'north',
      iat: now,
      exp: now + 300,
    });
    expect(claims.jti).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('grants all the allowed scopes when none is asked for', async () => {
    const hub = await hubFixture();
    const res = await hub.post(tokenForm(await signAssertion(hub.gpKey, 'gp-n81001', hub.clock.clock)));
    expect(((await res.json()) as { scope: string }).scope).toBe(
      'system/Patient.crs system/ServiceRequest.crs system/Task.rus',
    );
  });

  it('narrows what the client may not fully have and drops what it may not have at all', async () => {
    const hub = await hubFixture();
    const form = tokenForm(await signAssertion(hub.gpKey, 'gp-n81001', hub.clock.clock), {
      scope: 'system/Task.cruds system/Organization.rs hub/route',
    });
    const body = (await (await hub.post(form)).json()) as { scope: string };
    expect(body.scope).toBe('system/Task.rus');
  });

  it('honours a configured audience and lifetime', async () => {
    const hub = await hubFixture();
    const app = new Hono().route('/', tokenRoutes({ ...hub.deps, audience: 'north-gateway', ttlSeconds: 60 }));
    const res = await app.request('/oauth2/token', {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(tokenForm(await signAssertion(hub.gpKey, 'gp-n81001', hub.clock.clock))).toString(),
    });
    const body = (await res.json()) as { access_token: string; expires_in: number };
    expect(body.expires_in).toBe(60);
    const claims = decodeJwt(body.access_token);
    expect(claims.aud).toBe('north-gateway');
    expect((claims.exp as number) - (claims.iat as number)).toBe(60);
  });

  it('accepts an RS384 assertion', async () => {
    const rsaKey = await testKey('rsa-client', 'RS384');
    const hub = await hubFixture({
      clients: [registration('ris-rm1', rsaKey, { kind: 'provider', organisation: 'RM1', region: 'midlands' })],
    });
    const res = await hub.post(tokenForm(await signAssertion(rsaKey, 'ris-rm1', hub.clock.clock)));
    expect(res.status).toBe(200);
    expect(decodeJwt(((await res.json()) as { access_token: string }).access_token)).toMatchObject({
      sub: 'ris-rm1',
      client_kind: 'provider',
      org: 'RM1',
    });
  });

  it('checks a client registered by jwks_uri against the keys it publishes', async () => {
    const vendorKey = await testKey('vendor');
    const vendor = new Hono().get('/jwks.json', (c) => c.json({ keys: [vendorKey.publicJwk] }));
    let fetched = 0;
    const hub = await hubFixture({
      clients: [
        {
          ...registration('vendor-pacs', vendorKey, { kind: 'provider' }),
          jwks: undefined,
          jwks_uri: 'https://vendor.test/jwks.json',
        },
      ],
      fetch: (url, init) => {
        fetched++;
        return vendor.request(url, init);
      },
    });
    for (let i = 0; i < 2; i++) {
      const res = await hub.post(tokenForm(await signAssertion(vendorKey, 'vendor-pacs', hub.clock.clock)));
      expect(res.status).toBe(200);
    }
    expect(fetched).toBe(1); // cached

    const stranger = await testKey('stranger');
    const forged = await hub.post(
      tokenForm(await signAssertion(stranger, 'vendor-pacs', hub.clock.clock, {}, vendorKey.kid)),
    );
    await oauthError(forged, 401, 'invalid_client');
  });

  it('refuses a client whose jwks_uri cannot be fetched', async () => {
    const vendorKey = await testKey('vendor');
    const hub = await hubFixture({
      clients: [
        { ...registration('vendor-pacs', vendorKey), jwks: undefined, jwks_uri: 'https://vendor.test/jwks.json' },
      ],
      fetch: () => new Response('down', { status: 502 }),
    });
    const res = await hub.post(tokenForm(await signAssertion(vendorKey, 'vendor-pacs', hub.clock.clock)));
    expect((await oauthError(res, 401, 'invalid_client')).error_description).toContain('jwks_uri');
  });
});

describe('POST /oauth2/token: bad requests', () => {
  type Case = [
    name: string,
    status: number,
    error: string,
    description: RegExp,
    form: (h: Awaited<ReturnType<typeof hubFixture>>) => Promise<Record<string, string> | string>,
  ];
  const sign = (h: Awaited<ReturnType<typeof hubFixture>>, claims = {}) =>
    signAssertion(h.gpKey, 'gp-n81001', h.clock.clock, claims);
  const now = (h: Awaited<ReturnType<typeof hubFixture>>) => epochSeconds(h.clock.clock.now());

  const cases: Case[] = [
    [
      'no grant_type',
      400,
      'invalid_request',
      /grant_type is required/,
      async (h) => {
        const { grant_type: _g, ...form } = tokenForm(await sign(h));
        return form;
      },
    ],
    [
      'a wrong grant type',
      400,
      'unsupported_grant_type',
      /client_credentials/,
      async (h) => tokenForm(await sign(h), { grant_type: 'password' }),
    ],
    [
      'no client_assertion_type',
      400,
      'invalid_request',
      /client_assertion_type is required/,
      async (h) => {
        const { client_assertion_type: _t, ...form } = tokenForm(await sign(h));
        return form;
      },
    ],
    [
      'a wrong client_assertion_type',
      401,
      'invalid_client',
      /jwt-bearer/,
      async (h) =>
        tokenForm(await sign(h), { client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:saml2-bearer' }),
    ],
    ['no client_assertion', 400, 'invalid_request', /client_assertion is required/, async () => tokenForm('')],
    [
      'a repeated parameter',
      400,
      'invalid_request',
      /more than once/,
      async (h) => `${new URLSearchParams(tokenForm(await sign(h))).toString()}&scope=a&scope=b`,
    ],
    ['a malformed JWT', 401, 'invalid_client', /well-formed/, async () => tokenForm('not.a.jwt')],
    ['a JWT that is not three parts', 401, 'invalid_client', /well-formed/, async () => tokenForm('abc')],
    [
      'an unknown client',
      401,
      'invalid_client',
      /Unknown client 'gp-x99999'/,
      async (h) => tokenForm(await signAssertion(h.gpKey, 'gp-x99999', h.clock.clock)),
    ],
    [
      'iss different from sub',
      401,
      'invalid_client',
      /iss and sub/,
      async (h) => tokenForm(await sign(h, { sub: 'ris-rm1' })),
    ],
    [
      'a client_id that is not the issuer',
      401,
      'invalid_client',
      /client_id/,
      async (h) => tokenForm(await sign(h), { client_id: 'ris-rm1' }),
    ],
    [
      'a signature by another key',
      401,
      'invalid_client',
      /signature does not verify/,
      async (h) =>
        tokenForm(await signAssertion(await testKey('impostor'), 'gp-n81001', h.clock.clock, {}, h.gpKey.kid)),
    ],
    [
      'a kid the client never registered',
      401,
      'invalid_client',
      /No key 'other-kid'/,
      async (h) => tokenForm(await signAssertion(h.gpKey, 'gp-n81001', h.clock.clock, {}, 'other-kid')),
    ],
    [
      'a wrong aud',
      401,
      'invalid_client',
      /aud must be the token endpoint/,
      async (h) => tokenForm(await sign(h, { aud: 'https://elsewhere.test/token' })),
    ],
    [
      'an expired assertion',
      401,
      'invalid_client',
      /expired/,
      async (h) => tokenForm(await sign(h, { iat: now(h) - 600, exp: now(h) - 60 })),
    ],
    [
      'an exp too far ahead',
      401,
      'invalid_client',
      /no more than 300 seconds/,
      async (h) => tokenForm(await sign(h, { exp: now(h) + 600 })),
    ],
    ['no jti', 401, 'invalid_client', /no jti/, async (h) => tokenForm(await sign(h, { jti: null }))],
    [
      'a scope the client may not have',
      400,
      'invalid_scope',
      /may not have system\/Organization.rs hub\/route/,
      async (h) => tokenForm(await sign(h), { scope: 'system/Organization.rs hub/route' }),
    ],
    [
      'a patient-context scope',
      400,
      'invalid_scope',
      /patient\/Task.rs/,
      async (h) => tokenForm(await sign(h), { scope: 'patient/Task.rs' }),
    ],
  ];

  it.each(cases)('answers %s with %i %s', async (_name, status, error, description, form) => {
    const hub = await hubFixture();
    const res = await hub.post(await form(hub));
    expect((await oauthError(res, status, error)).error_description).toMatch(description);
    // Nothing is recorded for a refused request: its assertion can still not be replayed into a token.
    expect((await hub.store.search('Basic')).total).toBe(0);
  });

  it('answers a non-form body with 400 invalid_request', async () => {
    const hub = await hubFixture();
    const res = await hub.post(JSON.stringify(tokenForm(await sign(hub))), 'application/json');
    await oauthError(res, 400, 'invalid_request');
  });

  it('refuses a replayed assertion', async () => {
    const hub = await hubFixture();
    const form = tokenForm(await sign(hub));
    expect((await hub.post(form)).status).toBe(200);
    expect((await oauthError(await hub.post(form), 401, 'invalid_client')).error_description).toMatch(
      /already been used/,
    );
  });

  it('refuses a replay at another hub replica sharing the store, and after a restart', async () => {
    const store = new SqliteStore({ path: ':memory:' });
    const clock = testClock();
    const replicaA = await hubFixture({ store, clock });
    const replicaB = await hubFixture({ store, clock });
    const form = tokenForm(await sign(replicaA));
    expect((await replicaA.post(form)).status).toBe(200);
    await oauthError(await replicaB.post(form), 401, 'invalid_client');
    const restarted = await hubFixture({ store, clock });
    await oauthError(await restarted.post(form), 401, 'invalid_client');
  });

  it('lets only one of two concurrent uses of a jti through', async () => {
    const store = new SqliteStore({ path: ':memory:' });
    const clock = testClock();
    const [a, b] = [await hubFixture({ store, clock }), await hubFixture({ store, clock })];
    const form = tokenForm(await sign(a));
    const statuses = (await Promise.all([a.post(form), b.post(form), a.post(form)])).map((r) => r.status).sort();
    expect(statuses).toEqual([200, 401, 401]);
  });

  it('accepts the same jti from two different clients', async () => {
    const risKey = await testKey('ris');
    const gpKey = await testKey('gp');
    const hub = await hubFixture({ clients: [registration('gp-n81001', gpKey), registration('ris-rm1', risKey)] });
    expect(
      (await hub.post(tokenForm(await signAssertion(gpKey, 'gp-n81001', hub.clock.clock, { jti: 'same' })))).status,
    ).toBe(200);
    expect(
      (await hub.post(tokenForm(await signAssertion(risKey, 'ris-rm1', hub.clock.clock, { jti: 'same' })))).status,
    ).toBe(200);
  });
});

describe('assertion records', () => {
  it('purges records older than two days and keeps recent ones', async () => {
    const store = new SqliteStore({ path: ':memory:' });
    const clock = testClock('2026-03-01T12:00:00Z');
    expect(await recordAssertionUse(store, 'gp-n81001', 'old', clock.clock.now())).toBe(true);
    clock.advance(3 * 86_400);
    expect(await recordAssertionUse(store, 'gp-n81001', 'new', clock.clock.now())).toBe(true);
    expect(await purgeAssertionRecords(store, clock.clock.now())).toBe(1);
    expect(await recordAssertionUse(store, 'gp-n81001', 'new', clock.clock.now())).toBe(false);
    expect((await store.search('Basic')).total).toBe(1);
  });
});

describe('hub keys and configuration', () => {
  it('publishes only public key members in the JWKS', async () => {
    const hub = await hubFixture();
    const rsa = await testKey('retired', 'RS384');
    const app = createFhirApp({ logger: silentLogger });
    // Even a retired key handed over with its private half is published without it.
    const leaky = { ...rsa.publicJwk, d: 'secret', p: 'secret', q: 'secret', dp: 'x', dq: 'x', qi: 'x' };
    app.route('/', tokenRoutes({ ...hub.deps, retiredKeys: [leaky] }));
    const res = await app.request('/.well-known/jwks.json');
    expect(res.status).toBe(200);
    const jwks = (await res.json()) as { keys: Record<string, unknown>[] };
    expect(jwks.keys.map((k) => k.kid)).toEqual([hub.hubKey.kid, rsa.kid]);
    for (const key of jwks.keys) {
      for (const member of PRIVATE_JWK_MEMBERS) expect(key).not.toHaveProperty(member);
      expect(key).toMatchObject({ use: 'sig' });
    }
    expect(jwks.keys[0]).toEqual({ ...hub.hubKey.publicJwk });
  });

  it('mints service tokens for the hub itself, verifiable like any other', async () => {
    const hub = await hubFixture();
    const minted = await mintServiceToken({ scope: 'system/Task.cru hub/route' }, hub.deps);
    const claims = await createAccessTokenVerifier({
      keys: [hub.hubKey.publicJwk],
      issuer: HUB_URL,
      clock: hub.clock.clock,
    }).verify(minted.access_token);
    expect(claims).toMatchObject({ sub: 'national-hub', client_kind: 'hub', scope: 'system/Task.cru hub/route' });
    expect(claims.org).toBeUndefined();
  });
});
