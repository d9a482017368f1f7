import { requireScope } from '@imaging/auth';
import { checkPagingParams } from '@imaging/fhir';
import { fhirResponse, searchsetBundle } from '@imaging/fhir-http';
import type { Resource } from '@medplum/fhirtypes';
import { Hono } from 'hono';
import { nextVisiblePage, readVisible, searchVisible } from '../domain/reads.ts';
import type { AppDeps, AppEnv } from '../deps.ts';
import { callerFrom } from '../deps.ts';

/**
 * Read and search for one resource type, limited to what the caller's organisation may see. Paging
 * links carry a signed token, never the store's own continuation.
 */
export function readRoutes(deps: AppDeps, type: Resource['resourceType']): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  const base = deps.region.fhirBaseUrl;

  app.get('/', requireScope(type, 'search'), async (c) => {
    const caller = callerFrom(c, deps);
    const url = new URL(c.req.url);
    // A page token is good for this caller and this resource type only.
    const binding = `${caller.clientId} ${type}`;
    const pageToken = url.searchParams.get('_page');
    if (!pageToken) checkPagingParams(url.searchParams);
    const page = pageToken
      ? await nextVisiblePage(deps, caller, deps.pageTokens.decode(pageToken, binding))
      : await searchVisible(deps, caller, type, url.searchParams);
    const next = page.next ? `${base}/${type}?_page=${deps.pageTokens.encode(page.next, binding)}` : undefined;
    return fhirResponse(searchsetBundle(page, base, `${base}/${type}${url.search}`, next));
  });

  app.get('/:id', requireScope(type, 'read'), async (c) =>
    fhirResponse(await readVisible(deps, callerFrom(c, deps), type, c.req.param('id'))),
  );

  return app;
}
