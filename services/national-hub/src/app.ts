import { randomBytes } from 'node:crypto';
import { observedStore, systemClock } from '@imaging/fhir';
import {
  createAccessTokenVerifier,
  hubJwks,
  requireAuth,
  requireCustomScope,
  serviceTokenSource,
  smartConfiguration,
  smartConfigurationRoutes,
  smartEndpointsOf,
  tokenRoutes,
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
import { createRegionLink } from './adapters/region-link.ts';
import type { AppDeps, AppEnv, HubContext } from './deps.ts';
import { cachedDirectoryLookups, storeDirectoryLookups } from './domain/directory-lookups.ts';
import { pointerIds } from './adapters/pointer-ids.ts';
import { documentReferenceRoutes } from './routes/document-reference.ts';
import { DIRECTORY_TYPES, directoryRoutes } from './routes/directory.ts';
import { auditEventRoutes, caseTrailRoutes } from './routes/flow.ts';
import {
  HUB_DECLARED_RESOURCES,
  HUB_OPERATIONS,
  HUB_PUBLISHED,
  HUB_RESOURCES,
  metadataRoutes,
} from './routes/metadata.ts';
import { processMessageRoutes } from './routes/process-message.ts';

/**
 * What the hub's own token carries when it calls a region: deliver messages, read results for the locator,
 * read a case's trail.
 */
export const HUB_SERVICE_SCOPES = [
  'hub/deliver',
  'system/ImagingStudy.rs',
  'system/DiagnosticReport.rs',
  // Each region's $case-trail, to rebuild a case across regions.
  'system/AuditEvent.rs',
] as const;

/** How long the router reuses a directory answer unless told (`DIRECTORY_CACHE_TTL`). */
export const DEFAULT_DIRECTORY_CACHE_TTL_MS = 5_000;

export const SERVED_TYPES = [...DIRECTORY_TYPES, 'DocumentReference'] as const;

/**
 * The national hub: token service, directory, router and locator. Open: health, metadata, the OAuth
 * endpoints and SMART configuration, and the published profiles; everything else needs one of the
 * hub's own access tokens.
 */
export function createApp(deps: AppDeps): Hono<AppEnv> {
  const clock = deps.clock ?? systemClock;
  const audience = deps.audience;
  const signer = {
    signingKey: deps.signingKey,
    issuer: deps.publicUrl,
    clock,
    ...(audience ? { audience } : {}),
    ...(deps.tokenTtlSeconds ? { ttlSeconds: deps.tokenTtlSeconds } : {}),
  };
  const directory = cachedDirectoryLookups(storeDirectoryLookups(deps.store), {
    clock,
    ttlMs: deps.directoryCacheTtlMs ?? DEFAULT_DIRECTORY_CACHE_TTL_MS,
  });
  // What the app writes through its store is seen by the directory cache: its own writes are exact at once.
  const store = observedStore(deps.store, directory.forgetOn);
  const hub: HubContext = {
    deps: { ...deps, store },
    baseUrl: `${deps.publicUrl}/fhir`,
    domain: {
      store,
      directory,
      regions: createRegionLink({
        tokens: serviceTokenSource(signer, { scope: HUB_SERVICE_SCOPES, ...(audience ? { audience } : {}) }),
        ...(deps.fetch ? { fetch: deps.fetch } : {}),
        timeoutMs: deps.forwardTimeoutMs ?? 10_000,
        ...(deps.gatewayBases ? { gatewayBases: deps.gatewayBases } : {}),
      }),
      clock,
      logger: deps.logger,
      hubUrl: deps.publicUrl,
      // Without a configured secret (a test's hub), pointer ids hold for this process's life only.
      pointerIds: deps.pointerIds ?? pointerIds(randomBytes(32)),
    },
  };
  // The hub checks its own tokens against its own public keys: no network call to itself.
  const verifier = createAccessTokenVerifier({
    keys: hubJwks(deps),
    issuer: deps.publicUrl,
    clock,
    ...(audience ? { audience } : {}),
  });

  const app = createFhirApp<AppEnv>({
    logger: deps.logger,
    ...(deps.bodyLimitBytes ? { bodyLimitBytes: deps.bodyLimitBytes } : {}),
  });
  app.get('/health', (c) => c.json({ status: 'ok' }));
  app.route(
    '/',
    tokenRoutes<AppEnv>({
      ...signer,
      registry: deps.registry,
      store,
      ...(deps.retiredKeys ? { retiredKeys: deps.retiredKeys } : {}),
    }),
  );
  app.route(
    '/',
    smartConfigurationRoutes(smartConfiguration(smartEndpointsOf(deps.publicUrl), deps.registry.scopes())),
  );
  app.route('/fhir/metadata', metadataRoutes(hub));
  app.route('/fhir', publishedRoutes(HUB_PUBLISHED, hub.baseUrl, clock));

  // The flow view's event feed (text/event-stream): what the hub routes, as it happens.
  const flow = deps.flow;
  if (flow)
    app.get('/events', requireAuth(verifier), requireCustomScope(FLOW_SCOPES.events), (c) =>
      flow.subscribe(c.req.raw.signal),
    );

  // A search by POST (or at `_search`) is answered as its GET, token check included.
  mountSearchByPost(app, HUB_DECLARED_RESOURCES);
  app.use('/fhir/*', requireAuth(verifier));
  answerUnofferedHistory(app, HUB_DECLARED_RESOURCES); // before the routes whose /:id would take `_history`
  checkOperationsAsDeclared(app, HUB_DECLARED_RESOURCES, HUB_OPERATIONS);
  mountBatch(app);
  // The audit trail is immutable: written by the hub only, beside what it records.
  app.on([...AUDIT_EVENT_WRITES], ['/fhir/AuditEvent', '/fhir/AuditEvent/*'], refuseAuditEventWrite);
  app.route('/fhir/AuditEvent', auditEventRoutes(hub));
  app.route('/fhir', validateRoutes(SERVED_TYPES));
  app.route('/fhir/$process-message', processMessageRoutes(hub));
  app.route('/fhir/$case-trail', caseTrailRoutes(hub));
  for (const type of DIRECTORY_TYPES) app.route(`/fhir/${type}`, directoryRoutes(hub, type));
  app.route('/fhir/DocumentReference', documentReferenceRoutes(hub));
  answerUnsupportedInteractions(app, HUB_RESOURCES);
  return app;
}
