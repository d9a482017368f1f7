import type { AccessClaims } from '@imaging/auth';
import { assertSearchReach, hasScope, requireScope } from '@imaging/auth';
import type { Caller, SearchHandling, SearchPage, SearchSubset, WithId } from '@imaging/fhir';
import { checkPagingParams, searchHandlingOf, versionFrom, versionIdParam } from '@imaging/fhir';
import {
  checkHistoryParams,
  fhirResponse,
  historyBundle,
  historyPage,
  searchContinuationOf,
  searchPageToken,
  searchsetBundle,
} from '@imaging/fhir-http';
import type { OperationOutcomeIssue, Resource } from '@medplum/fhirtypes';
import { Hono } from 'hono';
import type { MayRead } from '../domain/reads.ts';
import { nextVisiblePage, readVisible, searchVisible, visibleVersions } from '../domain/reads.ts';
import { asReadByHub } from '../domain/patients.ts';
import { checkGatewaySearch } from '../domain/search-rules.ts';
import type { AppDeps, AppEnv } from '../deps.ts';
import { callerFrom } from '../deps.ts';
import { recordDisclosure } from './disclosure.ts';

/**
 * Read and search for one resource type, limited to what the caller's organisation may see. A search is
 * checked against the gateway's rules before any store sees it: what they do not answer is left out
 * (`Prefer: handling=lenient`, the R4 default; the self link shows what was applied, an outcome entry what
 * was not) or refused (`handling=strict`). Paging links carry a signed token, never the store's own
 * continuation. A resource's versions (vread, history) are read as the resource is, version by version.
 */
export function readRoutes(deps: AppDeps, type: Resource['resourceType']): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  const base = deps.region.fhirBaseUrl;

  app.get('/', requireScope(type, 'search'), async (c) => {
    const caller = callerFrom(c, deps);
    const url = new URL(c.req.url);
    const prefer = c.req.header('Prefer');
    const mayRead = (t: Resource['resourceType']) => hasScope(c.var.auth, t, 'read');
    // A page token is good for this caller and this resource type only.
    const binding = `${caller.clientId} ${type}`;
    // Present at all (even empty), `_page` is a page token: never a parameter for the store.
    const pageToken = url.searchParams.get('_page');
    let answer: Answer;
    // An empty _page is a malformed token (400), never a search parameter for the store.
    if (pageToken !== null) {
      const { next, subset } = searchContinuationOf(deps.pageTokens, pageToken, binding);
      answer = {
        page: await nextVisiblePage(deps, caller, next, mayRead, subset),
        self: `${base}/${type}${url.search}`,
        subset,
        ignored: [],
      };
    } else {
      checkPagingParams(url.searchParams);
      answer = await firstPage(deps, c.var.auth, caller, type, url.searchParams, searchHandlingOf(prefer), mayRead);
    }
    const { page, self, subset, ignored } = answer;
    const next = page.next
      ? `${base}/${type}?_page=${searchPageToken(deps.pageTokens, { next: page.next, subset }, binding)}`
      : undefined;
    const bundle = searchsetBundle(page, base, self, next);
    // R4 search: an outcome entry says what the server left out of a lenient search.
    if (ignored.length)
      bundle.entry = [
        ...(bundle.entry ?? []),
        { resource: { resourceType: 'OperationOutcome', issue: [...ignored] }, search: { mode: 'outcome' } },
      ];
    recordDisclosure(deps, c, caller, 'search', [...page.resources, ...page.included]);
    const handling = /handling\s*=/i.test(prefer ?? '') ? searchHandlingOf(prefer) : undefined;
    return fhirResponse(bundle, 200, handling ? { 'Preference-Applied': `handling=${handling}` } : {});
  });

  app.get('/:id', requireScope(type, 'read'), async (c) => {
    const caller = callerFrom(c, deps);
    const resource = await readVisible(deps, caller, type, c.req.param('id'));
    recordDisclosure(deps, c, caller, 'read', [resource]);
    return fhirResponse(caller.kind === 'hub' ? await asReadByHub(deps, resource) : resource);
  });

  // A version: where a write's Location points, and what a disclosure's AuditEvent names.
  app.get('/:id/_history/:vid', requireScope(type, 'read'), async (c) => {
    const vid = versionIdParam(c.req.param('vid'));
    const caller = callerFrom(c, deps);
    const versions = await visibleVersions(deps, caller, type, c.req.param('id'));
    const version = versionFrom(versions, type, vid);
    recordDisclosure(deps, c, caller, 'read', [version]);
    return fhirResponse(version);
  });

  app.get('/:id/_history', requireScope(type, 'read'), async (c) => {
    const url = new URL(c.req.url);
    const asked = checkHistoryParams(url);
    const caller = callerFrom(c, deps);
    const page = historyPage(await visibleVersions(deps, caller, type, c.req.param('id')), asked);
    // What was shown is what was disclosed: the versions on this page.
    recordDisclosure(deps, c, caller, 'read', page.versions);
    return fhirResponse(historyBundle(page, base, { type, id: c.req.param('id'), url }));
  });

  return app;
}

interface Answer {
  page: SearchPage<WithId<Resource>>;
  /** The Bundle's self link: the search as applied. */
  self: string;
  subset?: SearchSubset;
  ignored: readonly OperationOutcomeIssue[];
}

/**
 * A first page: the search checked against the gateway's rules, with a scope check for each type it
 * reads besides its own. An `_include` or `_revinclude` of a type the token may not read is refused
 * outright (403) rather than answered with a page that silently lacks them; a chain searches its target.
 */
async function firstPage(
  deps: AppDeps,
  claims: AccessClaims,
  caller: Caller,
  type: Resource['resourceType'],
  params: URLSearchParams,
  handling: SearchHandling,
  mayRead: MayRead,
): Promise<Answer> {
  const search = checkGatewaySearch(type, params, handling);
  assertSearchReach(claims, search);
  const applied = search.applied.toString();
  return {
    page: await searchVisible(deps, caller, search, mayRead),
    self: `${deps.region.fhirBaseUrl}/${type}${applied ? `?${applied}` : ''}`,
    ...(search.subset ? { subset: search.subset } : {}),
    ignored: search.ignored,
  };
}
