import { OutcomeError } from '@imaging/fhir';
import { fhirFetch } from '@imaging/fhir-http';
import type { FhirFetchOptions, FhirFetchResult } from '@imaging/fhir-http';
import type { TokenSource } from './token-source.ts';

export interface ServiceClientOptions {
  /** This service's own access tokens. */
  tokens: TokenSource;
  fetch?: typeof fetch;
  /** Per call; default fhirFetch's (10 s). */
  timeoutMs?: number;
}

export type ServiceCall = Omit<FhirFetchOptions, 'fetch' | 'timeoutMs'>;

/** FHIR calls from one service to another, each with the caller's own bearer token. */
export interface ServiceClient {
  call<T>(url: string, init?: ServiceCall): Promise<FhirFetchResult<T>>;
}

/**
 * A 401 means the token expired in flight or the other side's keys rotated: the call is retried once
 * with a fresh token. Any other failure is fhirFetch's OutcomeError, unchanged (503 when nobody
 * answered, the remote status and OperationOutcome otherwise).
 */
export function serviceClient(options: ServiceClientOptions): ServiceClient {
  return {
    async call<T>(url: string, init: ServiceCall = {}) {
      for (let attempt = 1; ; attempt++) {
        const token = await options.tokens.getToken();
        try {
          return await fhirFetch<T>(url, {
            ...init,
            headers: { ...init.headers, Authorization: `Bearer ${token}` },
            ...(options.timeoutMs ? { timeoutMs: options.timeoutMs } : {}),
            ...(options.fetch ? { fetch: options.fetch } : {}),
          });
        } catch (err) {
          if (attempt === 1 && err instanceof OutcomeError && err.status === 401) {
            options.tokens.invalidate();
            continue;
          }
          throw err;
        }
      }
    },
  };
}
