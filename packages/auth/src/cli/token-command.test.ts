import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { devTopology } from '@imaging/config';
import { SqliteStore, silentLogger } from '@imaging/fhir';
import { createFhirApp } from '@imaging/fhir-http';
import { decodeJwt } from 'jose';
import { afterAll, describe, expect, it } from 'vitest';
import { ensureDevCredentials } from '../dev-credentials.ts';
import { loadClientRegistry } from '../registry.ts';
import { tokenRoutes } from '../routes.ts';
import { runTokenCommand } from './token-command.ts';

const dir = mkdtempSync(join(tmpdir(), 'auth-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const HUB = 'http://127.0.0.1:4000';

/** A dev hub over the data dir's credentials, reached without a port. */
async function devHub(dataDir: string) {
  const creds = await ensureDevCredentials(devTopology(), dataDir);
  const app = createFhirApp({ logger: silentLogger });
  app.route(
    '/',
    tokenRoutes({
      registry: loadClientRegistry(creds.clientRegistryFile),
      store: new SqliteStore({ path: ':memory:' }),
      signingKey: creds.hubKey,
      issuer: HUB,
    }),
  );
  return app;
}

async function run(
  argv: string[],
  dataDir: string,
  fetch?: (url: string, init?: RequestInit) => Response | Promise<Response>,
) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runTokenCommand(argv, {
    env: { IMAGING_DATA_DIR: dataDir },
    out: (t) => out.push(t),
    err: (t) => err.push(t),
    ...(fetch ? { fetch } : {}),
  });
  return { code, out: out.join(''), err: err.join('') };
}

describe('token command', () => {
  it('prints only the access token on stdout', async () => {
    const dataDir = join(dir, 'ok');
    const hub = await devHub(dataDir);
    const result = await run(['gp-n81001', '--scope', 'system/Task.rs'], dataDir, (u, i) => hub.request(u, i));
    expect(result.code).toBe(0);
    expect(result.err).toBe('');
    expect(result.out).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+\n$/);
    expect(decodeJwt(result.out.trim())).toMatchObject({ sub: 'gp-n81001', scope: 'system/Task.rs', iss: HUB });
  });

  it('lists the known clients when the id is unknown', async () => {
    const result = await run(['gp-nobody'], join(dir, 'unknown'));
    expect(result.code).toBe(2);
    expect(result.out).toBe('');
    expect(result.err).toContain(
      "Unknown client 'gp-nobody'. Known clients: gateway-north, gateway-midlands, gateway-south, gp-n81001, ris-rm1, clinician-rs1",
    );
  });

  it('explains bad usage', async () => {
    for (const argv of [[], ['a', 'b'], ['gp-n81001', '--colour']]) {
      const result = await run(argv, join(dir, 'usage'));
      expect(result.code).toBe(2);
      expect(result.out).toBe('');
      expect(result.err).toContain('Usage: token <client-id>');
    }
  });

  it('says when the hub refuses or cannot be reached, on stderr', async () => {
    const dataDir = join(dir, 'refused');
    const hub = await devHub(dataDir);
    const refused = await run(['gp-n81001', '--scope', 'hub/route'], dataDir, (u, i) => hub.request(u, i));
    expect(refused).toMatchObject({ code: 1, out: '' });
    expect(refused.err).toMatch(/No token for gp-n81001: .*invalid_scope/);

    const down = await run(['gp-n81001', '--hub', 'http://127.0.0.1:9'], dataDir);
    expect(down).toMatchObject({ code: 1, out: '' });
    expect(down.err).toMatch(/is the hub running at http:\/\/127\.0\.0\.1:9\?/);
  });
});
