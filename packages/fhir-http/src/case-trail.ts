import type { Bundle, OperationOutcomeIssue, Resource } from '@medplum/fhirtypes';
import {
  CANONICAL_BASE,
  cutShort,
  EXTENSIONS,
  invalid,
  issue,
  OutcomeError,
  PRESENTATION_PARAMETERS,
  presentationProblem,
} from '@imaging/fhir';
import type { WithId } from '@imaging/fhir';
import { isTraceId } from './request-context.ts';
import { entriesIfAny } from './responses.ts';

/**
 * `GET [base]/$case-trail?correlation-id=…`: everything a service holds about one case (X-Correlation-ID),
 * every version of it, oldest first, as a `collection` Bundle. What the flow view builds a case's story
 * from, and what an integration engineer would otherwise search each store for by hand.
 */
export const CASE_TRAIL_OPERATION = {
  name: 'case-trail',
  definition: `${CANONICAL_BASE}/OperationDefinition/case-trail`,
  methods: ['GET'],
} as const;

export const CASE_TRAIL_PARAM = 'correlation-id';
/** The same parameter by its shorter name (what an auditor's tooling may send): same meaning. */
export const CASE_TRAIL_PARAM_ALIAS = 'correlation';

/**
 * The case asked for, by `correlation-id` or `correlation` (either, or both when they agree); a 400 with an
 * issue per problem when it is missing, repeated with different values or not an id, or when anything but
 * it, `_format` and `_pretty` is given (an unknown parameter is refused, never silently ignored).
 */
export function caseTrailCorrelationId(params: URLSearchParams): string {
  const problems: OperationOutcomeIssue[] = [];
  for (const [name, value] of params) {
    if (name === CASE_TRAIL_PARAM || name === CASE_TRAIL_PARAM_ALIAS) continue;
    const problem = PRESENTATION_PARAMETERS.has(name)
      ? presentationProblem(name, undefined, value)
      : `$case-trail takes no '${cutShort(name)}': only ${CASE_TRAIL_PARAM} (or ${CASE_TRAIL_PARAM_ALIAS}), _format and _pretty`;
    if (problem) problems.push(issue({ code: 'not-supported', text: problem, expression: name }));
  }
  const values = [...params.getAll(CASE_TRAIL_PARAM), ...params.getAll(CASE_TRAIL_PARAM_ALIAS)];
  const distinct = [...new Set(values)];
  const value = distinct[0];
  if (distinct.length > 1)
    problems.push(
      issue({
        text: `$case-trail names one case: ${CASE_TRAIL_PARAM} and ${CASE_TRAIL_PARAM_ALIAS} (the same parameter) differ`,
        expression: CASE_TRAIL_PARAM,
      }),
    );
  else if (!isTraceId(value))
    problems.push(
      issue({
        text: `$case-trail needs one ${CASE_TRAIL_PARAM} (or ${CASE_TRAIL_PARAM_ALIAS}): 1-128 of A-Z a-z 0-9 - . _ :`,
        expression: CASE_TRAIL_PARAM,
      }),
    );
  if (problems.length) throw new OutcomeError(invalid(problems));
  return value as string;
}

/**
 * The trail as a Bundle: each entry one version, its fullUrl the versioned URL it can be read at, marked
 * with the service that holds it (`source`: `hub` or a region's id).
 */
export function caseTrailBundle(
  versions: readonly WithId<Resource>[],
  baseUrl: string,
  now: Date,
  source?: string,
): Bundle {
  return {
    resourceType: 'Bundle',
    type: 'collection',
    timestamp: now.toISOString(),
    ...entriesIfAny(
      versions.map((resource) => ({
        ...(source ? { extension: [{ url: EXTENSIONS.trailSource, valueString: source }] } : {}),
        fullUrl: `${baseUrl}/${resource.resourceType}/${resource.id}${
          resource.meta?.versionId ? `/_history/${resource.meta.versionId}` : ''
        }`,
        resource,
      })),
    ),
  };
}

type TrailEntry = NonNullable<Bundle['entry']>[number];

/** The service a trail entry was recorded by, when it is marked. */
export function trailSourceOf(entry: TrailEntry): string | undefined {
  return entry.extension?.find((e) => e.url === EXTENSIONS.trailSource)?.valueString;
}

/**
 * Trails of several services as one, in time order (when each version was stored; an AuditEvent when it
 * was recorded). Every entry keeps its source mark; an entry without one is marked `source`.
 */
export function mergeCaseTrails(parts: readonly { source: string; bundle: Bundle }[], now: Date): Bundle {
  const entries = parts.flatMap(({ source, bundle }) =>
    (bundle.entry ?? []).map(
      (entry): TrailEntry =>
        trailSourceOf(entry)
          ? entry
          : { ...entry, extension: [...(entry.extension ?? []), { url: EXTENSIONS.trailSource, valueString: source }] },
    ),
  );
  const at = (entry: TrailEntry) => {
    const r = entry.resource;
    const stamp = r?.resourceType === 'AuditEvent' ? r.recorded : r?.meta?.lastUpdated;
    return Date.parse(stamp ?? '') || 0;
  };
  return {
    resourceType: 'Bundle',
    type: 'collection',
    timestamp: now.toISOString(),
    ...entriesIfAny(
      entries
        .map((entry, i) => ({ entry, i }))
        .sort((a, b) => at(a.entry) - at(b.entry) || a.i - b.i)
        .map((e) => e.entry),
    ),
  };
}
