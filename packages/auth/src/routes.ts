import { Hono } from 'hono';
import type { Env } from 'hono';
import { JWKS_PATH, TOKEN_PATH } from './endpoints.ts';
import type { PublicJwk } from './keys.ts';
import { publicJwkOf } from './keys.ts';
import type { TokenServiceDeps } from './token-service.ts';
import { issueAccessToken, TokenRequestError } from './token-service.ts';

export interface TokenRoutesDeps extends TokenServiceDeps {
  /** Public keys still published after a rotation, so tokens signed with them verify until they expire. */
  retiredKeys?: readonly PublicJwk[];
}

// RFC 6749 §5.1: token responses must not be cached.
const NO_STORE = { 'Cache-Control': 'no-store', Pragma: 'no-cache' };

/**
 * The hub's OAuth routes, to mount at its root: `POST /oauth2/token` and `GET /.well-known/jwks.json`.
 * Neither needs a bearer token. (The SMART configuration that points at them: smart-configuration.ts.)
 */
export function tokenRoutes<E extends Env = Env>(deps: TokenRoutesDeps): Hono<E> {
  const app = new Hono<E>();

  app.post(TOKEN_PATH, async (c) => {
    const mediaType = (c.req.header('Content-Type') ?? '').split(';')[0]?.trim().toLowerCase();
    try {
      if (mediaType !== 'application/x-www-form-urlencoded') {
        throw new TokenRequestError('invalid_request', 'The token request must be application/x-www-form-urlencoded');
      }
      const form = new URLSearchParams(await c.req.text());
      return c.json(await issueAccessToken(form, deps), 200, NO_STORE);
    } catch (err) {
      if (err instanceof TokenRequestError) return c.json(err.toJSON(), err.status, NO_STORE);
      throw err; // a store failure or a bug: the app's error handler answers (and logs) it
    }
  });

  app.get(JWKS_PATH, (c) => c.json(hubJwks(deps), 200, { 'Cache-Control': 'public, max-age=300' }));

  return app;
}

/** The hub's public keys. Each is rebuilt from its public members only, whatever it was given. */
export function hubJwks(deps: Pick<TokenRoutesDeps, 'signingKey' | 'retiredKeys'>): { keys: PublicJwk[] } {
  const keys = [deps.signingKey.publicJwk, ...(deps.retiredKeys ?? [])];
  return { keys: keys.map((k) => publicJwkOf(k, k.kid, k.alg)) };
}
