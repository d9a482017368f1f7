import type { Bundle, Resource } from '@medplum/fhirtypes';
import { badRequest, CANONICAL_BASE, OutcomeError } from '@imaging/fhir';
import type { WithId } from '@imaging/fhir';
import { isTraceId } from './request-context.ts';

/**
 * `GET [base]/$case-trail?correlation-id=…`: everything a service holds about one case (X-Correlation-ID),
 * every version of it, oldest first, as a `collection` Bundle. What the flow view builds a case's story
 * from, and what an integration engineer would otherwise search each store for by hand.
 */
export const CASE_TRAIL_OPERATION = {
  name: 'case-trail',
  definition: `${CANONICAL_BASE}/OperationDefinition/case-trail`,
} as const;

export const CASE_TRAIL_PARAM = 'correlation-id';

/** The case asked for; a 400 when it is missing, repeated or not an id. */
export function caseTrailCorrelationId(params: URLSearchParams): string {
  const values = params.getAll(CASE_TRAIL_PARAM);
  const value = values[0];
  if (values.length !== 1 || !isTraceId(value))
    throw new OutcomeError(
      badRequest(`$case-trail needs one ${CASE_TRAIL_PARAM}: 1-128 of A-Z a-z 0-9 - . _ :`, CASE_TRAIL_PARAM),
    );
  return value;
}

/** The trail as a Bundle: each entry one version, its fullUrl the versioned URL it can be read at. */
export function caseTrailBundle(versions: readonly WithId<Resource>[], baseUrl: string, now: Date): Bundle {
  return {
    resourceType: 'Bundle',
    type: 'collection',
    timestamp: now.toISOString(),
    entry: versions.map((resource) => ({
      fullUrl: `${baseUrl}/${resource.resourceType}/${resource.id}${
        resource.meta?.versionId ? `/_history/${resource.meta.versionId}` : ''
      }`,
      resource,
    })),
  };
}
