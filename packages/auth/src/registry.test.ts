import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { generateSigningKey } from './keys.ts';
import { loadClientRegistry, parseClientRegistry } from './registry.ts';

const key = await generateSigningKey('ES384', 'k1');
const client = {
  id: 'gp-n81001',
  kind: 'referrer',
  region: 'north',
  organisation: 'N81001',
  scopes: ['system/Task.rs'],
  jwks: { keys: [key.publicJwk] },
};
const dir = mkdtempSync(join(tmpdir(), 'auth-registry-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function problems(raw: unknown): string {
  try {
    parseClientRegistry(raw, 'clients.json');
  } catch (err) {
    return (err as Error).message;
  }
  throw new Error('expected the registry to be refused');
}

describe('parseClientRegistry', () => {
  it('accepts inline keys and a jwks_uri', () => {
    const vendor = { ...client, id: 'vendor-pacs', jwks: undefined, jwks_uri: 'https://vendor.example/jwks.json' };
    expect(parseClientRegistry({ clients: [client, vendor] }).map((c) => c.id)).toEqual(['gp-n81001', 'vendor-pacs']);
  });

  it('lists every problem with its path', () => {
    const message = problems({
      clients: [
        { ...client, kind: 'robot', scopes: [] },
        { ...client, id: 'Bad Id', jwks: { keys: [{ ...key.publicJwk, d: 'private!' }] } },
        { ...client, id: 'both', jwks_uri: 'https://x.example/jwks' },
        { ...client, id: 'neither', jwks: undefined },
        { ...client, id: 'plain-http', jwks: undefined, jwks_uri: 'http://vendor.example/jwks.json' },
        { ...client, id: 'no-curve', jwks: { keys: [{ kty: 'EC', kid: 'x', x: 'a', y: 'b' }] } },
      ],
    });
    expect(message).toContain('Invalid clients.json');
    expect(message).toMatch(/clients\.0\.kind: /);
    expect(message).toMatch(/clients\.0\.scopes: /);
    expect(message).toMatch(/clients\.1\.id: lower-case/);
    expect(message).toMatch(/clients\.1\.jwks\.keys\.0: a private key member \(d\)/);
    expect(message).not.toContain('private!');
    expect(message).toMatch(/clients\.2: register exactly one of jwks and jwks_uri/);
    expect(message).toMatch(/clients\.3: register exactly one of jwks and jwks_uri/);
    expect(message).toMatch(/clients\.4\.jwks_uri: jwks_uri must use https/);
    expect(message).toMatch(/clients\.5\.jwks\.keys\.0\.crv: an EC key needs 'crv'/);
  });

  it('allows http for a jwks_uri on this machine', () => {
    expect(() =>
      parseClientRegistry({ clients: [{ ...client, jwks: undefined, jwks_uri: 'http://127.0.0.1:4200/jwks.json' }] }),
    ).not.toThrow();
  });

  it('refuses a client registered twice', () => {
    expect(problems({ clients: [client, client] })).toContain('client gp-n81001 is registered twice');
  });

  it('refuses a document that is not a registry', () => {
    expect(problems([client])).toMatch(/\(root\): /);
  });
});

describe('loadClientRegistry', () => {
  it('reads a file and serves lookups, keys and scopes', async () => {
    const file = join(dir, 'clients.json');
    writeFileSync(
      file,
      JSON.stringify({
        clients: [client, { ...client, id: 'ris-rm1', scopes: ['system/Task.rus', 'system/Task.rs'] }],
      }),
    );
    const registry = loadClientRegistry(file);
    expect(registry.ids()).toEqual(['gp-n81001', 'ris-rm1']);
    expect(registry.get('ris-rm1')?.scopes).toEqual(['system/Task.rus', 'system/Task.rs']);
    expect(registry.get('nobody')).toBeUndefined();
    expect(registry.scopes()).toEqual(['system/Task.rs', 'system/Task.rus']);
    expect(typeof registry.keysOf('gp-n81001')).toBe('function');
  });

  it('names the file when it cannot be read or parsed', () => {
    expect(() => loadClientRegistry(join(dir, 'missing.json'))).toThrow(/Cannot read client registry .*missing\.json/);
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, '{"clients": [{}]}');
    expect(() => loadClientRegistry(bad)).toThrow(/Invalid .*bad\.json:\n {2}- clients\.0\.id/);
  });
});
