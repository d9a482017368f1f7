import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
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
  env: Record<string, string> = { IMAGING_DATA_DIR: dataDir },
  cwd = '/nowhere',
) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runTokenCommand(argv, {
    env,
    cwd,
    out: (t) => out.push(t),
    err: (t) => err.push(t),
    ...(fetch ? { fetch } : {}),
  });
  return { code, out: out.join(''), err: err.join('') };
}

/** Every file under a directory, relative to it: to show a command wrote nothing. */
function filesUnder(root: string): string[] {
  if (!existsSync(root)) return [];
  return readdirSync(root, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath, e.name).slice(root.length + 1))
    .sort();
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
    const dataDir = join(dir, 'unknown');
    mkdirSync(dataDir);
    const result = await run(['gp-nobody'], dataDir);
    expect(result.code).toBe(2);
    expect(result.out).toBe('');
    expect(result.err).toContain(
      "Unknown client 'gp-nobody'. Known clients: gateway-north, gateway-midlands, gateway-south, gp-n81001, gp-n81002, ris-rm1, clinician-rs1",
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

describe('token command: where it looks, and what it never does', () => {
  it('takes relative paths from where the user ran npm or pnpm (INIT_CWD), not from the package', async () => {
    const user = join(dir, 'user');
    const hub = await devHub(join(user, '.data/demo'));
    writeFileSync(join(user, 'topology.json'), JSON.stringify(devTopology()));
    const env = { INIT_CWD: user, IMAGING_DATA_DIR: '.data/demo', IMAGING_TOPOLOGY: 'topology.json' };
    const result = await run(['gp-n81001'], '', (u, i) => hub.request(u, i), env, join(dir, 'package'));
    expect(result).toMatchObject({ code: 0, err: '' });
    expect(decodeJwt(result.out.trim())).toMatchObject({ sub: 'gp-n81001' });
    expect(existsSync(join(dir, 'package'))).toBe(false);
  });

  it('without INIT_CWD, from the directory it runs in', async () => {
    const here = join(dir, 'here');
    const hub = await devHub(join(here, 'data'));
    const result = await run(['ris-rm1'], '', (u, i) => hub.request(u, i), { IMAGING_DATA_DIR: 'data' }, here);
    expect(result).toMatchObject({ code: 0, err: '' });
  });

  it('refuses a data dir that is not there (2), and makes nothing', async () => {
    const missing = join(dir, 'missing');
    const result = await run(['gp-n81001'], missing);
    expect(result).toMatchObject({ code: 2, out: '' });
    expect(result.err).toContain(`No data dir at ${missing}`);
    expect(existsSync(missing)).toBe(false);
  });

  it('refuses a topology file that is not there (2)', async () => {
    const dataDir = join(dir, 'no-topology');
    await ensureDevCredentials(devTopology(), dataDir);
    const result = await run(['gp-n81001'], dataDir, undefined, {
      IMAGING_DATA_DIR: dataDir,
      IMAGING_TOPOLOGY: 'nope.json',
      INIT_CWD: dataDir,
    });
    expect(result).toMatchObject({ code: 2, out: '' });
    expect(result.err).toContain(`No topology file at ${join(dataDir, 'nope.json')}`);
  });

  it('never makes a key: a data dir without the client’s key is a 2, and is left as it was', async () => {
    const dataDir = join(dir, 'keyless');
    mkdirSync(dataDir);
    writeFileSync(join(dataDir, 'clients.json'), '{"clients":[]}\n');
    const calls: string[] = [];
    const result = await run(['gp-n81001'], dataDir, (u) => {
      calls.push(u);
      return new Response('{}', { status: 500 });
    });
    expect(result).toMatchObject({ code: 2, out: '' });
    expect(result.err).toContain('No key for gp-n81001');
    expect(filesUnder(dataDir)).toEqual(['clients.json']);
    expect(calls).toEqual([]);
  });

  it("uses the data dir's topology.json when no topology is named (the demo writes one)", async () => {
    const dataDir = join(dir, 'demo-like');
    await ensureDevCredentials(devTopology(), dataDir);
    const elsewhere = devTopology('127.0.0.1', { portOffset: 7 });
    writeFileSync(join(dataDir, 'topology.json'), JSON.stringify(elsewhere));
    const calls: string[] = [];
    const result = await run(['gp-n81001'], dataDir, (u) => {
      calls.push(u);
      throw new TypeError('fetch failed');
    });
    expect(result.code).toBe(1);
    expect(calls).toEqual([`${elsewhere.hub.url}/oauth2/token`]);
  });
});
