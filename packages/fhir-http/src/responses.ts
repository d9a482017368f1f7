import type { Bundle, Resource } from '@medplum/fhirtypes';
import type { SearchPage } from '@imaging/fhir';

export const FHIR_JSON = 'application/fhir+json; charset=utf-8';

/** A FHIR JSON response, with ETag and Last-Modified when the resource has a version. */
export function fhirResponse(body: Resource, status = 200, headers: Record<string, string> = {}): Response {
  const out = new Headers({ 'Content-Type': FHIR_JSON, ...headers });
  const version = body.meta?.versionId;
  if (version) out.set('ETag', `W/"${version}"`);
  if (body.meta?.lastUpdated) out.set('Last-Modified', new Date(body.meta.lastUpdated).toUTCString());
  return new Response(JSON.stringify(body), { status, headers: out });
}

/** 201 with a Location of the new version. */
export function createdResponse(body: Resource & { id?: string }, baseUrl: string): Response {
  const location = `${baseUrl}/${body.resourceType}/${body.id}/_history/${body.meta?.versionId ?? '1'}`;
  return fhirResponse(body, 201, { Location: location });
}

/** A searchset Bundle for one page of results; `nextUrl` is our own API's link, never the store's. */
export function searchsetBundle(page: SearchPage, baseUrl: string, selfUrl: string, nextUrl?: string): Bundle {
  const entry = (resource: Resource, mode: 'match' | 'include') => ({
    fullUrl: `${baseUrl}/${resource.resourceType}/${resource.id}`,
    resource,
    search: { mode },
  });
  const link = [{ relation: 'self', url: selfUrl }];
  if (nextUrl) link.push({ relation: 'next', url: nextUrl });
  const bundle: Bundle = {
    resourceType: 'Bundle',
    type: 'searchset',
    link,
    entry: [...page.resources.map((r) => entry(r, 'match')), ...page.included.map((r) => entry(r, 'include'))],
  };
  if (page.total !== undefined) bundle.total = page.total;
  return bundle;
}
