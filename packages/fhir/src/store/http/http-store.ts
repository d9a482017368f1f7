import type { Bundle, BundleEntry, OperationOutcome, Resource, ResourceType } from '@medplum/fhirtypes';
import type { IssueCode } from '../../outcomes.ts';
import { badGateway, badRequest, issue, OutcomeError, outcomeOf, unavailable } from '../../outcomes.ts';
import type {
  CreateOptions,
  CreateResult,
  FhirStore,
  SearchPage,
  SearchQuery,
  UpdateOptions,
  WithId,
} from '../port.ts';
import { checkPagingParams } from '../paging.ts';
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
} as const;

const TYPE_RE = /^[A-Z][A-Za-z]{1,63}$/;
const ID_RE = /^[A-Za-z0-9\-.]{1,64}$/;
const FHIR_JSON = 'application/fhir+json';

interface Call {
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  /** Relative to baseUrl (`Task/1`), or absolute (a `next` link already checked for origin). */
  url: string;
  body?: unknown;
  headers?: Record<string, string>;
  /** A 409 to this call means a stale If-Match. */
  ifMatch?: boolean;
}

interface Answer {
  status: number;
  headers: Headers;
  body: unknown;
}

/**
 * The FHIR store port over HTTP, for any FHIR R4 server. Errors keep the server's OperationOutcome and
 * status; no answer at all (refused, reset, timed out) is 503 `unavailable`, so callers that retry can
 * tell "the server is down" from "the server said no".
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
    const answer = await this.call({ method: 'POST', url: type, body: resource, headers });
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
      if (err instanceof OutcomeError && (err.status === 404 || err.status === 410)) return;
      throw err;
    }
  }

  async search<T extends Resource>(type: T['resourceType'], query?: SearchQuery): Promise<SearchPage<WithId<T>>> {
    checkType(type, 'type');
    const params = this.query(type, query);
    checkPagingParams(params); // the embedded store's bounds, before the server sees the query
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
    const answer = await this.call({ method: 'POST', url: '', body: bundle, ifMatch });
    const response = expectBundle(answer, 'transaction');
    if (response.type !== 'transaction-response') {
      throw new OutcomeError(
        badGateway(`The FHIR server answered a transaction with a ${response.type ?? 'untyped'} Bundle`),
      );
    }
    return { ...response, entry: (response.entry ?? []).map((e) => this.relativeLocation(e)) };
  }

  async close(): Promise<void> {
    // Nothing held open: fetch manages its own connections.
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
    if (!m || m[1] !== type)
      throw new OutcomeError(badGateway(`The FHIR server answered ${what} with neither the resource nor its Location`));
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
    if (!own)
      throw new OutcomeError(badGateway(`The FHIR server's next link for ${what} points outside ${this.base.origin}`));
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
      throw new OutcomeError(unavailable(`FHIR server unavailable: ${what} failed: ${reason}`));
    }
    let body: unknown;
    let parsed = true;
    try {
      body = text.trim() ? JSON.parse(text) : undefined;
    } catch {
      parsed = false;
    }
    if (response.status >= 200 && response.status < 300) {
      if (!parsed) throw new OutcomeError(badGateway(`The FHIR server answered ${what} with a body that is not JSON`));
      return { status: response.status, headers: response.headers, body };
    }
    if (response.status >= 300 && response.status < 400) {
      throw new OutcomeError(
        badGateway(`The FHIR server answered ${what} with a redirect (${response.status}), which is not followed`),
      );
    }
    throw errorFrom(response.status, parsed && isOutcome(body) ? body : undefined, what, call.ifMatch === true);
  }
}

function errorFrom(status: number, remote: OperationOutcome | undefined, what: string, ifMatch: boolean): OutcomeError {
  // HTTP_NORMALISATIONS['stale-if-match-409']
  if (status === 409 && ifMatch) {
    const issues = remote?.issue?.length
      ? remote.issue
      : [issue({ text: `Version conflict on ${what}`, code: 'conflict' })];
    return new OutcomeError(outcomeOf('precondition-failed', issues), 412);
  }
  if (remote) return new OutcomeError(remote, status);
  const text = `The FHIR server answered ${what} with ${status} and no OperationOutcome`;
  return new OutcomeError(outcomeOf(kindOf(status), [issue({ text, code: codeOf(status) })]), status);
}

const KIND_BY_STATUS: Record<number, [string, IssueCode]> = {
  400: ['bad-request', 'invalid'],
  401: ['unauthorized', 'login'],
  403: ['forbidden', 'forbidden'],
  404: ['not-found', 'not-found'],
  405: ['method-not-allowed', 'not-supported'],
  406: ['not-acceptable', 'not-supported'],
  409: ['conflict', 'conflict'],
  410: ['gone', 'deleted'],
  412: ['precondition-failed', 'conflict'],
  413: ['payload-too-large', 'too-long'],
  415: ['unsupported-media-type', 'not-supported'],
  422: ['unprocessable', 'processing'],
  502: ['bad-gateway', 'transient'],
  503: ['unavailable', 'transient'],
};

function kindOf(status: number): string {
  return KIND_BY_STATUS[status]?.[0] ?? (status >= 500 ? 'bad-gateway' : 'bad-request');
}

function codeOf(status: number): IssueCode {
  return KIND_BY_STATUS[status]?.[1] ?? (status >= 500 ? 'transient' : 'processing');
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
  if (!isResource(body) || body.resourceType !== type || typeof body.id !== 'string') {
    throw new OutcomeError(badGateway(`The FHIR server answered ${what} without a ${type} that has an id`));
  }
  return body as WithId<T>;
}

function expectBundle(answer: Answer, what: string): Bundle {
  const body = answer.body;
  if (!isResource(body) || body.resourceType !== 'Bundle') {
    throw new OutcomeError(badGateway(`The FHIR server answered ${what} without a Bundle`));
  }
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
