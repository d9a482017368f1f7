import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { importJWK, jwtVerify, SignJWT } from 'jose';
import type { JWK } from 'jose';
import { loadClientRegistry } from '@imaging/auth';
import { afterAll, describe, expect, it } from 'vitest';
import { loadDeployment, secretReferences } from '../validation/deployment.ts';
import { validateK8sObject } from '../validation/kubernetes-schema.ts';
import type { SecretManifest } from './k8s-secrets.ts';
import { runK8sSecrets } from './k8s-secrets.ts';

const PASSWORD = 'correct-horse-battery';
const scratch = mkdtempSync(join(tmpdir(), 'k8s-secrets-test-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

async function run(
  argv: string[],
  env: Record<string, string | undefined> = { POSTGRES_PASSWORD: PASSWORD },
  stdoutIsTerminal = false,
) {
  let out = '';
  let err = '';
  const code = await runK8sSecrets(argv, { env, out: (t) => (out += t), err: (t) => (err += t), stdoutIsTerminal });
  return { code, out, err };
}

const decode = (secret: SecretManifest | undefined, key: string) =>
  Buffer.from(secret?.data[key] ?? '', 'base64').toString('utf8');
const madeDirs = () => readdirSync(tmpdir()).filter((d) => d.startsWith('imaging-k8s-secrets-'));

describe('k8s-secrets', () => {
  it('prints valid Secrets holding every key the manifests refer to, and leaves no file behind', async () => {
    const before = madeDirs();
    const { code, out, err } = await run([]);
    expect(code).toBe(0);
    expect(madeDirs()).toEqual(before);
    const list = JSON.parse(out) as { apiVersion: string; kind: string; items: SecretManifest[] };
    expect(list).toMatchObject({ apiVersion: 'v1', kind: 'List' });
    expect(list.items.flatMap((s) => validateK8sObject(s))).toEqual([]);
    expect(list.items.map((s) => `${s.metadata.namespace}/${s.metadata.name}`)).toEqual([
      'imaging-connect/imaging-db',
      'imaging-connect/imaging-credentials',
      'imaging-connect/imaging-page-tokens',
    ]);
    const provided = new Set(list.items.flatMap((s) => Object.keys(s.data).map((k) => `${s.metadata.name}/${k}`)));
    const referenced = [...secretReferences(loadDeployment().objects)];
    expect(referenced.length).toBeGreaterThan(0);
    expect(referenced.filter((r) => !provided.has(r))).toEqual([]);
    expect(err).toContain('imaging-credentials');
    expect(err).not.toContain(PASSWORD);
  });

  it('holds the given password, distinct page-link secrets, and keys the client registry verifies', async () => {
    const { out } = await run([]);
    const [db, credentials, pages] = (JSON.parse(out) as { items: SecretManifest[] }).items;
    expect(decode(db, 'password')).toBe(PASSWORD);

    const pageSecrets = Object.keys(pages?.data ?? {}).map((k) => decode(pages, k));
    expect(Object.keys(pages?.data ?? {})).toEqual(['hub', 'north', 'midlands', 'south']);
    expect(new Set(pageSecrets).size).toBe(4);
    for (const s of pageSecrets) expect(s.length).toBeGreaterThanOrEqual(32);

    // The hub loads the registry as a file; the gateway's private key signs what it verifies.
    const registryFile = join(scratch, 'clients.json');
    writeFileSync(registryFile, decode(credentials, 'clients.json'));
    const registry = loadClientRegistry(registryFile);
    const client = registry.get('gateway-north');
    expect(client?.kind).toBe('gateway');
    const privateJwk = JSON.parse(decode(credentials, 'gateway-north.private.jwk.json')) as JWK;
    const jwt = await new SignJWT({})
      .setProtectedHeader({ alg: 'ES384', kid: privateJwk.kid as string })
      .sign(await importJWK(privateJwk, 'ES384'));
    const publicJwk = client?.jwks?.keys.find((k) => k.kid === privateJwk.kid);
    expect(publicJwk).toBeDefined();
    expect(publicJwk).not.toHaveProperty('d');
    await expect(jwtVerify(jwt, await importJWK(publicJwk as JWK, 'ES384'))).resolves.toBeDefined();
    expect(JSON.parse(decode(credentials, 'national-hub.private.jwk.json'))).toHaveProperty('d');
  });

  it('makes new keys each time it runs', async () => {
    const key = async () =>
      decode(
        (JSON.parse((await run([])).out) as { items: SecretManifest[] }).items[1],
        'gateway-south.private.jwk.json',
      );
    expect(await key()).not.toBe(await key());
  });

  it('keeps the dev keys in --keys-dir, as the token CLI reads them, and reuses them on the next run', async () => {
    const keysDir = join(scratch, 'keys-dir');
    const first = await run(['--keys-dir', keysDir]);
    expect(first.code).toBe(0);
    const kept = readFileSync(join(keysDir, 'keys', 'gp-n81001.private.jwk.json'), 'utf8');
    const inSecret = (out: string) =>
      decode((JSON.parse(out) as { items: SecretManifest[] }).items[1], 'gp-n81001.private.jwk.json');
    expect(inSecret(first.out)).toBe(kept);
    expect(existsSync(join(keysDir, 'clients.json'))).toBe(true);
    expect(inSecret((await run(['--keys-dir', keysDir])).out)).toBe(kept);
  });

  it('reads the password from --password-file, without its trailing newline', async () => {
    const file = join(scratch, 'db-password');
    writeFileSync(file, `${PASSWORD}-from-file\n`);
    const { code, out, err } = await run(['--password-file', file], {});
    expect(code).toBe(0);
    expect(decode((JSON.parse(out) as { items: SecretManifest[] }).items[0], 'password')).toBe(`${PASSWORD}-from-file`);
    expect(err).not.toContain(PASSWORD);
  });

  it('takes another namespace', async () => {
    const { code, out } = await run(['--namespace', 'imaging-test']);
    expect(code).toBe(0);
    expect((JSON.parse(out) as { items: SecretManifest[] }).items.map((s) => s.metadata.namespace)).toEqual([
      'imaging-test',
      'imaging-test',
      'imaging-test',
    ]);
  });

  it.each([
    [
      'no password',
      [],
      {},
      false,
      'the database password (--password-file or POSTGRES_PASSWORD) must have at least 12 characters',
    ],
    ['a short password', [], { POSTGRES_PASSWORD: 'short' }, false, 'must have at least 12 characters'],
    [
      'a password file and a password variable',
      ['--password-file', '/dev/null'],
      { POSTGRES_PASSWORD: PASSWORD },
      false,
      'give --password-file or POSTGRES_PASSWORD, not both',
    ],
    [
      'a missing password file',
      ['--password-file', '/nonexistent/db-password'],
      {},
      false,
      'cannot read --password-file /nonexistent/db-password (ENOENT)',
    ],
    ['a terminal', [], { POSTGRES_PASSWORD: PASSWORD }, true, 'refusing to print private keys to a terminal'],
    [
      'a bad namespace',
      ['--namespace', 'Imaging_Connect'],
      { POSTGRES_PASSWORD: PASSWORD },
      false,
      "'Imaging_Connect' is not a namespace name",
    ],
    ['an unknown option', ['--ns', 'x'], { POSTGRES_PASSWORD: PASSWORD }, false, "Unknown option '--ns'"],
    [
      'a missing topology',
      ['--topology', '/nonexistent/topology.json'],
      { POSTGRES_PASSWORD: PASSWORD },
      false,
      'Cannot read topology /nonexistent/topology.json',
    ],
  ])('refuses %s, printing nothing', async (_what, argv, env, terminal, message) => {
    const { code, out, err } = await run(argv as string[], env as Record<string, string>, terminal as boolean);
    expect(code).toBe(2);
    expect(out).toBe('');
    expect(err).toContain(message);
  });

  it('refuses an invalid topology, naming the problem', async () => {
    const file = join(scratch, 'bad-topology.json');
    writeFileSync(
      file,
      JSON.stringify({ hub: { url: 'http://hub:4000', port: 4000 }, regions: [], organisations: [], clients: [] }),
    );
    const { code, out, err } = await run(['--topology', file]);
    expect(code).toBe(2);
    expect(out).toBe('');
    expect(err).toContain('regions');
    expect(existsSync(file)).toBe(true);
  });
});
