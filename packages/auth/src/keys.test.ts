import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jwtVerify, SignJWT } from 'jose';
import { afterAll, describe, expect, it } from 'vitest';
import {
  generateSigningKey,
  loadOrCreateKeyPair,
  loadOrCreatePublicJwk,
  PRIVATE_JWK_MEMBERS,
  publicJwkOf,
} from './keys.ts';

const dir = mkdtempSync(join(tmpdir(), 'auth-keys-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('loadOrCreateKeyPair', () => {
  it('creates a private key file (0600, in a new 0700 directory) and reads the same key back', async () => {
    const file = join(dir, 'nested', 'keys', 'client.private.jwk.json');
    const created = await loadOrCreateKeyPair(file, 'client-1');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(statSync(join(dir, 'nested', 'keys')).mode & 0o777).toBe(0o700);
    const stored = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
    expect(stored).toMatchObject({
      kty: 'EC',
      crv: 'P-384',
      kid: 'client-1',
      alg: 'ES384',
      use: 'sig',
      d: expect.any(String),
    });

    const loaded = await loadOrCreateKeyPair(file, 'ignored-for-an-existing-key');
    expect(loaded.kid).toBe('client-1');
    expect(loaded.publicJwk).toEqual(created.publicJwk);
    // The loaded private key signs what the created public key verifies.
    const jwt = await new SignJWT({}).setProtectedHeader({ alg: 'ES384' }).sign(loaded.privateKey);
    await expect(jwtVerify(jwt, created.publicJwk)).resolves.toBeDefined();
  });

  it('names a new key by its thumbprint when no kid is given', async () => {
    const key = await loadOrCreateKeyPair(join(dir, 'thumb.json'));
    expect(key.kid).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });

  it('gives two concurrent callers the same key', async () => {
    const file = join(dir, 'race.json');
    const [a, b] = await Promise.all([loadOrCreateKeyPair(file), loadOrCreateKeyPair(file)]);
    expect(a.publicJwk).toEqual(b.publicJwk);
  });

  it('tightens the mode of an existing key file', async () => {
    const file = join(dir, 'loose.json');
    await loadOrCreateKeyPair(file);
    const { chmodSync } = await import('node:fs');
    chmodSync(file, 0o644);
    await loadOrCreateKeyPair(file);
    expect(statSync(file).mode & 0o777).toBe(0o600);
  });

  it('refuses a broken key file without echoing its content', async () => {
    const file = join(dir, 'broken.json');
    writeFileSync(file, '{"d":"very-secret"', { mode: 0o600 });
    await expect(loadOrCreateKeyPair(file)).rejects.toThrow(/is not valid JSON/);
    await expect(loadOrCreateKeyPair(file)).rejects.not.toThrow(/very-secret/);
  });

  it('refuses a public key where a private one is expected', async () => {
    const file = join(dir, 'public.json');
    const key = await generateSigningKey();
    writeFileSync(file, JSON.stringify(key.publicJwk));
    await expect(loadOrCreateKeyPair(file)).rejects.toThrow(/not a private key/);
  });
});

describe('loadOrCreatePublicJwk', () => {
  it('gives the public half of a stored key pair, the one loadOrCreateKeyPair gives, and nothing private', async () => {
    const file = join(dir, 'public-of-stored.json');
    const pair = await loadOrCreateKeyPair(file, 'client-2');
    const publicJwk = await loadOrCreatePublicJwk(file);
    expect(publicJwk).toEqual(pair.publicJwk);
    for (const member of PRIVATE_JWK_MEMBERS) expect(publicJwk).not.toHaveProperty(member);
  });

  it('makes the key pair when there is none, which loadOrCreateKeyPair then reads', async () => {
    const file = join(dir, 'public-new.json');
    const publicJwk = await loadOrCreatePublicJwk(file);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect((await loadOrCreateKeyPair(file)).publicJwk).toEqual(publicJwk);
  });

  it('checks the stored key as loadOrCreateKeyPair does', async () => {
    const file = join(dir, 'public-of-public.json');
    const { publicJwk } = await generateSigningKey();
    writeFileSync(file, JSON.stringify(publicJwk));
    await expect(loadOrCreatePublicJwk(file)).rejects.toThrow(/not a private key/);
    writeFileSync(file, JSON.stringify({ ...publicJwk, d: 'x', alg: 'HS256' }));
    await expect(loadOrCreatePublicJwk(file)).rejects.toThrow(/alg must be one of/);
  });
});

describe('publicJwkOf', () => {
  it('keeps only the public members of an RSA key', async () => {
    const rsa = await generateSigningKey('RS384', 'rsa-1');
    const leaky = {
      ...rsa.publicJwk,
      d: 'x',
      p: 'x',
      q: 'x',
      dp: 'x',
      dq: 'x',
      qi: 'x',
      oth: [],
      k: 'x',
    } as Parameters<typeof publicJwkOf>[0];
    const out = publicJwkOf(leaky, 'rsa-1', 'RS384');
    expect(Object.keys(out).sort()).toEqual(['alg', 'e', 'kid', 'kty', 'n', 'use']);
    for (const member of PRIVATE_JWK_MEMBERS) expect(out).not.toHaveProperty(member);
  });

  it('refuses a key type it cannot sign with', () => {
    expect(() => publicJwkOf({ kty: 'oct', k: 'x' }, 'k', 'ES384')).toThrow(/expected EC or RSA/);
  });
});
