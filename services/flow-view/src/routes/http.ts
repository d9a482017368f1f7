import { forbidden, OutcomeError } from '@imaging/fhir';
import type { Context, MiddlewareHandler } from 'hono';
import type { Html } from '../views/html.ts';

/** Whether the caller wants a page (a browser navigating) rather than data. */
export function wantsHtml(c: Context): boolean {
  return (c.req.header('Accept') ?? '').includes('text/html');
}

/** A page, with the view's security headers (set for every response by the app). */
export function htmlPage(
  c: Context,
  body: Html,
  status: 200 | 400 | 401 | 403 | 404 | 409 | 500 | 503 = 200,
): Response {
  return c.html(body.toString(), status);
}

/**
 * A state-changing request must come from this site's own pages (a cross-site form cannot sign someone in,
 * or stop a region): the browser's Sec-Fetch-Site says where it came from, or failing that its Origin. A
 * client that is not a browser sends neither, and carries no one's cookie but its own.
 */
export const sameOriginOnly: MiddlewareHandler = async (c, next) => {
  const site = c.req.header('Sec-Fetch-Site');
  const origin = c.req.header('Origin');
  const allowed = site ? site === 'same-origin' || site === 'none' : !origin || origin === new URL(c.req.url).origin;
  if (!allowed) throw new OutcomeError(forbidden('This action is only taken from the flow view’s own pages'));
  await next();
};

/** Headers every response carries: the page loads only what this site serves, and is never framed. */
export const securityHeaders: MiddlewareHandler = async (c, next) => {
  await next();
  c.header(
    'Content-Security-Policy',
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
  );
  c.header('X-Content-Type-Options', 'nosniff');
  c.header('Referrer-Policy', 'same-origin');
};
