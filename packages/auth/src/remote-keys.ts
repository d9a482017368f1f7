import { createLocalJWKSet, createRemoteJWKSet, customFetch, errors } from 'jose';
import type { JSONWebKeySet, JWTVerifyGetKey } from 'jose';

/** A `fetch`-shaped function; Hono's `app.request` fits, so tests can serve keys without a port. */
export type FetchLike = (url: string, init?: RequestInit) => Response | Promise<Response>;

/** Thrown when a remote JWKS cannot be fetched or read: the keys' owner is down, not the token bad. */
export class KeyFetchError extends Error {
  constructor(url: string, cause: unknown) {
    super(`Cannot fetch the JWKS at ${url}: ${describe(cause)}`, { cause });
    this.name = 'KeyFetchError';
  }
}

export interface RemoteKeysOptions {
  fetch?: FetchLike;
  /** How long fetched keys are used before refetching (default 10 minutes). An unknown kid refetches sooner. */
  cacheMaxAgeMs?: number;
  timeoutMs?: number;
}

/**
 * Keys fetched from a JWKS URL and cached by jose (an unknown `kid` triggers a refetch, at most every
 * 30 s, so a rotated key is picked up). Failures to fetch become `KeyFetchError`s; a missing key
 * stays jose's `JWKSNoMatchingKey`.
 */
export function remoteKeys(url: string | URL, options: RemoteKeysOptions = {}): JWTVerifyGetKey {
  const href = String(url);
  const fetchImpl = options.fetch ?? fetch;
  const jwks = createRemoteJWKSet(new URL(href), {
    cacheMaxAge: options.cacheMaxAgeMs ?? 600_000,
    timeoutDuration: options.timeoutMs ?? 5_000,
    [customFetch]: async (u, init) => fetchImpl(u, init),
  });
  return async (header, token) => {
    try {
      return await jwks(header, token);
    } catch (err) {
      if (err instanceof errors.JWKSNoMatchingKey || err instanceof errors.JWKSMultipleMatchingKeys) throw err;
      throw new KeyFetchError(href, err);
    }
  };
}

/** Keys given inline (a registered client's JWKS, or the hub's keys in tests). */
export function localKeys(jwks: JSONWebKeySet): JWTVerifyGetKey {
  return createLocalJWKSet(jwks);
}

function describe(err: unknown): string {
  const cause = (err as { cause?: { code?: string } }).cause;
  return cause?.code ?? (err as Error).message ?? String(err);
}
