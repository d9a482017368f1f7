import type { Bundle, Parameters, Resource } from '@medplum/fhirtypes';
import type { FetchLike, TokenSource } from '@imaging/auth';
import { isOutcomeError } from '@imaging/fhir';
import type { WithId } from '@imaging/fhir';
import { CORRELATION_ID_HEADER, fhirFetch } from '@imaging/fhir-http';
import type { FhirFetchResult } from '@imaging/fhir-http';

/** Anything that answers a request like `fetch` (tests pass a Hono app's `request`). */
export type { FetchLike };

export interface FhirClientOptions {
  /** The FHIR base of the service, e.g. `http://127.0.0.1:4101/fhir`. */
  baseUrl: string;
  /** Where the bearer token comes from: the client's own SMART credentials. */
  tokens: TokenSource;
  fetch?: FetchLike;
  timeoutMs?: number;
}

export interface CallOptions {
  /** Sent as `X-Correlation-ID`, so one case can be followed through every service's logs. */
  correlationId?: string;
  /** The version read, for a versioned update. */
  ifMatch?: string;
}

export interface Created<T extends Resource> {
  resource: WithId<T>;
  /** False when the server matched an existing resource (a repeat) rather than creating one. */
  created: boolean;
}

/**
 * A FHIR REST client acting as one API client (one token source) against one service. Refusals and
 * outages are `OutcomeError`s carrying the server's status and OperationOutcome (503 when the service
 * cannot be reached), so a simulator reports exactly what the service said.
 */
export interface FhirClient {
  readonly baseUrl: string;
  read<T extends Resource>(type: T['resourceType'], id: string, options?: CallOptions): Promise<WithId<T>>;
  /** The matches of a search (first page; simulators ask small questions). */
  search<T extends Resource>(
    type: T['resourceType'],
    query?: Record<string, string> | URLSearchParams,
    options?: CallOptions,
  ): Promise<WithId<T>[]>;
  create<T extends Resource>(resource: T, options?: CallOptions): Promise<Created<T>>;
  /** A versioned update: `If-Match` is always sent. */
  update<T extends Resource>(resource: WithId<T>, ifMatch: string, options?: CallOptions): Promise<WithId<T>>;
  /** A GET of a path under the base (an operation such as `DocumentReference/1/$retrieve`). */
  get<T extends Resource>(path: string, options?: CallOptions): Promise<T>;
  /** A POST of Parameters to an operation under the base (`Task/1/$acknowledge`); `ifMatch` pins the version read. */
  operation<T extends Resource>(path: string, parameters: Parameters, options?: CallOptions): Promise<T>;
}

export function createFhirClient(options: FhirClientOptions): FhirClient {
  const baseUrl = options.baseUrl.replace(/\/+$/, '');
  const given = options.fetch;
  const fetchImpl = given
    ? (input: string | URL | Request, init?: RequestInit) => Promise.resolve(given(String(input), init))
    : undefined;

  /** One call with the client's token; a 401 gets one more try with a fresh token (it may have expired). */
  async function call<T>(
    method: string,
    path: string,
    body: unknown,
    callOptions: CallOptions = {},
  ): Promise<FhirFetchResult<T>> {
    const headers: Record<string, string> = {};
    if (callOptions.correlationId) headers[CORRELATION_ID_HEADER] = callOptions.correlationId;
    if (callOptions.ifMatch !== undefined) headers['If-Match'] = `W/"${callOptions.ifMatch}"`;
    for (let attempt = 1; ; attempt++) {
      headers.Authorization = `Bearer ${await options.tokens.getToken()}`;
      try {
        return await fhirFetch<T>(`${baseUrl}/${path}`, {
          method,
          headers,
          ...(body === undefined ? {} : { body }),
          ...(options.timeoutMs ? { timeoutMs: options.timeoutMs } : {}),
          ...(fetchImpl ? { fetch: fetchImpl as typeof fetch } : {}),
        });
      } catch (err) {
        if (attempt === 1 && isOutcomeError(err) && err.status === 401) {
          options.tokens.invalidate();
          continue;
        }
        throw err;
      }
    }
  }

  const query = (q: Record<string, string> | URLSearchParams | undefined) => {
    const text = new URLSearchParams(q).toString();
    return text ? `?${text}` : '';
  };

  return {
    baseUrl,
    async read(type, id, callOptions) {
      return (await call<never>('GET', `${type}/${encodeURIComponent(id)}`, undefined, callOptions)).body;
    },
    async search<T extends Resource>(
      type: T['resourceType'],
      q?: Record<string, string> | URLSearchParams,
      callOptions?: CallOptions,
    ) {
      const bundle = (await call<Bundle>('GET', `${type}${query(q)}`, undefined, callOptions)).body;
      return (bundle.entry ?? []).filter((e) => e.search?.mode !== 'include').map((e) => e.resource as WithId<T>);
    },
    async create<T extends Resource>(resource: T, callOptions?: CallOptions) {
      const result = await call<WithId<T>>('POST', resource.resourceType, resource, callOptions);
      return { resource: result.body, created: result.status === 201 };
    },
    async update<T extends Resource>(resource: WithId<T>, ifMatch: string, callOptions: CallOptions = {}) {
      return (
        await call<WithId<T>>('PUT', `${resource.resourceType}/${encodeURIComponent(resource.id)}`, resource, {
          ...callOptions,
          ifMatch,
        })
      ).body;
    },
    async get<T extends Resource>(path: string, callOptions?: CallOptions) {
      return (await call<T>('GET', path.replace(/^\/+/, ''), undefined, callOptions)).body;
    },
    async operation<T extends Resource>(path: string, parameters: Parameters, callOptions?: CallOptions) {
      return (await call<T>('POST', path.replace(/^\/+/, ''), parameters, callOptions)).body;
    },
  };
}

/** A token source that always hands out the same token (a test's, or one printed by `pnpm token`). */
export function fixedToken(token: string): TokenSource {
  return { getToken: async () => token, invalidate: () => undefined };
}
