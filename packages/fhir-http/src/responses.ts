import type { Bundle, Resource } from '@medplum/fhirtypes';
import type { SearchPage } from '@imaging/fhir';
import { allOk, created as createdOutcome } from '@imaging/fhir';

export const FHIR_JSON = 'application/fhir+json; charset=utf-8';
/** The media types FHIR JSON goes by: the only ones read in a body or answered in. */
export const FHIR_JSON_MEDIA_TYPES: readonly string[] = [
  'application/fhir+json',
  'application/json',
  'application/json+fhir', // DSTU2's, still sent by older clients; `_format` takes it too
];

/**
 * A Bundle's `entry`, left out when there is none: FHIR JSON has no empty arrays (R4 json.html), so
 * `"entry": []` fails a validator. Spread it into the Bundle.
 */
export function entriesIfAny<T>(entries: readonly T[]): { entry?: T[] } {
  return entries.length ? { entry: [...entries] } : {};
}

/** A FHIR JSON response, with ETag and Last-Modified when the resource has a version. */
export function fhirResponse(body: Resource, status = 200, headers: Record<string, string> = {}): Response {
  const out = new Headers({ 'Content-Type': FHIR_JSON, ...headers });
  const version = body.meta?.versionId;
  if (version) out.set('ETag', `W/"${version}"`);
  if (body.meta?.lastUpdated) out.set('Last-Modified', new Date(body.meta.lastUpdated).toUTCString());
  return new Response(JSON.stringify(body), { status, headers: out });
}

/** What a client asked a write to answer with (`Prefer: return=…`, FHIR R4 http.html#ops). */
export type ReturnPreference = 'minimal' | 'representation' | 'OperationOutcome';

const RETURN_PREFERENCES: readonly ReturnPreference[] = ['minimal', 'representation', 'OperationOutcome'];

/**
 * The `return` preference of a `Prefer` header (RFC 7240: comma-separated, parameters after `;`).
 * Absent, or a value this server does not know, means the default: the resource (a preference is a
 * wish, never a reason to fail the request).
 */
export function returnPreference(header: string | undefined): ReturnPreference {
  for (const part of (header ?? '').split(',')) {
    const [name, value] = (part.split(';')[0] ?? '').split('=').map((s) => s.trim().replace(/^"|"$/g, ''));
    if (name?.toLowerCase() !== 'return') continue;
    const found = RETURN_PREFERENCES.find((p) => p.toLowerCase() === value?.toLowerCase());
    if (found) return found;
  }
  return 'representation';
}

export interface WriteResult {
  resource: Resource & { id?: string };
  /** 201 when the write created the resource; 200 for an update, or a create that found it already held. */
  created: boolean;
  /** The server's FHIR base, for `Location`. */
  baseUrl: string;
  /** The request's `Prefer` header. */
  prefer?: string | undefined;
}

/**
 * The answer to a create or an update: 201 or 200, with `Location` of the version now current
 * (`<base>/<type>/<id>/_history/<version>`, from which HAPI's `MethodOutcome.getId()` is read), `ETag`
 * and `Last-Modified`; and, as the client preferred, the resource, no body, or an OperationOutcome.
 */
export function writeResponse({ resource, created, baseUrl, prefer }: WriteResult): Response {
  const version = resource.meta?.versionId ?? '1';
  const status = created ? 201 : 200;
  const headers = new Headers({
    Location: `${baseUrl}/${resource.resourceType}/${resource.id}/_history/${version}`,
    ETag: `W/"${version}"`,
  });
  if (resource.meta?.lastUpdated) headers.set('Last-Modified', new Date(resource.meta.lastUpdated).toUTCString());
  const preference = returnPreference(prefer);
  if (prefer !== undefined) headers.set('Preference-Applied', `return=${preference}`);
  if (preference === 'minimal') return new Response(null, { status, headers });
  headers.set('Content-Type', FHIR_JSON);
  const described = `${resource.resourceType}/${resource.id} version ${version}`;
  const body =
    preference === 'representation'
      ? resource
      : created
        ? createdOutcome(`Created ${described}`)
        : allOk(`${described} is current`);
  return new Response(JSON.stringify(body), { status, headers });
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
    ...entriesIfAny([
      ...page.resources.map((r) => entry(r, 'match')),
      ...page.included.map((r) => entry(r, 'include')),
    ]),
  };
  if (page.total !== undefined) bundle.total = page.total;
  return bundle;
}
