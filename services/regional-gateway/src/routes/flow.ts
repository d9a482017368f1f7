import { requireCustomScope } from '@imaging/auth';
import { caseTrailBundle, caseTrailCorrelationId, fhirResponse } from '@imaging/fhir-http';
import { FLOW_SCOPES } from '@imaging/messaging';
import { Hono } from 'hono';
import { caseTrail } from '../domain/flow.ts';
import type { AppDeps, AppEnv } from '../deps.ts';

/**
 * `$case-trail`: the full story of one case as this gateway holds it, for the flow view (scope `flow/case`).
 * An observer is national, so this is the one read that does not ask for a client of this region.
 */
export function caseTrailRoutes(deps: AppDeps): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  app.get('/', requireCustomScope(FLOW_SCOPES.case), async (c) => {
    const correlationId = caseTrailCorrelationId(new URL(c.req.url).searchParams);
    const versions = await caseTrail(deps.store, correlationId);
    return fhirResponse(caseTrailBundle(versions, deps.region.fhirBaseUrl, deps.clock.now()));
  });
  return app;
}
