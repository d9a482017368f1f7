import type { OperationOutcome, Resource } from '@medplum/fhirtypes';
import { badGateway, OutcomeError, unavailable } from '@imaging/fhir';
import { jsonDeeperThan, MAX_JSON_DEPTH } from './body.ts';
import { nodeFetch } from './node-fetch.ts';

export interface FhirFetchOptions {
  method?: string;
  body?: unknown;
  headers?: Record<string, string>;
  timeoutMs?: number;
  fetch?: typeof fetch;
}

export interface FhirFetchResult<T> {
  status: number;
  headers: Headers;
  body: T;
}

/**
 * One FHIR call to another service. A 2xx answer returns its body; a 4xx/5xx throws an OutcomeError
 * carrying the remote OperationOutcome and status; a redirect is not followed (502); no answer (refused,
 * reset, timed out) throws 503 `unavailable`, so a caller can tell "the other side is down" (retry) from
 * "it said no" (don't).
 */
export async function fhirFetch<T = Resource>(
  url: string,
  options: FhirFetchOptions = {},
): Promise<FhirFetchResult<T>> {
  const { method = options.body === undefined ? 'GET' : 'POST', timeoutMs = 10_000 } = options;
  const headers: Record<string, string> = { Accept: 'application/fhir+json', ...options.headers };
  if (options.body !== undefined) headers['Content-Type'] = 'application/fhir+json';
  let response: Response;
  try {
    response = await (options.fetch ?? nodeFetch)(url, {
      method,
      headers,
      body: options.body === undefined ? undefined : JSON.stringify(options.body),
      signal: AbortSignal.timeout(timeoutMs),
      // A call carries the caller's token: where an answer points is not where it was sent, nor what it may read.
      redirect: 'manual',
    });
  } catch (err) {
    const reason =
      (err as Error).name === 'TimeoutError' ? `no answer within ${timeoutMs} ms` : describeNetworkError(err);
    throw new OutcomeError(unavailable(`${method} ${redact(url)} failed: ${reason}`));
  }
  const text = await response.text();
  if (response.status >= 300 && response.status < 400)
    throw new OutcomeError(
      badGateway(`${method} ${redact(url)} answered with a redirect (${response.status}), which is not followed`),
    );
  // Another organisation's service is held to the same bound as a client's request body.
  if (jsonDeeperThan(text, MAX_JSON_DEPTH)) {
    throw new OutcomeError(
      badGateway(`${method} ${redact(url)} answered with JSON nested deeper than ${MAX_JSON_DEPTH} levels`),
    );
  }
  let body: unknown;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {
    body = undefined;
  }
  if (!response.ok) {
    const remote = isOutcome(body)
      ? body
      : badGateway(`${method} ${redact(url)} answered ${response.status} without an OperationOutcome`);
    throw new OutcomeError(remote, response.status);
  }
  return { status: response.status, headers: response.headers, body: body as T };
}

function isOutcome(body: unknown): body is OperationOutcome {
  return !!body && typeof body === 'object' && (body as { resourceType?: unknown }).resourceType === 'OperationOutcome';
}

function describeNetworkError(err: unknown): string {
  const cause = (err as { cause?: { code?: string; message?: string } }).cause;
  return cause?.code ?? cause?.message ?? (err as Error).message ?? 'network error';
}

/** URLs in messages lose their query strings: they can carry identifiers. */
function redact(url: string): string {
  return url.split('?')[0] ?? url;
}
