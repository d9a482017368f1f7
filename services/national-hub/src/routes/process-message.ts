import { callerOf, requireCustomScope } from '@imaging/auth';
import { fhirResponse, readResource } from '@imaging/fhir-http';
import { MESSAGE_HEADERS } from '@imaging/messaging';
import type { Bundle } from '@medplum/fhirtypes';
import { Hono } from 'hono';
import type { HubContext, AppEnv } from '../deps.ts';
import { routeMessage } from '../domain/router.ts';

/** The scope a gateway needs to send messages through the hub. */
export const ROUTE_SCOPE = 'hub/route';

/** `POST /fhir/$process-message`: the cross-region router. */
export function processMessageRoutes(hub: HubContext): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  app.post('/', requireCustomScope(ROUTE_SCOPE), async (c) => {
    const bundle = await readResource<Bundle>(c, 'Bundle');
    const { status, body } = await routeMessage(hub.domain, callerOf(c.var.auth), bundle, {
      target: c.req.header(MESSAGE_HEADERS.target),
      requestId: c.req.header(MESSAGE_HEADERS.requestId),
      correlationId: c.req.header(MESSAGE_HEADERS.correlationId),
    });
    return fhirResponse(body, status);
  });
  return app;
}
