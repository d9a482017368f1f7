import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeEach, describe, expect, it, vi } from 'vitest';

// A key on a read-only mount (a Kubernetes Secret volume, a `:ro` container volume) cannot be
// chmod-ed: the tests below make chmodSync fail the way such a mount does.
const chmodFailure = vi.hoisted(() => ({ code: undefined as string | undefined }));
vi.mock('node:fs', async (importOriginal) => {
  const fs = await importOriginal<typeof import('node:fs')>();
  return {
    ...fs,
    chmodSync: (...args: Parameters<typeof fs.chmodSync>) => {
      if (chmodFailure.code)
        throw Object.assign(new Error(`${chmodFailure.code}: chmod ${String(args[0])}`), { code: chmodFailure.code });
      fs.chmodSync(...args);
    },
  };
});

const { loadOrCreateKeyPair } = await import('./keys.ts');

const dir = mkdtempSync(join(tmpdir(), 'auth-keys-ro-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
beforeEach(() => {
  chmodFailure.code = undefined;
});

describe('loadOrCreateKeyPair with a key on a read-only mount', () => {
  it.each(['EROFS', 'EPERM'])('loads an existing key when chmod fails with %s', async (code) => {
    const file = join(dir, `${code}.private.jwk.json`);
    const created = await loadOrCreateKeyPair(file, `kid-${code}`);
    chmodFailure.code = code;
    const loaded = await loadOrCreateKeyPair(file);
    expect(loaded.kid).toBe(`kid-${code}`);
    expect(loaded.publicJwk).toEqual(created.publicJwk);
  });

  it('still fails on any other chmod error', async () => {
    const file = join(dir, 'other.private.jwk.json');
    await loadOrCreateKeyPair(file);
    chmodFailure.code = 'EIO';
    await expect(loadOrCreateKeyPair(file)).rejects.toMatchObject({ code: 'EIO' });
  });
});
