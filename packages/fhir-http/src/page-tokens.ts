import { createHmac, timingSafeEqual } from 'node:crypto';
import { badRequest, OutcomeError } from '@imaging/fhir';

/**
 * A store's paging continuation is internal (a query for the embedded store, a HAPI URL for the HTTP
 * one), so our API hands out a signed token instead: the continuation plus the caller's id, with an
 * HMAC. A client cannot forge one to page through data outside its own search, nor reuse another's.
 * Replicas behind one load balancer must share the secret.
 */
export interface PageTokens {
  encode(continuation: string, caller: string): string;
  /** The continuation, or a 400 when the token is malformed, tampered with or someone else's. */
  decode(token: string, caller: string): string;
}

export function pageTokens(secret: string | Buffer): PageTokens {
  const sign = (payload: string) => createHmac('sha256', secret).update(payload).digest();
  return {
    encode(continuation, caller) {
      const payload = Buffer.from(JSON.stringify({ c: continuation, u: caller })).toString('base64url');
      return `${payload}.${sign(payload).toString('base64url')}`;
    },
    decode(token, caller) {
      const [payload, mac] = token.split('.');
      const invalid = new OutcomeError(badRequest('Invalid or expired page token', '_page'));
      if (!payload || !mac) throw invalid;
      const expected = sign(payload);
      const given = Buffer.from(mac, 'base64url');
      if (given.length !== expected.length || !timingSafeEqual(given, expected)) throw invalid;
      const parsed = JSON.parse(Buffer.from(payload, 'base64url').toString()) as { c: string; u: string };
      if (parsed.u !== caller) throw invalid;
      return parsed.c;
    },
  };
}
