import type { Bundle, BundleEntry, Resource } from '@medplum/fhirtypes';
import { issue, OutcomeError, outcomeOf, PRESENTATION_PARAMETERS, presentationProblem } from '@imaging/fhir';
import type { WithId } from '@imaging/fhir';

/** The interactions that read a resource's versions, declared wherever its read is (a write's Location names a version). */
export const VERSION_READS = ['vread', 'history-instance'] as const;

/**
 * A history interaction's parameters: none is answered here (every version the caller may see comes back,
 * newest first, in one Bundle), so `_since`, `_count` or anything else is a 400 rather than silently ignored.
 */
export function checkHistoryParams(url: URL): void {
  const problems = [...url.searchParams].flatMap(([name, value]) => {
    const problem = PRESENTATION_PARAMETERS.has(name) // answered as a search answers them
      ? presentationProblem(name, undefined, value)
      : `History takes no '${name}' here: every version you may see is returned, newest first`;
    return problem ? [issue({ code: 'not-supported', text: problem, expression: name })] : [];
  });
  if (problems.length) throw new OutcomeError(outcomeOf('bad-request', problems));
}

/**
 * A history Bundle (R4 http.html#history) of one resource's versions, newest first: each entry carries its
 * ETag and time, and the request R4 requires there. The stores keep no method, so a first version is shown as
 * a create (`POST`) and later ones as updates (`PUT`), even where a client-assigned id was first written by a
 * `PUT`. `asked` is the request, for the self link.
 */
export function historyBundle(
  versions: readonly WithId<Resource>[],
  baseUrl: string,
  asked: { type: string; id: string; url: URL },
): Bundle {
  const entry = (resource: WithId<Resource>): BundleEntry => {
    const version = resource.meta?.versionId ?? '1';
    const path = `${resource.resourceType}/${resource.id}`;
    const first = version === '1';
    return {
      fullUrl: `${baseUrl}/${path}`,
      resource,
      request: { method: first ? 'POST' : 'PUT', url: first ? resource.resourceType : path },
      response: {
        status: first ? '201 Created' : '200 OK',
        etag: `W/"${version}"`,
        ...(resource.meta?.lastUpdated ? { lastModified: resource.meta.lastUpdated } : {}),
      },
    };
  };
  return {
    resourceType: 'Bundle',
    type: 'history',
    total: versions.length,
    link: [{ relation: 'self', url: `${baseUrl}/${asked.type}/${asked.id}/_history${asked.url.search}` }],
    entry: versions.map(entry),
  };
}
