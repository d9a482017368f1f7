import { hasCustomScope, hasScope } from '@imaging/auth';
import { callerOf } from '@imaging/auth';
import { caseTrailBundle, caseTrailCorrelationId, fhirResponse } from '@imaging/fhir-http';
import { forbidden, OutcomeError } from '@imaging/fhir';
import { FLOW_SCOPES } from '@imaging/messaging';
import { Hono } from 'hono';
import type { TrailReader } from '../domain/case-trail-access.ts';
import { mayAskForTrails, readCaseTrail } from '../domain/case-trail-access.ts';
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
    const claims = c.var.auth;
    const caller = callerOf(claims);
    const reader: TrailReader = {
      caller,
      observer: hasCustomScope(claims, FLOW_SCOPES.case),
      auditor: hasScope(claims, 'AuditEvent', 'read') && hasScope(claims, 'AuditEvent', 'search'),
    };
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
