import { assertSearchReach, requireScope } from '@imaging/auth';
import {
  checkSearch,
  invalid,
  OutcomeError,
  pagingOf,
  resourceIdParam,
  subsetted,
  versionFrom,
  versionIdParam,
} from '@imaging/fhir';
import type { CheckedSearch, ParamRule, SearchPage, SearchRules, SearchSubset, WithId } from '@imaging/fhir';
import {
  checkHistoryParams,
  fhirResponse,
  historyBundle,
  historyPage,
  searchContinuationOf,
  searchPageToken,
  searchsetBundle,
} from '@imaging/fhir-http';
import type { Resource } from '@medplum/fhirtypes';
import { Hono } from 'hono';
import type { HubContext, AppEnv } from '../deps.ts';

const token: ParamRule = { type: 'token' };
const reference: ParamRule = { type: 'reference' };
/** A reference into the directory, also by the identifier it carries (a region's, an organisation's ODS code). */
const byIdentifierToo: ParamRule = { type: 'reference', modifiers: ['identifier'] };

/**
 * The searches the directory answers, per type, checked by the shared `checkSearch` (as the gateways' are):
 * nothing else reaches a store, and every value is checked first, so the embedded store and HAPI are asked
 * the same questions and a bad one is the same 400 on both. Always strict: a directory answer that left a
 * condition out would route to the wrong place.
 */
export const DIRECTORY_SEARCH = {
  Organization: {
    params: {
      _id: token,
      identifier: token,
      name: { type: 'string', modifiers: ['exact', 'contains'] },
      partof: byIdentifierToo,
      endpoint: reference,
      type: token,
      active: token,
    },
    includes: { 'Organization:endpoint': ['Endpoint'], 'Organization:partof': ['Organization'] },
  },
  Endpoint: {
    params: {
      _id: token,
      identifier: token,
      status: token,
      organization: byIdentifierToo,
      'connection-type': token,
      name: { type: 'string' },
    },
    includes: { 'Endpoint:organization': ['Organization'] },
  },
  // The people alerts go to: a gateway looks up an organisation's (or region's) roles by its identifier.
  PractitionerRole: {
    params: {
      _id: token,
      identifier: token,
      organization: byIdentifierToo,
      practitioner: reference,
      role: token,
      active: token,
    },
    includes: { 'PractitionerRole:practitioner': ['Practitioner'], 'PractitionerRole:organization': ['Organization'] },
  },
  Practitioner: {
    params: { _id: token, identifier: token, name: { type: 'string' }, active: token },
  },
} as const satisfies SearchRules;

/** The directory is small: a page of it is never more than this. */
const MAX_DIRECTORY_PAGE = 100;

export type DirectoryType = keyof typeof DIRECTORY_SEARCH;
export const DIRECTORY_TYPES = Object.keys(DIRECTORY_SEARCH) as DirectoryType[];

/** Read and search of one directory type. Any registered client with the scope may read the directory. */
export function directoryRoutes(hub: HubContext, type: DirectoryType): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  const { store, pageTokens } = hub.deps;

  app.get('/', requireScope(type, 'search'), async (c) => {
    const url = new URL(c.req.url);
    // Bound to the client and the type, so a continuation of another search cannot be replayed here.
    const binding = `${c.var.auth.sub} ${type}`;
    // Present at all (even empty), `_page` is a page token: never a parameter for the store.
    const pageToken = url.searchParams.get('_page');
    let page: SearchPage<WithId<Resource>>;
    let subset: SearchSubset | undefined;
    let self = `${hub.baseUrl}/${type}${url.search}`;
    if (pageToken !== null) {
      const continuation = searchContinuationOf(pageTokens, pageToken, binding);
      subset = continuation.subset;
      page = await store.nextPage(continuation.next);
    } else {
      const search = checkDirectorySearch(type, url.searchParams);
      assertSearchReach(c.var.auth, search);
      subset = search.subset;
      const applied = search.applied.toString();
      self = `${hub.baseUrl}/${type}${applied ? `?${applied}` : ''}`;
      page = await store.search(type, search.params);
    }
    const next = page.next
      ? `${hub.baseUrl}/${type}?_page=${searchPageToken(pageTokens, { next: page.next, subset }, binding)}`
      : undefined;
    const resources = subset ? page.resources.map((r) => subsetted(r, subset)) : page.resources;
    return fhirResponse(searchsetBundle({ ...page, resources }, hub.baseUrl, self, next));
  });

  app.get('/:id', requireScope(type, 'read'), async (c) =>
    fhirResponse(await store.read(type, resourceIdParam(c.req.param('id')))),
  );

  app.get('/:id/_history/:vid', requireScope(type, 'read'), async (c) => {
    const vid = versionIdParam(c.req.param('vid'));
    return fhirResponse(versionFrom(await store.history(type, resourceIdParam(c.req.param('id'))), type, vid));
  });

  app.get('/:id/_history', requireScope(type, 'read'), async (c) => {
    const url = new URL(c.req.url);
    const asked = checkHistoryParams(url);
    const page = historyPage(await store.history(type, resourceIdParam(c.req.param('id'))), asked);
    return fhirResponse(historyBundle(page, hub.baseUrl, { type, id: c.req.param('id'), url }));
  });

  return app;
}

/**
 * A directory search checked by the shared rules, with the directory's own page bound: one 400 naming every
 * problem, whether of the parameters or of the paging.
 */
function checkDirectorySearch(type: DirectoryType, params: URLSearchParams): CheckedSearch {
  const paging = pagingOf(params, { maxCount: MAX_DIRECTORY_PAGE }).problems;
  let search: CheckedSearch;
  try {
    search = checkSearch(DIRECTORY_SEARCH, type, params, { handling: 'strict' });
  } catch (err) {
    if (!paging.length || !(err instanceof OutcomeError) || err.status !== 400) throw err;
    throw new OutcomeError(invalid([...err.outcome.issue, ...paging]));
  }
  if (paging.length) throw new OutcomeError(invalid(paging));
  return search;
}
