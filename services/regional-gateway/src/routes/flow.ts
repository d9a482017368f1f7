import { auditEventReadRoutes, caseTrailBundle, caseTrailCorrelationId, fhirResponse } from '@imaging/fhir-http';
import { forbidden, OutcomeError } from '@imaging/fhir';
import { FLOW_SCOPES } from '@imaging/messaging';
import { Hono } from 'hono';
import { callerOf, hasCustomScope, hasScope } from '@imaging/auth';
import type { AccessClaims } from '@imaging/auth';
import type { TrailReader } from '../domain/case-trail-access.ts';
import { mayAskForTrails, mayReadAnyTrail, readCaseTrail } from '../domain/case-trail-access.ts';
import type { AppDeps, AppEnv } from '../deps.ts';
import { recordDisclosure } from './disclosure.ts';

/**
 * `$case-trail?correlation-id=` (or `correlation=`): the full story of one case as this gateway holds it,
 * every version of its resources and every AuditEvent about it (who saw what, when, and what they did),
 * oldest first; for the flow view, auditors and the case's own organisations (case-trail-access.ts). The
 * one read open to clients of other regions, as national observers and auditors are; reading a trail is
 * itself a disclosure, and recorded.
 */
export function caseTrailRoutes(deps: AppDeps): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  app.get('/', async (c) => {
    const correlationId = caseTrailCorrelationId(new URL(c.req.url).searchParams);
    const reader = trailReaderOf(c.var.auth);
    const { caller } = reader;
    if (!mayAskForTrails(reader, deps.region)) {
      throw new OutcomeError(
        forbidden(
          `${caller.clientId} may not read case trails here: it needs scope ${FLOW_SCOPES.case} or system/AuditEvent.rs, or to be a client of this region acting for an organisation`,
        ),
      );
    }
    const versions = await readCaseTrail(deps, reader, correlationId);
    recordDisclosure(deps, c, caller, 'case-trail', versions, correlationId);
    return fhirResponse(caseTrailBundle(versions, deps.region.fhirBaseUrl, deps.clock.now(), deps.region.regionId));
  });
  return app;
}

/**
 * `AuditEvent/{id}` (and its one version), where every trail entry's fullUrl points, and the search of them
 * (who saw or did what, to which patient, when), for those who may read any case's trail here. A case's own
 * organisations read its AuditEvents in its trail.
 */
export function auditEventRoutes(deps: AppDeps): Hono<AppEnv> {
  return auditEventReadRoutes<AppEnv>({
    store: deps.store,
    baseUrl: deps.region.fhirBaseUrl,
    disclose: (c, events, kind) => recordDisclosure(deps, c, callerOf(c.var.auth), kind, events),
    pageTokens: deps.pageTokens,
    callerId: (c) => c.var.auth.sub,
    refusal: (c) => {
      const reader = trailReaderOf(c.var.auth);
      if (mayReadAnyTrail(reader, deps.region)) return undefined;
      return `${reader.caller.clientId} may not read AuditEvents here: it needs scope ${FLOW_SCOPES.case} or system/AuditEvent.rs (national or of this region); a case's own organisations read its AuditEvents in $case-trail`;
    },
  });
}

/** What a token says about reading trails here: who it is, and whether it observes or audits. */
export function trailReaderOf(claims: AccessClaims): TrailReader {
  return {
    caller: callerOf(claims),
    observer: hasCustomScope(claims, FLOW_SCOPES.case),
    auditor: hasScope(claims, 'AuditEvent', 'read') && hasScope(claims, 'AuditEvent', 'search'),
  };
}
