import { createFileOnce } from '@imaging/fhir-http';
import { chmodSync, readFileSync } from 'node:fs';
import { calculateJwkThumbprint, exportJWK, generateKeyPair, importJWK } from 'jose';
import type { CryptoKey, JWK } from 'jose';

/**
 * Asymmetric signing keys. SMART Backend Services requires servers to support RS384 and ES384; we
 * make ES384 keys (small, fast) and verify both.
 */

export const SIGNING_ALGORITHMS = ['ES384', 'RS384'] as const;
export type SigningAlgorithm = (typeof SIGNING_ALGORITHMS)[number];
export const DEFAULT_SIGNING_ALGORITHM: SigningAlgorithm = 'ES384';

/** A public JWK as published in a JWKS: `kid`, `alg` and `use: 'sig'`, never a private parameter. */
export type PublicJwk = {
  kty: 'EC' | 'RSA';
  kid: string;
  alg: SigningAlgorithm;
  use: 'sig';
  /** EC */
  crv?: string;
  x?: string;
  y?: string;
  /** RSA */
  n?: string;
  e?: string;
};

export interface SigningKey {
  kid: string;
  alg: SigningAlgorithm;
  privateKey: CryptoKey;
  publicJwk: PublicJwk;
}

// Only these members are copied into a public JWK: a whitelist, so no private member can slip out.
const PUBLIC_MEMBERS: Record<string, string[]> = {
  EC: ['kty', 'crv', 'x', 'y'],
  RSA: ['kty', 'n', 'e'],
};

/** Members that make a JWK private (EC `d`; RSA `d p q dp dq qi oth`; symmetric `k`). */
export const PRIVATE_JWK_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'] as const;

export function isSigningAlgorithm(value: unknown): value is SigningAlgorithm {
  return typeof value === 'string' && (SIGNING_ALGORITHMS as readonly string[]).includes(value);
}

/** The public half of a JWK (private or public), with its `kid`, `alg` and `use`. */
export function publicJwkOf(jwk: JWK | PublicJwk, kid: string, alg: SigningAlgorithm): PublicJwk {
  const source = jwk as Record<string, unknown>;
  const members = PUBLIC_MEMBERS[String(source.kty)];
  if (!members) throw new Error(`Unsupported key type '${String(source.kty)}': expected EC or RSA`);
  const out: Record<string, unknown> = {};
  for (const m of members) {
    if (typeof source[m] !== 'string') throw new Error(`The ${String(source.kty)} key has no '${m}'`);
    out[m] = source[m];
  }
  return { ...out, kid, alg, use: 'sig' } as PublicJwk;
}

/** A new key pair; `kid` defaults to the key's RFC 7638 thumbprint, so a new key never reuses a kid. */
export async function generateSigningKey(
  alg: SigningAlgorithm = DEFAULT_SIGNING_ALGORITHM,
  kid?: string,
): Promise<SigningKey> {
  return signingKeyFromJwk(await generatePrivateJwk(alg, kid));
}

async function generatePrivateJwk(alg: SigningAlgorithm, kid: string | undefined): Promise<JWK> {
  const options = alg === 'RS384' ? { extractable: true, modulusLength: 3072 } : { extractable: true };
  const pair = await generateKeyPair(alg, options);
  const jwk = await exportJWK(pair.privateKey);
  return { ...jwk, kid: kid ?? (await calculateJwkThumbprint(jwk)), alg, use: 'sig' };
}

/** A signing key from a stored private JWK (which must carry `kid` and `alg`). */
export async function signingKeyFromJwk(privateJwk: JWK): Promise<SigningKey> {
  const { kid, alg } = storedKeyId(privateJwk);
  const privateKey = (await importJWK(privateJwk, alg)) as CryptoKey;
  return { kid, alg, privateKey, publicJwk: publicJwkOf(privateJwk, kid, alg) };
}

/** The `kid` and `alg` a stored private JWK must carry, checked. */
function storedKeyId(privateJwk: JWK): { kid: string; alg: SigningAlgorithm } {
  const { kid, alg } = privateJwk;
  if (!isSigningAlgorithm(alg))
    throw new Error(`The key's alg must be one of ${SIGNING_ALGORITHMS.join(', ')}, not '${alg}'`);
  if (typeof kid !== 'string' || !kid) throw new Error('The key has no kid');
  if (typeof privateJwk.d !== 'string') throw new Error(`Key ${kid} is not a private key`);
  return { kid, alg };
}

/**
 * The public JWK of the key pair in `file`, made there as `loadOrCreateKeyPair` makes it when missing.
 * The private key is not imported: for one who only registers or publishes the public half (the hub
 * registering its dev clients), importing it cost a WebCrypto import per key at start.
 */
export async function loadOrCreatePublicJwk(file: string): Promise<PublicJwk> {
  const existing = readPrivateJwk(file);
  if (!existing) return (await loadOrCreateKeyPair(file)).publicJwk;
  tightenMode(file);
  const { kid, alg } = storedKeyId(existing);
  return publicJwkOf(existing, kid, alg);
}

/**
 * Reads a private JWK from `file`, or generates one and writes it there (directory 0700, file 0600).
 * The stored `kid` wins over `kid`, which only names a new key (default: its thumbprint).
 */
export async function loadOrCreateKeyPair(
  file: string,
  kid?: string,
  alg: SigningAlgorithm = DEFAULT_SIGNING_ALGORITHM,
): Promise<SigningKey> {
  const existing = readPrivateJwk(file);
  if (existing) {
    tightenMode(file);
    return signingKeyFromJwk(existing);
  }
  const jwk = await generatePrivateJwk(alg, kid);
  // Of two processes starting at once, one writes the key and the other uses it: never two keys.
  if (createFileOnce(file, `${JSON.stringify(jwk, null, 2)}\n`)) return signingKeyFromJwk(jwk);
  const winner = readPrivateJwk(file);
  if (!winner) throw new Error(`Key file ${file} holds no private key`);
  return signingKeyFromJwk(winner);
}

/**
 * Makes a key file owner-only where it can. A key mounted read-only (a Kubernetes Secret volume, a
 * container volume shared with `:ro`) cannot be changed, and its mount already set who may read it.
 */
function tightenMode(file: string): void {
  try {
    chmodSync(file, 0o600);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== 'EROFS' && code !== 'EPERM') throw err;
  }
}

function readPrivateJwk(file: string): JWK | undefined {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  try {
    return JSON.parse(text) as JWK;
  } catch {
    // Never echo the content: it is a private key.
    throw new Error(`Key file ${file} is not valid JSON`);
  }
}
