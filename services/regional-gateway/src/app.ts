import {
  requireAuth,
  requireCustomScope,
  scopesForInteractions,
  smartConfiguration,
  smartConfigurationRoutes,
  smartEndpointsOf,
} from '@imaging/auth';
import {
  answerUnofferedHistory,
  AUDIT_EVENT_WRITES,
  createFhirApp,
  mountBatch,
  mountSearchByPost,
  checkOperationsAsDeclared,
  publishedRoutes,
  refuseAuditEventWrite,
  answerUnsupportedInteractions,
  validateRoutes,
} from '@imaging/fhir-http';
import { FLOW_SCOPES } from '@imaging/messaging';
import type { Hono } from 'hono';
import type { AppDeps, AppEnv } from './deps.ts';
import { callerFrom } from './deps.ts';
import { auditEventRoutes, caseTrailRoutes } from './routes/flow.ts';
import { LEARNING_REPORT_SCOPE, learningReportRoutes } from './routes/learning-report.ts';
import {
  GATEWAY_DECLARED_RESOURCES,
  GATEWAY_OPERATIONS,
  GATEWAY_PUBLISHED,
  GATEWAY_RESOURCES,
  metadataRoutes,
} from './routes/metadata.ts';
import { DELIVER_SCOPE } from './routes/process-message.ts';
import { alertOperationRoutes } from './routes/alert-operations.ts';
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
  // Written by the safety layer only: read and searched by the parties to the alert or breach.
  'Communication',
  'Flag',
] as const;

const LEARNING_REPORT_PATH = '/fhir/$learning-report';

/** The types clients write, whose profiles `$validate` checks before they send. */
const VALIDATED_TYPES = READABLE_TYPES.filter((t) => t !== 'Communication' && t !== 'Flag');

/**
 * The regional gateway: the FHIR front door of one imaging network. Open: health, metadata, the SMART
 * configuration and the published profiles and value sets; everything else needs an access token from
 * the hub.
 */
export function createApp(deps: AppDeps): Hono<AppEnv> {
  const app = createFhirApp<AppEnv>({
    logger: deps.logger,
    // The learning report is offered as CSV and HTML too, chosen by its own `_format` or Accept.
    ownFormats: [LEARNING_REPORT_PATH],
    ...(deps.bodyLimitBytes ? { bodyLimitBytes: deps.bodyLimitBytes } : {}),
  });
  app.get('/health', (c) => c.json({ status: 'ok', region: deps.region.regionId }));
  const scopes = [...scopesForInteractions(GATEWAY_RESOURCES), DELIVER_SCOPE, LEARNING_REPORT_SCOPE];
  app.route('/', smartConfigurationRoutes(smartConfiguration(smartEndpointsOf(deps.hubUrl), scopes)));
  app.route('/fhir/metadata', metadataRoutes(deps, deps.hubUrl));
  app.route('/fhir', publishedRoutes(GATEWAY_PUBLISHED, deps.region.fhirBaseUrl, deps.clock));

  // The flow view's event feed (text/event-stream): what moves and what waits here, as it happens.
  const flow = deps.flow;
  if (flow)
    app.get('/events', requireAuth(deps.verifier), requireCustomScope(FLOW_SCOPES.events), (c) =>
      flow.subscribe(c.req.raw.signal),
    );

  // A search by POST (or at `_search`) is answered as its GET, token check included.
  mountSearchByPost(app, GATEWAY_DECLARED_RESOURCES);
  app.use('/fhir/*', requireAuth(deps.verifier));
  answerUnofferedHistory(app, GATEWAY_DECLARED_RESOURCES); // before the routes whose /:id would take `_history`
  checkOperationsAsDeclared(app, GATEWAY_DECLARED_RESOURCES, GATEWAY_OPERATIONS);
  // Another region's client may read nothing here: refused whole, as each read alone would be.
  mountBatch(app, { admit: (c) => callerFrom(c, deps) });
  // The audit trail is immutable: written by the gateway only, beside what it records.
  app.on([...AUDIT_EVENT_WRITES], ['/fhir/AuditEvent', '/fhir/AuditEvent/*'], refuseAuditEventWrite);
  app.route('/fhir/AuditEvent', auditEventRoutes(deps));
  app.route('/fhir', validateRoutes(VALIDATED_TYPES));
  app.route('/fhir/$process-message', processMessageRoutes(deps));
  app.route('/fhir/$case-trail', caseTrailRoutes(deps));
  app.route(LEARNING_REPORT_PATH, learningReportRoutes(deps));
  app.route('/fhir', writeRoutes(deps));
  app.route('/fhir/Task', alertOperationRoutes(deps));
  for (const type of READABLE_TYPES) app.route(`/fhir/${type}`, readRoutes(deps, type));
  answerUnsupportedInteractions(app, GATEWAY_RESOURCES);
  return app;
}
