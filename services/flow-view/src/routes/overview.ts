import { FLOW_SCOPES } from '@imaging/messaging';
import { Hono } from 'hono';
import { safetySummary } from '../domain/safety.ts';
import { mapPositions } from '../domain/topology.ts';
import type { AppDeps, AppEnv } from '../deps.ts';
import { overviewPage } from '../views/overview.ts';
import type { Notices } from './demo.ts';
import { htmlPage } from './http.ts';
import { requireViewer, viewerInfo } from './session.ts';

/** The live overview (`/`) and its stream of updates (`/live`): public on the dev topology, else `flow/events`. */
export function overviewRoutes(deps: AppDeps, notices: Notices): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  const allowed = requireViewer(FLOW_SCOPES.events, deps.publicOverview);

  app.get('/', allowed, (c) => {
    const state = deps.live.state();
    const now = deps.clock.now();
    const viewer = viewerInfo(c.var.viewer);
    const notice = notices.get(c.req.query('notice'));
    return htmlPage(
      c,
      overviewPage({
        nodes: state?.nodeViews() ?? [],
        positions: mapPositions(state?.topology.regions ?? []),
        activity: state?.activity() ?? [],
        safety: safetySummary(state?.alerts() ?? new Map(), now),
        ...(deps.demo ? { demo: deps.demo } : {}),
        ...(notice ? { notice } : {}),
        connected: !!state,
        ...(viewer ? { viewer } : {}),
        now,
      }),
    );
  });

  app.get('/live', allowed, (c) => deps.live.subscribe(c.req.raw.signal));
  return app;
}
