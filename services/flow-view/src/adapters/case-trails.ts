import type { ServiceClient } from '@imaging/auth';
import type { WithId } from '@imaging/fhir';
import { CASE_TRAIL_OPERATION, CASE_TRAIL_PARAM, trailSourceOf } from '@imaging/fhir-http';
import type { Bundle, Resource } from '@medplum/fhirtypes';
import type { TrailPort, TrailSource } from '../domain/ports.ts';

/**
 * Each service's `$case-trail`, read with the flow view's own token (scope `flow/case`). The hub's trail
 * holds every region's too, marked with where each entry was recorded: the view reads each region itself
 * (so it can say which one it could not reach), and keeps the hub's own entries only from the hub's.
 */
export function caseTrails(hubUrl: string, client: ServiceClient): TrailPort {
  return {
    async trail(source: TrailSource, correlationId: string) {
      const base = source.kind === 'hub' ? `${hubUrl}/fhir` : source.region.fhirBase;
      const url = `${base}/$${CASE_TRAIL_OPERATION.name}?${CASE_TRAIL_PARAM}=${encodeURIComponent(correlationId)}`;
      const { body } = await client.call<Bundle>(url);
      return (body.entry ?? [])
        .filter((e) => source.kind !== 'hub' || (trailSourceOf(e) ?? 'hub') === 'hub')
        .map((e) => e.resource)
        .filter((r): r is WithId<Resource> => !!r && typeof r.id === 'string');
    },
  };
}
