import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { devTopology } from '@imaging/config';
import { SqliteStore, silentLogger } from '@imaging/fhir';
import { createFhirApp } from '@imaging/fhir-http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureDevCredentials } from '../dev-credentials.ts';
import { loadClientRegistry } from '../registry.ts';
import { tokenRoutes } from '../routes.ts';
import { createAccessTokenVerifier } from '../verifier.ts';

// The CLI as an engineer runs it: a real process, talking to a real hub over a socket.
const run = promisify(execFile);
const dataDir = mkdtempSync(join(tmpdir(), 'auth-cli-int-'));
const packageDir = join(import.meta.dirname, '../..');
let hubUrl = '';
let verify: (token: string) => Promise<unknown>;

const server = createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', async () => {
    const response = await app.request(req.url ?? '/', {
      method: req.method ?? 'GET',
      headers: req.headers as Record<string, string>,
      ...(req.method === 'POST' ? { body: Buffer.concat(chunks) } : {}),
    });
    res.writeHead(response.status, Object.fromEntries(response.headers)).end(Buffer.from(await response.arrayBuffer()));
  });
});
const app = createFhirApp({ logger: silentLogger });

beforeAll(async () => {
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  hubUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const creds = await ensureDevCredentials(devTopology(), dataDir);
  const deps = {
    registry: loadClientRegistry(creds.clientRegistryFile),
    store: new SqliteStore({ path: ':memory:' }),
    signingKey: creds.hubKey,
    issuer: hubUrl,
  };
  app.route('/', tokenRoutes(deps));
  verify = (token) =>
    createAccessTokenVerifier({ jwks: `${hubUrl}/.well-known/jwks.json`, issuer: hubUrl }).verify(token);
});

afterAll(() => {
  server.closeAllConnections();
  server.close();
  rmSync(dataDir, { recursive: true, force: true });
});

const cli = (...args: string[]) =>
  run(process.execPath, ['src/cli/token.ts', ...args], {
    cwd: packageDir,
    env: { ...process.env, IMAGING_DATA_DIR: dataDir },
  });

describe('token CLI (process)', () => {
  it('prints a token the hub’s published keys verify, and nothing else', async () => {
    const { stdout, stderr } = await cli('ris-rm1', '--scope', 'system/DiagnosticReport.cru', '--hub', hubUrl);
    expect(stderr).toBe('');
    expect(stdout).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+\n$/);
    await expect(verify(stdout.trim())).resolves.toMatchObject({
      sub: 'ris-rm1',
      scope: 'system/DiagnosticReport.cru',
    });
  });

  it('exits non-zero with the known ids on stderr for an unknown client', async () => {
    const failure = await cli('nobody-here', '--hub', hubUrl).then(
      () => undefined,
      (err: { code: number; stdout: string; stderr: string }) => err,
    );
    expect(failure?.code).toBe(2);
    expect(failure?.stdout).toBe('');
    expect(failure?.stderr).toContain('Known clients: gateway-north');
  });

  it('resolves a relative data dir from where npm or pnpm was run (INIT_CWD), and writes nothing in the package', async () => {
    const { stdout, stderr } = await run(process.execPath, ['src/cli/token.ts', 'gp-n81001', '--hub', hubUrl], {
      cwd: packageDir,
      env: { ...process.env, INIT_CWD: dirname(dataDir), IMAGING_DATA_DIR: basename(dataDir) },
    });
    expect(stderr).toBe('');
    await expect(verify(stdout.trim())).resolves.toMatchObject({ sub: 'gp-n81001' });
    expect(existsSync(join(packageDir, basename(dataDir)))).toBe(false);
  });

  it('exits 2 with the reason on stderr when the data dir is not there', async () => {
    const failure = await run(process.execPath, ['src/cli/token.ts', 'gp-n81001', '--hub', hubUrl], {
      cwd: packageDir,
      env: { ...process.env, INIT_CWD: dirname(dataDir), IMAGING_DATA_DIR: 'no-such-dir' },
    }).then(
      () => undefined,
      (err: { code: number; stdout: string; stderr: string }) => err,
    );
    expect(failure?.code).toBe(2);
    expect(failure?.stdout).toBe('');
    expect(failure?.stderr).toContain(`No data dir at ${join(dirname(dataDir), 'no-such-dir')}`);
    expect(existsSync(join(dirname(dataDir), 'no-such-dir'))).toBe(false);
  });
});
