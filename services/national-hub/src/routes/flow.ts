import { requireCustomScope } from '@imaging/auth';
import { systemClock } from '@imaging/fhir';
import { caseTrailBundle, caseTrailCorrelationId, fhirResponse } from '@imaging/fhir-http';
import { FLOW_SCOPES } from '@imaging/messaging';
import { Hono } from 'hono';
import { hubCaseTrail } from '../domain/flow.ts';
import type { AppEnv, HubContext } from '../deps.ts';

/** `$case-trail`: the hub's audit trail of one case, for the flow view (scope `flow/case`). */
export function caseTrailRoutes(hub: HubContext): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  app.get('/', requireCustomScope(FLOW_SCOPES.case), async (c) => {
    const correlationId = caseTrailCorrelationId(new URL(c.req.url).searchParams);
    const events = await hubCaseTrail(hub.deps.store, correlationId);
    return fhirResponse(caseTrailBundle(events, hub.baseUrl, (hub.deps.clock ?? systemClock).now()));
  });
  return app;
}
