import { requireScope } from '@imaging/auth';
import {
  checkHistoryParams,
  fhirResponse,
  historyBundle,
  historyPage,
  readResource,
  searchsetBundle,
  writeResponse,
} from '@imaging/fhir-http';
import type { HistoryPage } from '@imaging/fhir-http';
import { versionIdParam } from '@imaging/fhir';
import type { DocumentReference } from '@medplum/fhirtypes';
import { Hono } from 'hono';
import type { HubContext, AppEnv, AppContext } from '../deps.ts';
import { callerOf } from '@imaging/auth';
import type { RequestIds } from '../domain/locator.ts';
import {
  nextPointers,
  parsePointerSearch,
  readPointer,
  readPointerVersions,
  registerPointer,
  retrieveContent,
  searchPointers,
} from '../domain/locator.ts';

/** The imaging record locator: register pointers, find a patient's pointers, retrieve through one. */
export function documentReferenceRoutes(hub: HubContext): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  const deps = hub.domain;
  const type = 'DocumentReference';

  app.post('/', requireScope(type, 'create'), async (c) => {
    const pointer = await readResource<DocumentReference>(c, type);
    const { pointer: stored, created } = await registerPointer(deps, callerOf(c.var.auth), pointer, idsOf(c));
    return writeResponse({ resource: stored, created, baseUrl: hub.baseUrl, prefer: c.req.header('Prefer') });
  });

  app.get('/', requireScope(type, 'search'), async (c) => {
    const url = new URL(c.req.url);
    const caller = callerOf(c.var.auth);
    const pageToken = url.searchParams.get('_page');
    const page = pageToken
      ? await nextPointers(deps, caller, hub.deps.pageTokens.decode(pageToken, `${caller.clientId} ${type}`), idsOf(c))
      : await searchPointers(deps, caller, parsePointerSearch(url.searchParams), url.search.slice(1), idsOf(c));
    const next = page.next
      ? `${hub.baseUrl}/${type}?_page=${hub.deps.pageTokens.encode(page.next, `${caller.clientId} ${type}`)}`
      : undefined;
    return fhirResponse(searchsetBundle(page, hub.baseUrl, `${hub.baseUrl}/${type}${url.search}`, next));
  });

  app.get('/:id', requireScope(type, 'read'), async (c) =>
    fhirResponse(await readPointer(deps, callerOf(c.var.auth), c.req.param('id'), idsOf(c))),
  );

  // A version: where a registration's Location points.
  app.get('/:id/_history/:vid', requireScope(type, 'read'), async (c) => {
    const [version] = await readPointerVersions(
      deps,
      callerOf(c.var.auth),
      c.req.param('id'),
      idsOf(c),
      versionIdParam(c.req.param('vid')),
    );
    return fhirResponse(version as DocumentReference);
  });

  app.get('/:id/_history', requireScope(type, 'read'), async (c) => {
    const url = new URL(c.req.url);
    const asked = checkHistoryParams(url);
    // The page is chosen from the store's versions, so only the versions on it are audited as disclosed.
    let page: HistoryPage<DocumentReference> = { versions: [], total: 0 };
    const versions = await readPointerVersions(deps, callerOf(c.var.auth), c.req.param('id'), idsOf(c), (all) => {
      page = historyPage(all, asked);
      return page.versions;
    });
    return fhirResponse(historyBundle({ ...page, versions }, hub.baseUrl, { type, id: c.req.param('id'), url }));
  });

  app.get('/:id/$retrieve', requireScope(type, 'read'), async (c) =>
    fhirResponse(await retrieveContent(deps, callerOf(c.var.auth), c.req.param('id'), idsOf(c))),
  );

  return app;
}

function idsOf(c: AppContext): RequestIds {
  return { requestId: c.var.requestId, correlationId: c.var.correlationId };
}
