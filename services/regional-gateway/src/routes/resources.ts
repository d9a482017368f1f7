import type { AccessClaims } from '@imaging/auth';
import { assertScope, hasScope, requireScope } from '@imaging/auth';
import type { SearchPage, WithId, Caller } from '@imaging/fhir';
import { checkPagingParams } from '@imaging/fhir';
import { fhirResponse, searchsetBundle } from '@imaging/fhir-http';
import type { Resource } from '@medplum/fhirtypes';
import { Hono } from 'hono';
import type { MayRead } from '../domain/reads.ts';
import { nextVisiblePage, readVisible, searchVisible } from '../domain/reads.ts';
import { checkGatewaySearch } from '../domain/search-rules.ts';
import type { AppDeps, AppEnv } from '../deps.ts';
import { callerFrom } from '../deps.ts';

/**
 * Read and search for one resource type, limited to what the caller's organisation may see. A search is
 * checked against the gateway's rules before any store sees it. Paging links carry a signed token, never
 * the store's own continuation.
 */
export function readRoutes(deps: AppDeps, type: Resource['resourceType']): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  const base = deps.region.fhirBaseUrl;

  app.get('/', requireScope(type, 'search'), async (c) => {
    const caller = callerFrom(c, deps);
    const url = new URL(c.req.url);
    const mayRead = (t: Resource['resourceType']) => hasScope(c.var.auth, t, 'read');
    // A page token is good for this caller and this resource type only.
    const binding = `${caller.clientId} ${type}`;
    // Present at all (even empty), `_page` is a page token: never a parameter for the store.
    const pageToken = url.searchParams.get('_page');
    if (pageToken === null) checkPagingParams(url.searchParams);
    const page =
      pageToken !== null
        ? await nextVisiblePage(deps, caller, deps.pageTokens.decode(pageToken, binding), mayRead)
        : await checkedSearch(deps, c.var.auth, caller, type, url.searchParams, mayRead);
    const next = page.next ? `${base}/${type}?_page=${deps.pageTokens.encode(page.next, binding)}` : undefined;
    return fhirResponse(searchsetBundle(page, base, `${base}/${type}${url.search}`, next));
  });

  app.get('/:id', requireScope(type, 'read'), async (c) =>
    fhirResponse(await readVisible(deps, callerFrom(c, deps), type, c.req.param('id'))),
  );

  return app;
}

/** A first page: the search checked against the gateway's rules, with a scope check for each _include. */
async function checkedSearch(
  deps: AppDeps,
  claims: AccessClaims,
  caller: Caller,
  type: Resource['resourceType'],
  params: URLSearchParams,
  mayRead: MayRead,
): Promise<SearchPage<WithId<Resource>>> {
  const search = checkGatewaySearch(type, params);
  // An _include reads every type it can bring in: refused outright when the token may not read one,
  // rather than answered with a page that silently lacks them.
  for (const included of search.includedTypes) assertScope(claims, included, 'read');
  return searchVisible(deps, caller, search, mayRead);
}
