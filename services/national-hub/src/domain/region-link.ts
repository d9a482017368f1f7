import type { TokenSource } from '@imaging/auth';
import { OutcomeError, toOutcomeError } from '@imaging/fhir';
import { fhirFetch } from '@imaging/fhir-http';
import type { OperationOutcome } from '@medplum/fhirtypes';

/** How the hub calls a region's gateway: with its own service token, within a time limit. */
export interface RegionLink {
  tokens: TokenSource;
  fetch: typeof fetch;
  timeoutMs: number;
}

/**
 * What a region said. "No answer" (refused, reset, timed out) is kept apart from "answered with an
 * error", because the hub answers them differently (503: try again later; otherwise relay or 502).
 */
export type RegionResult<T> =
  | { answered: true; ok: true; status: number; body: T }
  | { answered: true; ok: false; status: number; outcome: OperationOutcome; text: string }
  | { answered: false; reason: string };

export interface RegionCall {
  method: 'GET' | 'POST';
  body?: unknown;
  headers?: Record<string, string>;
}

/** One call to a region. A 401 (a token the region no longer accepts) is retried once with a new token. */
export async function callRegion<T>(link: RegionLink, url: string, call: RegionCall): Promise<RegionResult<T>> {
  const first = await callOnce<T>(link, url, call);
  if (first.answered && !first.ok && first.status === 401) {
    link.tokens.invalidate();
    return callOnce<T>(link, url, call);
  }
  return first;
}

async function callOnce<T>(link: RegionLink, url: string, call: RegionCall): Promise<RegionResult<T>> {
  let answered = false;
  const tracking: typeof fetch = async (input, init) => {
    const response = await link.fetch(input, init);
    answered = true;
    return response;
  };
  const token = await link.tokens.getToken();
  try {
    const result = await fhirFetch<T>(url, {
      method: call.method,
      ...(call.body === undefined ? {} : { body: call.body }),
      headers: { ...call.headers, Authorization: `Bearer ${token}` },
      timeoutMs: link.timeoutMs,
      fetch: tracking,
    });
    return { answered: true, ok: true, status: result.status, body: result.body };
  } catch (err) {
    if (!answered) return { answered: false, reason: err instanceof OutcomeError ? err.message : 'network error' };
    const error = toOutcomeError(err);
    // The body broke off after the status line: an answer, but not one to relay.
    const status = err instanceof OutcomeError ? error.status : 502;
    return { answered: true, ok: false, status, outcome: error.outcome, text: error.message };
  }
}
