import { requireAuth, requireCustomScope } from '@imaging/auth';
import { createFhirApp, unsupportedInteraction } from '@imaging/fhir-http';
import { FLOW_SCOPES } from '@imaging/messaging';
import type { Hono } from 'hono';
import type { AppDeps, AppEnv } from './deps.ts';
import { caseTrailRoutes } from './routes/flow.ts';
import { metadataRoutes } from './routes/metadata.ts';
import { processMessageRoutes } from './routes/process-message.ts';
import { readRoutes } from './routes/resources.ts';
import { writeRoutes } from './routes/writes.ts';

export const READABLE_TYPES = [
  'Patient',
  'ServiceRequest',
  'Task',
  'ImagingStudy',
  'DiagnosticReport',
  'Endpoint',
] as const;

/**
 * The regional gateway: the FHIR front door of one imaging network. Only health and metadata are
 * open; everything else needs an access token from the hub.
 */
export function createApp(deps: AppDeps): Hono<AppEnv> {
  const app = createFhirApp<AppEnv>({
    logger: deps.logger,
    ...(deps.bodyLimitBytes ? { bodyLimitBytes: deps.bodyLimitBytes } : {}),
  });
  app.get('/health', (c) => c.json({ status: 'ok', region: deps.region.regionId }));
  app.route('/fhir/metadata', metadataRoutes(deps, deps.hubUrl));

  // The flow view's event feed (text/event-stream): what moves and what waits here, as it happens.
  const flow = deps.flow;
  if (flow)
    app.get('/events', requireAuth(deps.verifier), requireCustomScope(FLOW_SCOPES.events), (c) =>
      flow.subscribe(c.req.raw.signal),
    );

  app.use('/fhir/*', requireAuth(deps.verifier));
  app.route('/fhir/$process-message', processMessageRoutes(deps));
  app.route('/fhir/$case-trail', caseTrailRoutes(deps));
  app.route('/fhir', writeRoutes(deps));
  for (const type of READABLE_TYPES) app.route(`/fhir/${type}`, readRoutes(deps, type));
  const unsupported = unsupportedInteraction(READABLE_TYPES);
  app.all('/fhir/:type', unsupported);
  app.all('/fhir/:type/:id', unsupported);
  return app;
}
