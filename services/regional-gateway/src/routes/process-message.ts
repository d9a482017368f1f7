import { requireCustomScope } from '@imaging/auth';
import { badRequest, OutcomeError } from '@imaging/fhir';
import { fhirResponse, readResource } from '@imaging/fhir-http';
import { MESSAGE_HEADERS } from '@imaging/messaging';
import type { Bundle } from '@medplum/fhirtypes';
import { Hono } from 'hono';
import { processMessage } from '../domain/inbound.ts';
import type { AppDeps, AppEnv } from '../deps.ts';
import { callerFrom } from '../deps.ts';

/** The scope the hub's token carries for delivering messages into a region. */
export const DELIVER_SCOPE = 'hub/deliver';

/** `$process-message`: where the hub delivers messages routed from other regions. */
export function processMessageRoutes(deps: AppDeps): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  app.post('/', requireCustomScope(DELIVER_SCOPE), async (c) => {
    // The request id is how a replay is recognised, so one we had to make up will not do.
    if (c.req.header(MESSAGE_HEADERS.requestId) !== c.var.requestId) {
      throw new OutcomeError(
        badRequest(
          `A routed message needs an ${MESSAGE_HEADERS.requestId} header of 1-128 letters, digits or -._:`,
          // FHIR's convention for an HTTP header in an issue, as checkRoutingHeaders words it.
          `http.${MESSAGE_HEADERS.requestId}`,
        ),
      );
    }
    const { response, duplicate } = await processMessage(
      deps,
      callerFrom(c, deps),
      await readResource<Bundle>(c, 'Bundle'),
      c.var.requestId,
      c.var.correlationId,
    );
    // Anything new may need sending on (e.g. an accepted order's first status update).
    if (!duplicate) deps.wakeDelivery?.();
    return fhirResponse(response, 200);
  });
  return app;
}
