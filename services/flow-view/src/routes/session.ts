import type { AccessClaims } from '@imaging/auth';
import { bearerTokenOf, hasCustomScope } from '@imaging/auth';
import { forbidden, OutcomeError, unauthorized } from '@imaging/fhir';
import { Hono } from 'hono';
import type { MiddlewareHandler } from 'hono';
import { deleteCookie, getCookie, setCookie } from 'hono/cookie';
import type { AppDeps, AppEnv } from '../deps.ts';
import type { ViewerInfo } from '../views/layout.ts';
import { loginPage } from '../views/pages.ts';
import { htmlPage, sameOriginOnly, wantsHtml } from './http.ts';

/**
 * Who is looking. A viewer signs in with an access token the hub issued (pasted once, then kept in an
 * HttpOnly, SameSite=Strict cookie until it expires), or sends it as a Bearer header. What they may see
 * follows from its scopes: `flow/events` the live overview, `flow/case` a case and its resources.
 */
export const VIEWER_COOKIE = 'flow_view_token';

export function viewerOf(verifier: AppDeps['verifier']): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const header = c.req.header('Authorization');
    const token = header ? safeBearer(header) : getCookie(c, VIEWER_COOKIE);
    let viewer: AccessClaims | undefined;
    if (token) {
      try {
        viewer = await verifier.verify(token);
      } catch {
        // An expired or forged token is no token: the viewer is asked to sign in again.
        if (!header) deleteCookie(c, VIEWER_COOKIE, { path: '/' });
      }
    }
    c.set('viewer', viewer);
    await next();
  };
}

function safeBearer(header: string): string | undefined {
  try {
    return bearerTokenOf(header);
  } catch {
    return undefined;
  }
}

export function viewerInfo(viewer: AccessClaims | undefined): ViewerInfo | undefined {
  return viewer ? { clientId: viewer.sub, expiresAt: new Date(viewer.exp * 1000).toISOString() } : undefined;
}

/**
 * Lets a request through only for a viewer whose token carries `scope` (or anyone, when `open`): a page
 * sends someone not signed in to sign in; anything else gets 401, and a token without the scope 403.
 */
export function requireViewer(scope: string, open = false): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    if (open) return next();
    const viewer = c.var.viewer;
    if (!viewer) {
      if (wantsHtml(c) && c.req.method === 'GET')
        return c.redirect(`/login?next=${encodeURIComponent(new URL(c.req.url).pathname)}`, 303);
      throw new OutcomeError(unauthorized('Sign in with an access token from the national hub'));
    }
    if (!hasCustomScope(viewer, scope))
      throw new OutcomeError(forbidden(`Your token (${viewer.sub}) does not carry scope ${scope}, which this needs`));
    await next();
  };
}

/** Only a path on this site: a sign-in must never send anyone elsewhere. */
function localPath(next: string | undefined): string {
  return next && /^\/(?![/\\])/.test(next) ? next : '/';
}

export function sessionRoutes(deps: AppDeps): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  app.get('/login', (c) => htmlPage(c, loginPage({ next: localPath(c.req.query('next')), hubUrl: deps.hubUrl })));
  app.post('/login', sameOriginOnly, async (c) => {
    const form = await c.req.parseBody();
    const next = localPath(typeof form.next === 'string' ? form.next : undefined);
    const token = typeof form.token === 'string' ? form.token.trim() : '';
    const refuse = (problem: string) => htmlPage(c, loginPage({ next, problem, hubUrl: deps.hubUrl }), 400);
    if (!token) return refuse('Enter an access token');
    let claims: AccessClaims;
    try {
      claims = await deps.verifier.verify(token);
    } catch (err) {
      return refuse(`The national hub did not issue this token, or it has expired (${(err as Error).message})`);
    }
    const ttl = claims.exp - Math.floor(deps.clock.now().getTime() / 1000);
    setCookie(c, VIEWER_COOKIE, token, {
      path: '/',
      httpOnly: true,
      sameSite: 'Strict',
      secure: new URL(c.req.url).protocol === 'https:',
      maxAge: Math.max(1, ttl),
    });
    return c.redirect(next, 303);
  });
  app.post('/logout', sameOriginOnly, (c) => {
    deleteCookie(c, VIEWER_COOKIE, { path: '/' });
    return c.redirect('/', 303);
  });
  return app;
}
