import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';
import { badRequest, OutcomeError } from '@imaging/fhir';
import type { SearchSubset } from '@imaging/fhir';

/**
 * A store's paging continuation is internal (a query for the embedded store, carrying the caller's
 * access filter; a HAPI URL with its address, partition and `_getpages` id), so our API hands out a
 * token instead: the continuation and its expiry, encrypted and authenticated (AES-256-GCM), bound to
 * the caller. A client can neither read one, nor forge one to page through data outside its own search,
 * nor reuse another's, nor use one after it expires. Replicas behind one load balancer must share the
 * secret.
 */
export interface PageTokens {
  encode(continuation: string, caller: string): string;
  /** The continuation, or a 400 when the token is malformed, tampered with, expired or someone else's. */
  decode(token: string, caller: string): string;
}

export interface PageTokenOptions {
  /** How long a token stays good, in milliseconds. */
  ttlMs?: number;
  /** Where time comes from (an `@imaging/auth` Clock fits); tests pass one they move. */
  clock?: () => Date;
}

/** Long enough to read a page and ask for the next one, short enough that a leaked link soon dies. */
export const DEFAULT_PAGE_TOKEN_TTL_MS = 15 * 60_000;

const IV_BYTES = 12;
const TAG_BYTES = 16;
/** Changing it invalidates every token in circulation, as a change of format must. */
const KEY_INFO = 'imaging-connect page token AES-256-GCM v1';

/** The one answer to any token that is not good: which check failed is not the client's business. */
const invalidPageToken = () => new OutcomeError(badRequest('Invalid or expired page token', '_page'));

export function pageTokens(secret: string | Buffer, options: PageTokenOptions = {}): PageTokens {
  const { ttlMs = DEFAULT_PAGE_TOKEN_TTL_MS, clock = () => new Date() } = options;
  // The configured secret is a passphrase of any length; HKDF makes it a 256-bit key for this use only.
  const key = Buffer.from(hkdfSync('sha256', secret, Buffer.alloc(0), KEY_INFO, 32));
  return {
    encode(continuation, caller) {
      const iv = randomBytes(IV_BYTES);
      const cipher = createCipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_BYTES });
      // The caller is authenticated, not stored: decoding as anyone else fails the tag check.
      cipher.setAAD(Buffer.from(caller));
      const payload = JSON.stringify({ c: continuation, x: clock().getTime() + ttlMs });
      const sealed = Buffer.concat([cipher.update(payload, 'utf8'), cipher.final()]);
      return Buffer.concat([iv, sealed, cipher.getAuthTag()]).toString('base64url');
    },
    decode(token, caller) {
      const raw = Buffer.from(token, 'base64url');
      // Node's base64url decoding skips stray characters and spare bits; only the canonical text is ours.
      if (raw.length <= IV_BYTES + TAG_BYTES || raw.toString('base64url') !== token) throw invalidPageToken();
      const decipher = createDecipheriv('aes-256-gcm', key, raw.subarray(0, IV_BYTES), { authTagLength: TAG_BYTES });
      decipher.setAAD(Buffer.from(caller));
      decipher.setAuthTag(raw.subarray(raw.length - TAG_BYTES));
      let payload: { c?: unknown; x?: unknown };
      try {
        const plain = Buffer.concat([
          decipher.update(raw.subarray(IV_BYTES, raw.length - TAG_BYTES)),
          decipher.final(),
        ]);
        payload = JSON.parse(plain.toString('utf8')) as typeof payload;
      } catch {
        throw invalidPageToken();
      }
      if (typeof payload.c !== 'string' || typeof payload.x !== 'number' || clock().getTime() >= payload.x)
        throw invalidPageToken();
      return payload.c;
    },
  };
}

/** What a search's `_page` token carries: the store's continuation, and the subset the first page was shown in. */
export interface SearchContinuation {
  next: string;
  subset?: SearchSubset | undefined;
}

/** The `_page` token for the page after this one, good for `binding` only. */
export function searchPageToken(tokens: PageTokens, continuation: SearchContinuation, binding: string): string {
  return tokens.encode(JSON.stringify(continuation), binding);
}

/** What a `_page` token carries, or the 400 of any invalid token when it is not one of a search's. */
export function searchContinuationOf(tokens: PageTokens, token: string, binding: string): SearchContinuation {
  const decoded = tokens.decode(token, binding);
  try {
    const { next, subset } = JSON.parse(decoded) as { next?: unknown; subset?: SearchSubset };
    if (typeof next === 'string') return subset ? { next, subset } : { next };
  } catch {
    // not one of ours: refused below, as a tampered token is
  }
  throw invalidPageToken();
}
