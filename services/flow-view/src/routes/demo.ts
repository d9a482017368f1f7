import { ALERT_CATEGORIES, badRequest, isAlertCategory, notFound, OutcomeError } from '@imaging/fhir';
import { FLOW_SCOPES } from '@imaging/messaging';
import { Hono } from 'hono';
import type { Context } from 'hono';
import type { DemoControls, DemoOutcome } from '../domain/ports.ts';
import type { AppDeps, AppEnv } from '../deps.ts';
import { banner } from '../views/layout.ts';
import { sameOriginOnly } from './http.ts';
import { requireViewer } from './session.ts';

/** What the last actions came to, for the page a form submission comes back to (`/?notice=<id>`). */
export interface Notices {
  add(outcome: DemoOutcome): string;
  get(id: string | undefined): DemoOutcome | undefined;
}

export function notices(kept = 20): Notices {
  const all = new Map<string, DemoOutcome>();
  let n = 0;
  return {
    add(outcome) {
      const id = String(++n);
      all.set(id, outcome);
      if (all.size > kept) all.delete(all.keys().next().value as string);
      return id;
    },
    get: (id) => (id ? all.get(id) : undefined),
  };
}

/**
 * The demo's buttons (only when the demo serves the view): each acts, then answers the script with JSON, or a
 * form without script with a redirect to the overview showing the outcome.
 */
export function demoRoutes(deps: AppDeps, demo: DemoControls, kept: Notices): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  app.use('*', sameOriginOnly, requireViewer(FLOW_SCOPES.events, deps.publicOverview));

  const answer = (c: Context<AppEnv>, outcome: DemoOutcome) => {
    if ((c.req.header('Accept') ?? '').includes('application/json')) {
      const link = outcome.correlationId
        ? { href: `/cases/${encodeURIComponent(outcome.correlationId)}`, text: 'See its case' }
        : undefined;
      return c.json({ ...outcome, html: banner(outcome.text, outcome.ok, link).toString() }, outcome.ok ? 200 : 409);
    }
    return c.redirect(`/?notice=${kept.add(outcome)}#notice`, 303);
  };

  app.post('/orders', async (c) => answer(c, await demo.placeOrder()));

  app.post('/reports', async (c) => {
    const category = (await c.req.parseBody()).category;
    if (!isAlertCategory(category))
      throw new OutcomeError(badRequest(`category must be one of ${ALERT_CATEGORIES.join(', ')}`, 'category'));
    return answer(c, await demo.issueReport(category));
  });

  app.post('/regions/:region/:action{stop|start}', async (c) => {
    const { region, action } = c.req.param();
    if (!demo.regions().some((r) => r.id === region)) throw new OutcomeError(notFound(`A region called ${region}`));
    const outcome = action === 'stop' ? await demo.stopRegion(region) : await demo.startRegion(region);
    deps.live.controlsChanged();
    return answer(c, outcome);
  });
  return app;
}
