import { requireCustomScope } from '@imaging/auth';
import { fhirResponse, readResource } from '@imaging/fhir-http';
import { MESSAGE_HEADERS } from '@imaging/messaging';
import type { Bundle } from '@medplum/fhirtypes';
import { Hono } from 'hono';
import type { HubContext, HubEnv } from '../deps.ts';
import { callerOf } from '../domain/caller.ts';
import { routeMessage } from '../domain/router.ts';

/** The scope a gateway needs to send messages through the hub. */
export const ROUTE_SCOPE = 'hub/route';

/** `POST /fhir/$process-message`: the cross-region router. */
export function processMessageRoutes(hub: HubContext): Hono<HubEnv> {
  const app = new Hono<HubEnv>();
  app.post('/', requireCustomScope(ROUTE_SCOPE), async (c) => {
    const bundle = await readResource<Bundle>(c, 'Bundle');
    const { status, body } = await routeMessage(
      { store: hub.deps.store, link: hub.link, clock: hub.clock, logger: hub.deps.logger, hubUrl: hub.deps.publicUrl },
      callerOf(c.var.auth),
      bundle,
      {
        target: c.req.header(MESSAGE_HEADERS.target),
        requestId: c.req.header(MESSAGE_HEADERS.requestId),
        correlationId: c.req.header(MESSAGE_HEADERS.correlationId),
      },
    );
    return fhirResponse(body, status);
  });
  return app;
}
