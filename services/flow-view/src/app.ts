import { isOutcomeError, notFound, serverError } from '@imaging/fhir';
import { fhirResponse } from '@imaging/fhir-http';
import { Hono } from 'hono';
import { compress } from 'hono/compress';
import type { AppDeps, AppEnv } from './deps.ts';
import { assetRoutes } from './routes/assets.ts';
import { caseRoutes } from './routes/cases.ts';
import { demoRoutes, notices } from './routes/demo.ts';
import { htmlPage, securityHeaders, wantsHtml } from './routes/http.ts';
import { overviewRoutes } from './routes/overview.ts';
import { sessionRoutes, viewerInfo, viewerOf } from './routes/session.ts';
import { errorPage } from './views/pages.ts';

/**
 * The flow view: server-rendered pages in the NHS design system, made live by a small script that listens
 * to `/live`. Pure: everything it reads comes from `deps`.
 */
export function createApp(deps: AppDeps): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  const kept = notices();
  app.use('*', securityHeaders);
  // Pages and assets are compressed; the live stream is not (a compressor would hold its events back).
  app.use('*', async (c, next) => (c.req.path === '/live' ? next() : compress()(c, next)));
  app.get('/health', (c) => c.json({ status: 'ok', following: deps.live.state() ? 'yes' : 'not yet' }));
  app.get('/favicon.ico', (c) => c.body(null, 204));
  app.route('/assets', assetRoutes());
  app.use('*', viewerOf(deps.verifier));
  app.route('/', sessionRoutes(deps));
  app.route('/', overviewRoutes(deps, kept));
  app.route('/cases', caseRoutes(deps));
  if (deps.demo) app.route('/demo', demoRoutes(deps, deps.demo, kept));

  app.onError((err, c) => {
    const known = isOutcomeError(err) ? err : undefined;
    if (!known) deps.logger.error('flow view: unexpected error', { path: c.req.path, error: String(err) });
    const status = (known?.status ?? 500) as 400 | 401 | 403 | 404 | 409 | 500 | 503;
    const text = known?.message ?? 'The flow view failed to answer. Its log says why.';
    if (wantsHtml(c)) return htmlPage(c, errorPage(status, text, viewerInfo(c.var.viewer)), status);
    return fhirResponse(known?.outcome ?? serverError(text), status);
  });
  app.notFound((c) => {
    const text = `There is nothing at ${c.req.path}.`;
    if (wantsHtml(c)) return htmlPage(c, errorPage(404, text, viewerInfo(c.var.viewer)), 404);
    return fhirResponse(notFound(c.req.path), 404);
  });
  return app;
}
