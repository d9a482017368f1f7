import { callerOf, hasCustomScope, hasScope } from '@imaging/auth';
import type { AccessClaims } from '@imaging/auth';
import { caseReaders, issue, SYSTEMS, systemClock } from '@imaging/fhir';
import type { Caller, WithId } from '@imaging/fhir';
import {
  askedQuery,
  auditEventReadRoutes,
  caseTrailBundle,
  caseTrailCorrelationId,
  fhirResponse,
  mergeCaseTrails,
} from '@imaging/fhir-http';
import { FLOW_SCOPES } from '@imaging/messaging';
import type { AuditEvent, Bundle, OperationOutcome } from '@medplum/fhirtypes';
import { Hono } from 'hono';
import { nhsNumbersNamedBy, recordAudit } from '../domain/audit.ts';
import { nationalCaseTrail } from '../domain/case-trail.ts';
import type { NationalCaseTrail } from '../domain/case-trail.ts';
import type { AppContext, AppEnv, HubContext } from '../deps.ts';

/** How the hub's own entries are marked in a merged trail. */
export const HUB_TRAIL_SOURCE = 'hub';

/**
 * `$case-trail?correlation-id=` (or `correlation=`): the whole case across regions. The hub's own AuditEvents
 * about it, and the trail of every region it passed through, read over HTTP with the hub's service token,
 * merged in time order, each entry marked with the service that holds it (`hub` or the region's id); a region
 * that could not be read is an OperationOutcome entry marked with its id. For the flow view (scope
 * `flow/case`), national auditors (`system/AuditEvent.rs`, in no region) and the case's own organisations
 * (the requester or performer of its stored order, as the regions' trails say). Anyone else gets what an
 * unknown case gets: an empty trail. An organisation's reading is a 503 while any region's trail cannot be
 * read (national readers get the OperationOutcome entry instead). Every trail given out is recorded
 * (case-trail-disclosed).
 */
export function caseTrailRoutes(hub: HubContext): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  app.get('/', async (c) => {
    const correlationId = caseTrailCorrelationId(new URL(c.req.url).searchParams);
    const clock = hub.deps.clock ?? systemClock;
    const claims = c.var.auth;
    const caller = callerOf(claims);
    const empty = () => fhirResponse(mergeCaseTrails([], clock.now()));
    const national = mayReadAnyCase(claims);
    if (!national && !caller.organisation) return empty();
    const found = await nationalCaseTrail(hub.domain, correlationId);
    const parts = trailParts(found, hub.baseUrl, clock.now());
    const resources = parts.flatMap((p) => (p.bundle.entry ?? []).flatMap((e) => (e.resource ? [e.resource] : [])));
    if (!national && !caseReaders(resources).has(caller.organisation as string)) return empty();
    // A region's trail that could not be read may hold another requester's order, which would leave the case
    // no organisation's (caseReaders): until every region answers, an organisation's reading fails closed.
    const unread = found.regions.filter((r) => !('trail' in r));
    if (!national && unread.length) return trailIncomplete(unread.length);
    if (resources.length)
      await recordTrailDisclosure(hub, caller, { requestId: c.var.requestId, correlationId }, found);
    return fhirResponse(mergeCaseTrails(parts, clock.now()));
  });
  return app;
}

/**
 * `AuditEvent/{id}` (and its one version), what the hub recorded, where its trail entries' fullUrls point,
 * and the search of them, for those who may read any case's trail. A case's own organisations read the
 * hub's AuditEvents of their case in its trail.
 */
export function auditEventRoutes(hub: HubContext): Hono<AppEnv> {
  return auditEventReadRoutes<AppEnv>({
    store: hub.domain.store,
    baseUrl: hub.baseUrl,
    disclose: (c, events) => recordAuditEventRead(hub, c, events),
    pageTokens: hub.deps.pageTokens,
    callerId: (c) => c.var.auth.sub,
    refusal: (c) =>
      mayReadAnyCase(c.var.auth)
        ? undefined
        : `${callerOf(c.var.auth).clientId} may not read the hub's AuditEvents: it needs scope ${FLOW_SCOPES.case}, or system/AuditEvent.rs in no region; a case's own organisations read its AuditEvents in $case-trail`,
  });
}

/**
 * The hub's record that it gave out its own AuditEvents: who read them, and the patients they name. One that
 * names no patient (a trail's reading) discloses nothing, as at a gateway.
 */
async function recordAuditEventRead(hub: HubContext, c: AppContext, events: readonly WithId<AuditEvent>[]) {
  const nhsNumbers = [...new Set(events.flatMap(nhsNumbersNamedBy))];
  if (nhsNumbers.length === 0) return;
  await recordAudit(hub.domain.store, {
    subtype: 'audit-event-read',
    action: 'R',
    from: { hub: true },
    to: { caller: callerOf(c.var.auth) },
    requestor: 'to',
    nhsNumbers,
    data: events.map((e) => ({ what: { reference: `AuditEvent/${e.id}/_history/${e.meta?.versionId ?? '1'}` } })),
    requestId: c.var.requestId,
    correlationId: c.var.correlationId,
    query: askedQuery(new URL(c.req.url)),
    outcome: { status: 200 },
    recorded: (hub.deps.clock ?? systemClock).now(),
    observer: hub.deps.publicUrl,
  });
}

/** The flow view, and national auditors (the hub's trail reaches into every region). */
function mayReadAnyCase(claims: AccessClaims): boolean {
  if (hasCustomScope(claims, FLOW_SCOPES.case)) return true;
  return !claims.region && hasScope(claims, 'AuditEvent', 'read') && hasScope(claims, 'AuditEvent', 'search');
}

function trailParts(found: NationalCaseTrail, baseUrl: string, now: Date): { source: string; bundle: Bundle }[] {
  return [
    { source: HUB_TRAIL_SOURCE, bundle: caseTrailBundle(found.hub, baseUrl, now, HUB_TRAIL_SOURCE) },
    ...found.regions.map((r): { source: string; bundle: Bundle } => ({
      source: r.regionId,
      bundle:
        'trail' in r
          ? r.trail
          : { resourceType: 'Bundle', type: 'collection', entry: [{ resource: missingTrail(r.regionId, r.problem) }] },
    })),
  ];
}

/** 503: who may read the case cannot be settled while a region's trail is missing. Names no region. */
function trailIncomplete(regions: number): Response {
  const outcome: OperationOutcome = {
    resourceType: 'OperationOutcome',
    issue: [
      issue({
        severity: 'error',
        code: 'transient',
        text: `The case's trail could not be read in ${regions === 1 ? 'one region' : `${regions} regions`}, so who may read it cannot be checked; try again later`,
      }),
    ],
  };
  return fhirResponse(outcome, 503, { 'Retry-After': '30' });
}

function missingTrail(regionId: string, problem: string): OperationOutcome {
  return {
    resourceType: 'OperationOutcome',
    issue: [
      issue({
        severity: 'warning',
        code: 'incomplete',
        text: `The trail of region ${regionId} is missing: ${problem}`,
      }),
    ],
  };
}

/** The hub's record that it gave out a case's trail: who asked, and which regions' trails it held. */
async function recordTrailDisclosure(
  hub: HubContext,
  caller: Caller,
  ids: { requestId: string; correlationId: string },
  found: NationalCaseTrail,
) {
  const { requestId, correlationId } = ids;
  await recordAudit(hub.domain.store, {
    subtype: 'case-trail-disclosed',
    action: 'E',
    from: { hub: true },
    to: { caller },
    requestor: 'to',
    nhsNumbers: [],
    data: found.regions.map((r) => ({
      what: { identifier: { system: SYSTEMS.region, value: r.regionId } },
      detail: { read: 'trail' in r ? 'yes' : `no: ${r.problem}` },
    })),
    requestId,
    correlationId,
    query: `$case-trail?correlation-id=${correlationId}`,
    outcome: { status: 200 },
    recorded: (hub.deps.clock ?? systemClock).now(),
    observer: hub.deps.publicUrl,
  });
}
