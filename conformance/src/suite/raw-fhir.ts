import type { Bundle, OperationOutcome, Resource } from '@medplum/fhirtypes';
import { recordingFetch } from '../record/exchange.ts';

export interface RawAnswer<T = unknown> {
  status: number;
  headers: Headers;
  /** The parsed JSON body, when there was one. */
  body: T | undefined;
  text: string;
}

export interface RawRequest {
  body?: unknown;
  headers?: Record<string, string>;
}

/**
 * Plain FHIR REST calls, recorded, with no adapter in between: the capability group compares what a
 * server declares with what it does, so nothing may smooth its answers over. Every GET carries
 * `Cache-Control: no-cache` (HAPI otherwise reuses search results for up to a minute).
 */
export interface RawFhir {
  readonly base: string;
  request<T = unknown>(method: string, path: string, init?: RawRequest): Promise<RawAnswer<T>>;
  get<T = unknown>(path: string, headers?: Record<string, string>): Promise<RawAnswer<T>>;
  /** `GET <type>?<query>`: a searchset. */
  search(type: string, query: Record<string, string> | string): Promise<RawAnswer<Bundle>>;
  /** POST (optionally conditional); the stored resource comes back (`Prefer: return=representation`). */
  create<T extends Resource>(resource: T, ifNoneExist?: string): Promise<RawAnswer<T>>;
  /** Follows a link the server gave (absolute URL), as a GET. */
  follow(url: string): Promise<RawAnswer<Bundle>>;
}

export function rawFhir(base: string, label = 'suite → server', inner: typeof fetch = globalThis.fetch): RawFhir {
  const root = base.replace(/\/+$/, '');
  const f = recordingFetch(label, inner);
  const call = async <T>(method: string, url: string, init: RawRequest = {}): Promise<RawAnswer<T>> => {
    const headers: Record<string, string> = { Accept: 'application/fhir+json', ...init.headers };
    if (method === 'GET') headers['Cache-Control'] = 'no-cache';
    if (init.body !== undefined) headers['Content-Type'] ??= 'application/fhir+json';
    const res = await f(url, {
      method,
      headers,
      ...(init.body === undefined
        ? {}
        : { body: typeof init.body === 'string' ? init.body : JSON.stringify(init.body) }),
      signal: AbortSignal.timeout(120_000),
    });
    const text = await res.text();
    let body: T | undefined;
    try {
      body = text ? (JSON.parse(text) as T) : undefined;
    } catch {
      body = undefined;
    }
    return { status: res.status, headers: res.headers, body, text };
  };
  const url = (path: string) => (/^https?:\/\//.test(path) ? path : `${root}/${path.replace(/^\/+/, '')}`);
  return {
    base: root,
    request: (method, path, init) => call(method.toUpperCase(), url(path), init),
    get: (path, headers) => call('GET', url(path), headers ? { headers } : {}),
    search: (type, query) =>
      call('GET', url(`${type}?${typeof query === 'string' ? query : new URLSearchParams(query).toString()}`)),
    create: (resource, ifNoneExist) =>
      call('POST', url(resource.resourceType), {
        body: resource,
        headers: { Prefer: 'return=representation', ...(ifNoneExist ? { 'If-None-Exist': ifNoneExist } : {}) },
      }),
    follow: (link) => call('GET', link),
  };
}

/** The ids of a searchset's matches (entries in `match` mode, or with no mode). */
export function matchIds(bundle: Bundle | undefined): string[] {
  return (bundle?.entry ?? [])
    .filter((e) => (e.search?.mode ?? 'match') === 'match' && e.resource)
    .map((e) => e.resource?.id as string);
}

/** A readable line for an assertion message: status and the first OperationOutcome issue, if any. */
export function describeAnswer(answer: RawAnswer): string {
  const outcome = answer.body as OperationOutcome | undefined;
  const first = outcome?.resourceType === 'OperationOutcome' ? outcome.issue?.[0] : undefined;
  const text = first?.diagnostics ?? first?.details?.text;
  return `${answer.status}${text ? `: ${text}` : ''}`;
}

/** `Type/id` from a Location / Content-Location header. */
export function locationId(answer: RawAnswer, type: string): string | undefined {
  const location = answer.headers.get('Location') ?? answer.headers.get('Content-Location') ?? '';
  return new RegExp(`${type}/([A-Za-z0-9\\-.]{1,64})`).exec(location)?.[1];
}
