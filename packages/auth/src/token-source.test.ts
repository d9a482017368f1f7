import { mkdtempSync, rmSync } from 'node:fs';
import { outcomeErrorOf } from '@imaging/fhir/testing';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { devTopology } from '@imaging/config';
import { SqliteStore, silentLogger } from '@imaging/fhir';
import { createFhirApp } from '@imaging/fhir-http';
import { decodeJwt } from 'jose';
import { afterAll, describe, expect, it } from 'vitest';
import { ensureDevCredentials } from './dev-credentials.ts';
import { loadClientRegistry } from './registry.ts';
import type { FetchLike } from './remote-keys.ts';
import { tokenRoutes } from './routes.ts';
import { hubFixture, HUB_URL, testClock, testKey, TOKEN_URL } from './test-kit.ts';
import { clientCredentialsTokenSource, devTokenSource, serviceTokenSource } from './token-source.ts';
import { createAccessTokenVerifier } from './verifier.ts';

const dir = mkdtempSync(join(tmpdir(), 'auth-source-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A hub, and a fetch into it that counts token requests. */
async function hubWithCounter() {
  const hub = await hubFixture();
  const counter = { requests: 0 };
  const fetchHub: FetchLike = (url, init) => {
    counter.requests++;
    return hub.app.request(url, init);
  };
  const source = (scope?: string) =>
    clientCredentialsTokenSource({
      tokenUrl: TOKEN_URL,
      clientId: 'gp-n81001',
      privateKey: hub.gpKey.privateKey,
      kid: hub.gpKey.kid,
      ...(scope ? { scope } : {}),
      fetch: fetchHub,
      clock: hub.clock.clock,
    });
  return { hub, counter, source };
}

describe('clientCredentialsTokenSource', () => {
  it('posts to the hub where it can reach it, the assertion addressed to the hub as it names itself', async () => {
    const hub = await hubFixture();
    const posted: string[] = [];
    const internal = 'http://hub:4000/oauth2/token';
    const source = (audience?: string) =>
      clientCredentialsTokenSource({
        tokenUrl: internal,
        ...(audience ? { audience } : {}),
        clientId: 'gp-n81001',
        privateKey: hub.gpKey.privateKey,
        kid: hub.gpKey.kid,
        fetch: (url, init) => {
          posted.push(String(url));
          return hub.app.request(url, init);
        },
        clock: hub.clock.clock,
      });
    // addressed to the URL it posts to, which is not the hub's: refused
    const refused = await outcomeErrorOf(source().getToken());
    expect(refused.status).toBe(401);
    expect(refused.message).toContain(`aud must be the token endpoint ${TOKEN_URL}`);
    const token = await source(TOKEN_URL).getToken();
    expect(decodeJwt(token)).toMatchObject({ iss: HUB_URL, sub: 'gp-n81001' });
    expect(posted).toEqual([internal, internal]);
  });

  it('gets a token from the hub and reuses it until shortly before it expires', async () => {
    const { hub, counter, source } = await hubWithCounter();
    const tokens = source('system/Task.rs');
    const first = await tokens.getToken();
    const claims = await createAccessTokenVerifier({
      keys: [hub.hubKey.publicJwk],
      issuer: HUB_URL,
      clock: hub.clock.clock,
    }).verify(first);
    expect(claims).toMatchObject({ sub: 'gp-n81001', scope: 'system/Task.rs' });

    hub.clock.advance(260);
    expect(await tokens.getToken()).toBe(first);
    expect(counter.requests).toBe(1);

    hub.clock.advance(15); // 275 s: inside the 30 s renewal margin
    const second = await tokens.getToken();
    expect(second).not.toBe(first);
    expect(counter.requests).toBe(2);
  });

  it('shares one request between concurrent callers, and fetches anew after invalidate', async () => {
    const { counter, source } = await hubWithCounter();
    const tokens = source();
    const all = await Promise.all([tokens.getToken(), tokens.getToken(), tokens.getToken()]);
    expect(new Set(all).size).toBe(1);
    expect(counter.requests).toBe(1);
    tokens.invalidate();
    await tokens.getToken();
    expect(counter.requests).toBe(2);
  });

  it('fails with 401 when the hub refuses the client or its scope', async () => {
    const { hub, source } = await hubWithCounter();
    const scopeRefused = await outcomeErrorOf(source('hub/route').getToken());
    expect(scopeRefused.status).toBe(401);
    expect(scopeRefused.message).toMatch(/invalid_scope/);

    const stranger = await testKey('stranger');
    const unknown = clientCredentialsTokenSource({
      tokenUrl: TOKEN_URL,
      clientId: 'gp-x99999',
      privateKey: stranger.privateKey,
      kid: stranger.kid,
      fetch: (url, init) => hub.app.request(url, init),
      clock: hub.clock.clock,
    });
    const refused = await outcomeErrorOf(unknown.getToken());
    expect(refused.status).toBe(401);
    expect(refused.message).toMatch(/invalid_client: Unknown client 'gp-x99999'/);
  });

  it('fails with 503 when the hub cannot be reached (a real refused connection)', async () => {
    const closed = createServer();
    await new Promise<void>((done) => closed.listen(0, '127.0.0.1', done));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((done) => closed.close(() => done()));
    const key = await testKey('gp');
    const tokenUrl = `http://127.0.0.1:${port}/oauth2/token`;
    const err = await outcomeErrorOf(
      clientCredentialsTokenSource({
        tokenUrl,
        clientId: 'gp-n81001',
        privateKey: key.privateKey,
        kid: key.kid,
      }).getToken(),
    );
    expect(err.status).toBe(503);
    expect(err.message).toContain('ECONNREFUSED');
  });

  it('fails with 503 on a hub error and 502 on an answer without a token', async () => {
    const key = await testKey('gp');
    const answering = (res: () => Response) =>
      clientCredentialsTokenSource({
        tokenUrl: TOKEN_URL,
        clientId: 'gp-n81001',
        privateKey: key.privateKey,
        kid: key.kid,
        fetch: res,
      });
    expect((await outcomeErrorOf(answering(() => new Response('boom', { status: 500 })).getToken())).status).toBe(503);
    expect((await outcomeErrorOf(answering(() => Response.json({ hello: 'world' })).getToken())).status).toBe(502);
  });
});

describe('devTokenSource', () => {
  it('uses the dev key of a client registered by ensureDevCredentials', async () => {
    const dataDir = join(dir, 'dev');
    const creds = await ensureDevCredentials(devTopology(), dataDir);
    const clock = testClock();
    const deps = {
      registry: loadClientRegistry(creds.clientRegistryFile),
      store: new SqliteStore({ path: ':memory:' }),
      signingKey: creds.hubKey,
      issuer: HUB_URL,
      clock: clock.clock,
    };
    const app = createFhirApp({ logger: silentLogger });
    app.route('/', tokenRoutes(deps));
    const source = await devTokenSource('ris-rm1', {
      hubUrl: HUB_URL,
      dataDir,
      scope: 'system/ImagingStudy.cru',
      fetch: (u, i) => app.request(u, i),
      clock: clock.clock,
    });
    expect(decodeJwt(await source.getToken())).toMatchObject({
      sub: 'ris-rm1',
      org: 'RM1',
      region: 'midlands',
      scope: 'system/ImagingStudy.cru',
    });
  });

  it('says what to do when the client has no dev key', async () => {
    await expect(devTokenSource('gp-n81001', { hubUrl: HUB_URL, dataDir: join(dir, 'empty') })).rejects.toThrow(
      /No dev key for client gp-n81001 .*ensureDevCredentials/,
    );
  });
});

describe('serviceTokenSource', () => {
  it('mints the hub’s own token once and renews it near expiry', async () => {
    const clock = testClock();
    const source = serviceTokenSource(
      { signingKey: await testKey('hub'), issuer: HUB_URL, clock: clock.clock },
      { scope: 'system/Task.cu' },
    );
    const first = await source.getToken();
    expect(await source.getToken()).toBe(first);
    expect(decodeJwt(first)).toMatchObject({ sub: 'national-hub', client_kind: 'hub', scope: 'system/Task.cu' });
    clock.advance(280);
    expect(await source.getToken()).not.toBe(first);
  });
});
