import {
  checkPagingParams,
  checkSearch,
  forbidden,
  OutcomeError,
  resourceIdParam,
  searchCapability,
  subsetted,
  versionFrom,
  versionIdParam,
} from '@imaging/fhir';
import type { FhirStore, SearchPage, SearchRules, SearchSubset, WithId } from '@imaging/fhir';
import type { AuditEvent } from '@medplum/fhirtypes';
import type { Context, Env, MiddlewareHandler } from 'hono';
import { Hono } from 'hono';
import type { CapabilityResource } from './capability.ts';
import { checkHistoryParams, historyBundle, historyPage, VERSION_READS } from './history.ts';
import type { PageTokens } from './page-tokens.ts';
import { searchContinuationOf, searchPageToken } from './page-tokens.ts';
import { fhirResponse, searchsetBundle } from './responses.ts';

/**
 * Who reads and searches AuditEvents here, and where everyone else finds theirs: the CapabilityStatement's
 * words and the 403's.
 */
export const AUDIT_EVENT_READERS =
  'Read (read, vread, history) and searched by those who may read any case trail here: the flow view ' +
  '(scope flow/case) and auditors (system/AuditEvent.rs). A case trail names each of its AuditEvents by this ' +
  'URL; a search answers who did what to which resource or patient, and when (entity=Patient/<id>, ' +
  "subtype, date). Each read and search is recorded, as any disclosure is. A case's own organisations " +
  'read its AuditEvents in its $case-trail.';

/**
 * What an AuditEvent search answers, the same on both stores: the resources or the case it names (`entity`,
 * `entity:identifier=<correlation system>|<id>`), its kind (`subtype`) and when (`date`, a range with two).
 */
export const AUDIT_EVENT_SEARCH: SearchRules = {
  AuditEvent: {
    params: {
      date: { type: 'date', prefixes: ['eq', 'gt', 'lt', 'ge', 'le'] },
      subtype: { type: 'token' },
      entity: { type: 'reference', modifiers: ['identifier'] },
    },
  },
};

/** The AuditEvent's entry in a CapabilityStatement: read and searched by auditors, never written by a client. */
export const AUDIT_EVENT_CAPABILITY: CapabilityResource = {
  type: 'AuditEvent',
  interactions: ['read', 'search-type', ...VERSION_READS],
  searchParams: searchCapability(AUDIT_EVENT_SEARCH, 'AuditEvent').searchParams,
  documentation: AUDIT_EVENT_READERS,
};

export interface AuditEventReads<E extends Env> {
  store: Pick<FhirStore, 'read' | 'history' | 'search' | 'nextPage'>;
  /** The FHIR base, for history's links. */
  baseUrl: string;
  /**
   * Why this caller may not read AuditEvents here, or undefined when it may. Decided from the token alone,
   * before anything is read, so a refusal tells nothing about any AuditEvent.
   */
  refusal: (c: Context<E>) => string | undefined;
  /** Records what was read or found, as the service records any disclosure (an AuditEvent names its patient). */
  disclose: (c: Context<E>, events: readonly WithId<AuditEvent>[], kind: 'read' | 'search') => void | Promise<void>;
  /** Signs a search's next-page links, bound to the caller: a continuation no one else can use. */
  pageTokens: PageTokens;
  /** Who is asking (the token's subject), to bind page links to. */
  callerId: (c: Context<E>) => string;
}

/**
 * `AuditEvent/{id}`, its one version and its history (an AuditEvent is written once and never changes), and
 * the search of them, for the readers `refusal` lets through; mount at `/fhir/AuditEvent`, after the
 * bearer-token check. Where a case trail's fullUrl and the flow view's "read it yourself" point. Each read
 * and search is itself recorded (`disclose`): an AuditEvent names its patient.
 */
export function auditEventReadRoutes<E extends Env>(options: AuditEventReads<E>): Hono<E> {
  const { store, baseUrl, refusal, disclose } = options;
  const app = new Hono<E>();
  const shown = async (c: Context<E>, events: [WithId<AuditEvent>]) => {
    await disclose(c, events, 'read');
    return fhirResponse(events[0]);
  };
  const mayRead: MiddlewareHandler<E> = async (c, next) => {
    const why = refusal(c);
    if (why) throw new OutcomeError(forbidden(why));
    await next();
  };

  // Refused from the token alone, before any id or search is looked at.
  app.use('*', mayRead);
  app.get('/', (c) => searchAuditEvents(options, c));
  app.get('/:id', async (c) =>
    shown(c, [await store.read<AuditEvent>('AuditEvent', resourceIdParam(c.req.param('id')))]),
  );
  app.get('/:id/_history/:vid', async (c) => {
    const vid = versionIdParam(c.req.param('vid'));
    const versions = await store.history<AuditEvent>('AuditEvent', resourceIdParam(c.req.param('id')));
    return shown(c, [versionFrom(versions, 'AuditEvent', vid)]);
  });
  app.get('/:id/_history', async (c) => {
    const url = new URL(c.req.url);
    const asked = checkHistoryParams(url);
    const page = historyPage(await store.history<AuditEvent>('AuditEvent', resourceIdParam(c.req.param('id'))), asked);
    await disclose(c, page.versions, 'read');
    return fhirResponse(historyBundle(page, baseUrl, { type: 'AuditEvent', id: c.req.param('id'), url }));
  });
  return app;
}

/**
 * A search of AuditEvents: anything outside `AUDIT_EVENT_SEARCH` is a 400 (strict, whatever `Prefer` says: an
 * audit answer that silently left a condition out would mislead). Pages on by a signed `_page` link.
 */
async function searchAuditEvents<E extends Env>(options: AuditEventReads<E>, c: Context<E>): Promise<Response> {
  const { store, baseUrl, pageTokens, disclose } = options;
  const url = new URL(c.req.url);
  const binding = `${options.callerId(c)} AuditEvent`;
  const pageToken = url.searchParams.get('_page');
  let page: SearchPage<WithId<AuditEvent>>;
  let subset: SearchSubset | undefined;
  let self = `${baseUrl}/AuditEvent${url.search}`;
  if (pageToken !== null) {
    const continuation = searchContinuationOf(pageTokens, pageToken, binding);
    subset = continuation.subset;
    page = await store.nextPage<AuditEvent>(continuation.next);
  } else {
    checkPagingParams(url.searchParams);
    const search = checkSearch(AUDIT_EVENT_SEARCH, 'AuditEvent', url.searchParams, { handling: 'strict' });
    subset = search.subset;
    const applied = search.applied.toString();
    self = `${baseUrl}/AuditEvent${applied ? `?${applied}` : ''}`;
    page = await store.search<AuditEvent>('AuditEvent', search.params);
  }
  await disclose(c, page.resources, 'search');
  const next = page.next
    ? `${baseUrl}/AuditEvent?_page=${searchPageToken(pageTokens, { next: page.next, subset }, binding)}`
    : undefined;
  const resources = subset ? page.resources.map((r) => subsetted(r, subset)) : page.resources;
  return fhirResponse(searchsetBundle({ ...page, resources }, baseUrl, self, next));
}
