import { requireScope } from '@imaging/auth';
import { invalid, issue, OutcomeError, pagingOf, versionFrom, versionIdParam } from '@imaging/fhir';
import { checkHistoryParams, fhirResponse, historyBundle, searchsetBundle } from '@imaging/fhir-http';
import type { OperationOutcomeIssue } from '@medplum/fhirtypes';
import { Hono } from 'hono';
import type { HubContext, AppEnv } from '../deps.ts';

/** The search parameters the directory answers, per type (the same on the embedded store and on HAPI). */
const SEARCHES = {
  Organization: {
    params: [
      'identifier',
      'name',
      'name:exact',
      'name:contains',
      'partof',
      'partof:identifier',
      'endpoint',
      'type',
      'active',
      '_id',
      '_count',
      '_include',
    ],
    includes: ['Organization:endpoint', 'Organization:partof'],
  },
  Endpoint: {
    params: [
      'identifier',
      'status',
      'organization',
      'organization:identifier',
      'connection-type',
      'name',
      '_id',
      '_count',
      '_include',
    ],
    includes: ['Endpoint:organization'],
  },
  // The people alerts go to: a gateway looks up an organisation's (or region's) roles by its identifier.
  PractitionerRole: {
    params: [
      'identifier',
      'organization',
      'organization:identifier',
      'practitioner',
      'role',
      'active',
      '_id',
      '_count',
      '_include',
    ],
    includes: ['PractitionerRole:practitioner', 'PractitionerRole:organization'],
  },
  Practitioner: {
    params: ['identifier', 'name', 'active', '_id', '_count'],
    includes: [],
  },
} as const;

/** The directory is small: a page of it is never more than this. */
const MAX_DIRECTORY_PAGE = 100;

export type DirectoryType = keyof typeof SEARCHES;
export const DIRECTORY_TYPES = Object.keys(SEARCHES) as DirectoryType[];

/** Read and search of one directory type. Any registered client with the scope may read the directory. */
export function directoryRoutes(hub: HubContext, type: DirectoryType): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  const { store, pageTokens } = hub.deps;

  app.get('/', requireScope(type, 'search'), async (c) => {
    const url = new URL(c.req.url);
    // Bound to the client and the type, so a continuation of another search cannot be replayed here.
    const caller = `${c.var.auth.sub} ${type}`;
    const pageToken = url.searchParams.get('_page');
    const page = pageToken
      ? await store.nextPage(pageTokens.decode(pageToken, caller))
      : await store.search(type, checkSearch(type, url.searchParams));
    const next = page.next ? `${hub.baseUrl}/${type}?_page=${pageTokens.encode(page.next, caller)}` : undefined;
    return fhirResponse(searchsetBundle(page, hub.baseUrl, `${hub.baseUrl}/${type}${url.search}`, next));
  });

  app.get('/:id', requireScope(type, 'read'), async (c) => fhirResponse(await store.read(type, c.req.param('id'))));

  app.get('/:id/_history/:vid', requireScope(type, 'read'), async (c) => {
    const vid = versionIdParam(c.req.param('vid'));
    return fhirResponse(versionFrom(await store.history(type, c.req.param('id')), type, vid));
  });

  app.get('/:id/_history', requireScope(type, 'read'), async (c) => {
    const url = new URL(c.req.url);
    checkHistoryParams(url);
    const versions = await store.history(type, c.req.param('id'));
    return fhirResponse(historyBundle(versions, hub.baseUrl, { type, id: c.req.param('id'), url }));
  });

  return app;
}

/** Only the parameters we answer everywhere; anything else is a 400 rather than silently ignored. */
function checkSearch(type: DirectoryType, params: URLSearchParams): URLSearchParams {
  const { params: allowed, includes } = SEARCHES[type];
  const problems: OperationOutcomeIssue[] = [];
  for (const [key, value] of params) {
    if (!(allowed as readonly string[]).includes(key)) {
      problems.push(
        issue({
          code: 'not-supported',
          text: `Search parameter '${key}' is not supported on ${type}`,
          expression: key,
        }),
      );
    } else if (key === '_include' && !(includes as readonly string[]).includes(value)) {
      problems.push(
        issue({
          code: 'not-supported',
          text: `_include=${value} is not supported; use ${includes.join(' or ')}`,
          expression: '_include',
        }),
      );
    }
  }
  problems.push(...pagingOf(params, { maxCount: MAX_DIRECTORY_PAGE }).problems);
  if (problems.length) throw new OutcomeError(invalid(problems));
  return params;
}
