import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { devTopology } from '@imaging/config';
import { afterAll, describe, expect, it } from 'vitest';
import { clientRegistryFile, defaultDataDir, devKeyFile, ensureDevCredentials } from './dev-credentials.ts';
import { PRIVATE_JWK_MEMBERS } from './keys.ts';
import { parseClientRegistry } from './registry.ts';

const dir = mkdtempSync(join(tmpdir(), 'auth-dev-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('ensureDevCredentials', () => {
  const topology = devTopology();

  it('makes a private key per client and for the hub, and a registry of public keys only', async () => {
    const dataDir = join(dir, 'first');
    const result = await ensureDevCredentials(topology, dataDir);

    const keyFiles = readdirSync(join(dataDir, 'keys')).sort();
    expect(keyFiles).toEqual(
      [...topology.clients.map((c) => `${c.id}.private.jwk.json`), 'national-hub.private.jwk.json'].sort(),
    );
    for (const f of keyFiles) expect(statSync(join(dataDir, 'keys', f)).mode & 0o777).toBe(0o600);
    expect(statSync(join(dataDir, 'keys')).mode & 0o777).toBe(0o700);

    const text = readFileSync(clientRegistryFile(dataDir), 'utf8');
    const clients = parseClientRegistry(JSON.parse(text));
    expect(clients.map((c) => c.id)).toEqual(topology.clients.map((c) => c.id));
    expect(clients.find((c) => c.id === 'gp-n81001')).toMatchObject({
      kind: 'referrer',
      region: 'north',
      organisation: 'N81001',
    });
    expect(clients.find((c) => c.id === 'gateway-north')).not.toHaveProperty('organisation');
    for (const member of PRIVATE_JWK_MEMBERS) expect(text).not.toContain(`"${member}"`);
    expect(text).not.toContain('national-hub'); // the hub is no client of itself
    expect(result.hubKey.publicJwk.kid).toEqual(expect.any(String));
    expect(result.clients).toEqual(clients);
  });

  it('is idempotent: a second run keeps every key and the same registry', async () => {
    const dataDir = join(dir, 'twice');
    const first = await ensureDevCredentials(topology, dataDir);
    const registry = readFileSync(clientRegistryFile(dataDir), 'utf8');
    const gpKey = readFileSync(devKeyFile(dataDir, 'gp-n81001'), 'utf8');
    const second = await ensureDevCredentials(topology, dataDir);
    expect(readFileSync(clientRegistryFile(dataDir), 'utf8')).toBe(registry);
    expect(readFileSync(devKeyFile(dataDir, 'gp-n81001'), 'utf8')).toBe(gpKey);
    expect(second.hubKey.publicJwk).toEqual(first.hubKey.publicJwk);
  });

  it('adds a key for a client new to the topology, keeping the others', async () => {
    const dataDir = join(dir, 'grow');
    const first = await ensureDevCredentials({ clients: topology.clients.slice(0, 1) }, dataDir);
    const second = await ensureDevCredentials(topology, dataDir);
    expect(second.clients[0]?.jwks).toEqual(first.clients[0]?.jwks);
    expect(second.clients).toHaveLength(topology.clients.length);
  });

  it('refuses a client that takes the hub’s own id', async () => {
    const [client] = topology.clients;
    if (!client) throw new Error('the dev topology has no client');
    const hubAsClient = { ...client, id: 'national-hub' };
    await expect(ensureDevCredentials({ clients: [hubAsClient] }, join(dir, 'clash'))).rejects.toThrow(
      /the hub's own id/,
    );
  });
});

describe('data dir', () => {
  it('defaults to .data at the repository root', () => {
    const root = resolve(import.meta.dirname, '../../..');
    expect(existsSync(join(root, 'pnpm-workspace.yaml'))).toBe(true);
    expect(defaultDataDir({})).toBe(join(root, '.data'));
  });

  it('follows IMAGING_DATA_DIR', () => {
    expect(defaultDataDir({ IMAGING_DATA_DIR: '/tmp/elsewhere' })).toBe('/tmp/elsewhere');
  });

  it('refuses an id that could escape the keys directory', () => {
    expect(() => devKeyFile(dir, '../../etc/passwd')).toThrow(/Not a client id/);
  });
});
