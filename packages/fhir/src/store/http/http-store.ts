import type { Bundle, BundleEntry, OperationOutcome, Resource, ResourceType } from '@medplum/fhirtypes';
import {
  badGateway,
  badRequest,
  conflict,
  gone,
  multipleMatches,
  notFound,
  OutcomeError,
  preconditionFailed,
  unavailable,
  unprocessable,
} from '../../outcomes.ts';
import type {
  CreateOptions,
  CreateResult,
  FhirStore,
  SearchPage,
  SearchQuery,
  UpdateOptions,
  WithId,
} from '../port.ts';
import { isAbsent } from '../helpers.ts';
import { checkPagingParams, countOnlyAsSummary } from '../paging.ts';
import { toSearchParams } from '../port.ts';
import { rewriteReferenceIdentifiers } from './reference-identifiers.ts';

export interface HttpStoreOptions {
  /** The server's FHIR base, e.g. `http://127.0.0.1:8080/fhir/north`. */
  baseUrl: string;
  /** Defaults to the global `fetch`; tests pass a fake. */
  fetch?: typeof fetch;
  /** Extra headers for every request (a bearer token), fetched per request so tokens can be refreshed. */
  headers?: () => Promise<Record<string, string>> | Record<string, string>;
  /** Per request, body included. Default 30 s. */
  timeoutMs?: number;
  /**
   * How `<reference>:identifier` searches reach the server: `search-parameters` (default, for HAPI) sends
   * `<reference>-identifier`, served by the SearchParameters of `./reference-identifiers.ts`; `native` sends
   * the modifier as written, for servers that implement it.
   */
  referenceIdentifiers?: 'search-parameters' | 'native';
}

/**
 * Where a FHIR server (HAPI JPA in production) differs from R4 or from our port, and how this adapter
 * makes it look the same. The store contract suite runs against HAPI through this adapter.
 */
export const HTTP_NORMALISATIONS = {
  'stale-if-match-409':
    'HAPI answers an If-Match on a stale version with 409 Conflict (R4 says 412). A 409 to a request that ' +
    'carried If-Match (directly or in a transaction entry) becomes 412 precondition-failed.',
  'delete-missing': 'Deleting what does not exist is not an error in the port; a 404 or 410 to DELETE is success.',
  'history-deletes':
    'History Bundles carry deletions as entries without a resource; the port lists only stored versions.',
  'reference-identifier':
    'HAPI JPA does not implement the :identifier modifier on reference parameters (HAPI-2498, hapifhir/hapi-fhir#5701). ' +
    '`owner:identifier=sys|v` is sent as `owner-identifier=sys|v`, a token SearchParameter on Task.owner.identifier ' +
    '(see reference-identifiers.ts; install them with ensureReferenceIdentifierSearchParameters).',
  'absolute-locations':
    'Transaction-response locations are made relative (`Type/id/_history/v`) when they point into baseUrl.',
  'own-error-outcomes':
    "An error answer becomes one of the port's own OperationOutcomes, chosen by status (404 `Type/id not found`, " +
    "as the embedded store says it); the server's own words (HAPI-nnnn codes, Java classes, partition names, " +
    'the query it ran, its address) stay in `OutcomeError.detail`, for logs. A 5xx, a 401/403 to our credentials ' +
    "or an answer that cannot be used is 502; no answer, 429 or a proxy's 502/503/504 is 503.",
} as const;

const TYPE_RE = /^[A-Z][A-Za-z]{1,63}$/;
const ID_RE = /^[A-Za-z0-9\-.]{1,64}$/;
const FHIR_JSON = 'application/fhir+json';
const STORE_UNAVAILABLE = 'The FHIR store is unavailable: try again later';
const STORE_FAILED = 'The FHIR store could not complete the request';

interface Call {
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  /** Relative to baseUrl (`Task/1`), or absolute (a `next` link already checked for origin). */
  url: string;
  body?: unknown;
  headers?: Record<string, string>;
  /** A 409 to this call means a stale If-Match. */
  ifMatch?: boolean;
  /** A 412 to this call means several matches for a conditional create. */
  ifNoneExist?: boolean;
}

interface Answer {
  status: number;
  headers: Headers;
  body: unknown;
}

/**
 * The FHIR store port over HTTP, for any FHIR R4 server. Errors are the port's own OperationOutcomes,
 * never the server's (HTTP_NORMALISATIONS['own-error-outcomes']); no answer at all (refused, reset,
 * timed out) is 503 `unavailable`, so callers that retry can tell "the server is down" from "it said no".
 */
export class HttpStore implements FhirStore {
  readonly description: string;
  private readonly base: URL;
  private readonly fetchFn: typeof fetch;
  private readonly extraHeaders: HttpStoreOptions['headers'];
  private readonly timeoutMs: number;
  private readonly nativeReferenceIdentifiers: boolean;

  constructor(options: HttpStoreOptions) {
    let base: URL;
    try {
      base = new URL(options.baseUrl.endsWith('/') ? options.baseUrl : `${options.baseUrl}/`);
    } catch {
      throw new TypeError(`HttpStore baseUrl is not a URL: ${options.baseUrl}`);
    }
    if (base.protocol !== 'http:' && base.protocol !== 'https:')
      throw new TypeError(`HttpStore baseUrl must be http(s): ${options.baseUrl}`);
    if (base.search || base.hash)
      throw new TypeError(`HttpStore baseUrl must not have a query or fragment: ${options.baseUrl}`);
    this.base = base;
    this.description = base.href.replace(/\/$/, '');
    this.fetchFn = options.fetch ?? fetch;
    this.extraHeaders = options.headers;
    this.timeoutMs = options.timeoutMs ?? 30_000;
    this.nativeReferenceIdentifiers = options.referenceIdentifiers === 'native';
  }

  async read<T extends Resource>(type: T['resourceType'], id: string): Promise<WithId<T>> {
    const answer = await this.call({ method: 'GET', url: instancePath(type, id) });
    return expectResource<T>(answer, type, `GET ${type}/${id}`);
  }

  async create<T extends Resource>(resource: T, options: CreateOptions = {}): Promise<CreateResult<WithId<T>>> {
    const type = checkType(resource.resourceType, 'resourceType');
    const headers: Record<string, string> = {};
    if (options.ifNoneExist !== undefined) headers['If-None-Exist'] = this.query(type, options.ifNoneExist).toString();
    const answer = await this.call({
      method: 'POST',
      url: type,
      body: resource,
      headers,
      ifNoneExist: options.ifNoneExist !== undefined,
    });
    const stored = await this.representation<T>(answer, type, `POST ${type}`);
    return { resource: stored, created: answer.status === 201 };
  }

  async update<T extends Resource>(resource: WithId<T>, options: UpdateOptions = {}): Promise<WithId<T>> {
    const url = instancePath(resource.resourceType, resource.id, `${resource.resourceType}.id`);
    const headers: Record<string, string> = {};
    if (options.ifMatch !== undefined) headers['If-Match'] = weakEtag(options.ifMatch);
    const answer = await this.call({
      method: 'PUT',
      url,
      body: resource,
      headers,
      ifMatch: options.ifMatch !== undefined,
    });
    return this.representation<T>(answer, resource.resourceType, `PUT ${url}`);
  }

  async delete(type: ResourceType, id: string): Promise<void> {
    try {
      await this.call({ method: 'DELETE', url: instancePath(type, id) });
    } catch (err) {
      if (isAbsent(err)) return;
      throw err;
    }
  }

  async search<T extends Resource>(type: T['resourceType'], query?: SearchQuery): Promise<SearchPage<WithId<T>>> {
    checkType(type, 'type');
    const asked = this.query(type, query);
    checkPagingParams(asked); // the embedded store's bounds, before the server sees the query
    // `_count=0` asked as `_summary=count`, as the embedded store answers it, whatever the server makes of 0.
    const params = countOnlyAsSummary(asked);
    const answer = await this.call({
      method: 'GET',
      url: params.size ? `${type}?${params}` : type,
      headers: { 'Cache-Control': 'no-cache' },
    });
    return this.toPage<T>(answer, `search ${type}`);
  }

  async nextPage<T extends Resource>(next: string): Promise<SearchPage<WithId<T>>> {
    const url = this.ownUrl(next);
    if (!url)
      throw new OutcomeError(badRequest('Not a continuation of this store: the link points outside its base URL'));
    const answer = await this.call({ method: 'GET', url, headers: { 'Cache-Control': 'no-cache' } });
    return this.toPage<T>(answer, 'next page');
  }

  async history<T extends Resource>(type: T['resourceType'], id: string): Promise<WithId<T>[]> {
    let answer = await this.call({
      method: 'GET',
      url: `${instancePath(type, id)}/_history`,
      headers: { 'Cache-Control': 'no-cache' },
    });
    const versions: WithId<T>[] = [];
    for (;;) {
      const bundle = expectBundle(answer, `history of ${type}/${id}`);
      for (const entry of bundle.entry ?? []) {
        if (entry.resource?.resourceType === type) versions.push(entry.resource as WithId<T>);
      }
      const next = this.nextLink(bundle, `history of ${type}/${id}`);
      if (!next) break;
      answer = await this.call({ method: 'GET', url: next, headers: { 'Cache-Control': 'no-cache' } });
    }
    // Newest first, whatever order the server chose.
    return versions.sort((a, b) => Number(b.meta?.versionId ?? 0) - Number(a.meta?.versionId ?? 0));
  }

  async transaction(bundle: Bundle): Promise<Bundle> {
    if (bundle?.resourceType !== 'Bundle' || bundle.type !== 'transaction') {
      throw new OutcomeError(badRequest("Expected a Bundle of type 'transaction'", 'Bundle.type'));
    }
    const ifMatch = (bundle.entry ?? []).some((e) => e.request?.ifMatch !== undefined);
    const ifNoneExist = (bundle.entry ?? []).some((e) => e.request?.ifNoneExist !== undefined);
    const answer = await this.call({
      method: 'POST',
      url: '',
      body: this.serverConditions(bundle),
      ifMatch,
      ifNoneExist,
    });
    const response = expectBundle(answer, 'transaction');
    if (response.type !== 'transaction-response')
      throw storeFault(`a transaction answered with a ${response.type ?? 'untyped'} Bundle`);
    return { ...response, entry: (response.entry ?? []).map((e) => this.relativeLocation(e)) };
  }

  async close(): Promise<void> {
    // Nothing held open: fetch manages its own connections.
  }

  /** A transaction whose `ifNoneExist` queries are written as the server understands them, like a search's. */
  private serverConditions(bundle: Bundle): Bundle {
    if (this.nativeReferenceIdentifiers) return bundle;
    return {
      ...bundle,
      entry: (bundle.entry ?? []).map((entry) => {
        const condition = entry.request?.ifNoneExist;
        const type = entry.resource?.resourceType;
        if (condition === undefined || !type || !entry.request) return entry;
        const rewritten = rewriteReferenceIdentifiers(type, new URLSearchParams(condition)).toString();
        return { ...entry, request: { ...entry.request, ifNoneExist: rewritten } };
      }),
    };
  }

  /** A query as the server understands it (HTTP_NORMALISATIONS['reference-identifier']). */
  private query(type: string, query: SearchQuery | undefined): URLSearchParams {
    const params = toSearchParams(query);
    return this.nativeReferenceIdentifiers ? params : rewriteReferenceIdentifiers(type, params);
  }

  /** The stored resource from a create/update answer; reads it back if the server ignored `Prefer`. */
  private async representation<T extends Resource>(answer: Answer, type: string, what: string): Promise<WithId<T>> {
    if (answer.body !== undefined && isResource(answer.body) && answer.body.resourceType !== 'OperationOutcome') {
      return expectResource<T>(answer, type, what);
    }
    const location = answer.headers.get('Location') ?? answer.headers.get('Content-Location');
    const m = location
      ? /([A-Z][A-Za-z]+)\/([A-Za-z0-9\-.]{1,64})(?:\/_history\/[^/?]+)?\/?$/.exec(location.split('?')[0] ?? '')
      : null;
    if (!m || m[1] !== type) throw storeFault(`${what} answered with neither the resource nor its Location`);
    return this.read<T>(type as T['resourceType'], m[2] as string);
  }

  private toPage<T extends Resource>(answer: Answer, what: string): SearchPage<WithId<T>> {
    const bundle = expectBundle(answer, what);
    const page: SearchPage<WithId<T>> = { resources: [], included: [] };
    for (const entry of bundle.entry ?? []) {
      if (!entry.resource) continue;
      const mode = entry.search?.mode ?? 'match';
      if (mode === 'match') page.resources.push(entry.resource as WithId<T>);
      else if (mode === 'include') page.included.push(entry.resource);
      // `outcome` entries (warnings) carry no data.
    }
    if (typeof bundle.total === 'number') page.total = bundle.total;
    const next = this.nextLink(bundle, what);
    if (next) page.next = next;
    return page;
  }

  /** The Bundle's `next` link, refused when it leads away from our server (it would get our token). */
  private nextLink(bundle: Bundle, what: string): string | undefined {
    const link = bundle.link?.find((l) => l.relation === 'next')?.url;
    if (!link) return undefined;
    const own = this.ownUrl(link);
    if (!own) throw storeFault(`the next link of ${what} leads outside ${this.base.origin}: ${redact(link)}`);
    return own;
  }

  /** The absolute URL of a link if it is on our server's origin, else undefined. */
  private ownUrl(link: string): string | undefined {
    let url: URL;
    try {
      url = new URL(link, this.base);
    } catch {
      return undefined;
    }
    return url.origin === this.base.origin ? url.href : undefined;
  }

  private relativeLocation(entry: BundleEntry): BundleEntry {
    const location = entry.response?.location;
    if (!location?.startsWith(this.base.href)) return entry;
    return {
      ...entry,
      response: {
        ...entry.response,
        status: entry.response?.status ?? '',
        location: location.slice(this.base.href.length),
      },
    };
  }

  private async call(call: Call): Promise<Answer> {
    const url = /^https?:\/\//.test(call.url) ? call.url : new URL(call.url, this.base).href;
    const headers: Record<string, string> = {
      Accept: FHIR_JSON,
      ...(call.body === undefined ? {} : { 'Content-Type': FHIR_JSON, Prefer: 'return=representation' }),
      ...(this.extraHeaders ? await this.extraHeaders() : {}),
      ...call.headers,
    };
    const what = `${call.method} ${redact(url)}`;
    let response: Response;
    let text: string;
    try {
      const signal = AbortSignal.timeout(this.timeoutMs);
      response = await this.fetchFn(url, {
        method: call.method,
        headers,
        body: call.body === undefined ? undefined : JSON.stringify(call.body),
        signal,
        redirect: 'manual', // a redirect would carry our token elsewhere
      });
      text = await response.text();
    } catch (err) {
      const reason = isTimeout(err) ? `no answer within ${this.timeoutMs} ms` : describeNetworkError(err);
      throw new OutcomeError(unavailable(STORE_UNAVAILABLE), 503, { detail: `${what} failed: ${reason}` });
    }
    let body: unknown;
    let parsed = true;
    try {
      body = text.trim() ? JSON.parse(text) : undefined;
    } catch {
      parsed = false;
    }
    if (response.status >= 200 && response.status < 300) {
      if (!parsed) throw storeFault(`${what} answered ${response.status} with a body that is not JSON`);
      return { status: response.status, headers: response.headers, body };
    }
    if (response.status >= 300 && response.status < 400)
      throw storeFault(`${what} answered with a redirect (${response.status}), which is not followed`);
    const said = parsed && isOutcome(body) ? describeOutcome(body) : shorten(text);
    const [outcome, status] = ownOutcome(response.status, call);
    throw new OutcomeError(outcome, status, { detail: `${what} answered ${response.status}: ${said}` });
  }
}

/** An answer this adapter cannot use: a generic 502 for the client, the particulars for the logs. */
function storeFault(detail: string): OutcomeError {
  return new OutcomeError(badGateway(STORE_FAILED), 502, { detail });
}

/** HTTP_NORMALISATIONS['own-error-outcomes']: the port's outcome and status for a server's error status. */
function ownOutcome(status: number, call: Call): [OperationOutcome, number] {
  const subject = subjectOf(call);
  const changed = preconditionFailed(`${subject} has changed since it was read: read it again`);
  switch (status) {
    case 400:
      return [badRequest('The FHIR store could not run this request'), 400];
    case 404:
      return [notFound(subject), 404];
    case 410:
      return [gone(subject), 410];
    // HTTP_NORMALISATIONS['stale-if-match-409']
    case 409:
      return call.ifMatch ? [changed, 412] : [conflict(`The change to ${subject} conflicts with another`), 409];
    case 412:
      return call.ifNoneExist && !call.ifMatch
        ? [multipleMatches(`More than one resource matches the conditional create of ${subject}`), 412]
        : [changed, 412];
    case 422:
      return [unprocessable(`The FHIR store refused ${subject}`, undefined, 'processing'), 422];
    case 429:
    case 502:
    case 503:
    case 504:
      return [unavailable(STORE_UNAVAILABLE), 503];
    default:
      return [badGateway(STORE_FAILED), 502];
  }
}

/** What a call was about, in the port's terms (`Task/t1`, `the Task`): never the server's address. */
function subjectOf(call: Call): string {
  if (call.url === '') return 'a resource in the transaction';
  const m = /^([A-Z][A-Za-z]{1,63})(?:\/([A-Za-z0-9\-.]{1,64}))?(?:[/?]|$)/.exec(call.url);
  if (!m) return 'the resource';
  return m[2] ? `${m[1]}/${m[2]}` : `the ${m[1]}`;
}

function describeOutcome(outcome: OperationOutcome): string {
  return shorten(
    (outcome.issue ?? []).map((i) => `${i.code}: ${i.diagnostics ?? i.details?.text ?? ''}`).join('; ') || 'no issues',
  );
}

function shorten(text: string): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > 500 ? `${flat.slice(0, 500)}…` : flat || '(no body)';
}

function checkType(type: unknown, expression: string): string {
  if (typeof type !== 'string' || !TYPE_RE.test(type)) {
    throw new OutcomeError(badRequest(`Unknown resource type '${String(type)}'`, expression));
  }
  return type;
}

/** `Type/id`, refusing anything that could change the path (`..`, `/`, `?`). */
function instancePath(type: unknown, id: unknown, expression = 'id'): string {
  checkType(type, 'resourceType');
  if (typeof id !== 'string' || !ID_RE.test(id) || id === '.' || id === '..') {
    throw new OutcomeError(badRequest(`Invalid or missing id '${String(id ?? '')}'`, expression));
  }
  return `${type as string}/${id}`;
}

/** Accepts `3`, `"3"` and `W/"3"`. */
function weakEtag(version: string): string {
  return `W/"${version.replace(/^W\//, '').replaceAll('"', '')}"`;
}

function isResource(body: unknown): body is Resource {
  return !!body && typeof body === 'object' && typeof (body as { resourceType?: unknown }).resourceType === 'string';
}

function isOutcome(body: unknown): body is OperationOutcome {
  return isResource(body) && body.resourceType === 'OperationOutcome';
}

function expectResource<T extends Resource>(answer: Answer, type: string, what: string): WithId<T> {
  const body = answer.body;
  if (!isResource(body) || body.resourceType !== type || typeof body.id !== 'string')
    throw storeFault(`${what} answered without a ${type} that has an id`);
  return body as WithId<T>;
}

function expectBundle(answer: Answer, what: string): Bundle {
  const body = answer.body;
  if (!isResource(body) || body.resourceType !== 'Bundle') throw storeFault(`${what} answered without a Bundle`);
  return body;
}

function isTimeout(err: unknown): boolean {
  const name = (err as { name?: string } | undefined)?.name;
  return name === 'TimeoutError' || name === 'AbortError';
}

function describeNetworkError(err: unknown): string {
  const cause = (err as { cause?: { code?: string; message?: string } }).cause;
  return cause?.code ?? cause?.message ?? (err as Error | undefined)?.message ?? 'network error';
}

/** URLs in messages lose their query strings: they can carry identifiers such as NHS numbers. */
function redact(url: string): string {
  return url.split('?')[0] ?? url;
}
