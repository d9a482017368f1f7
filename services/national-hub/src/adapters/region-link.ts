import { serviceClient } from '@imaging/auth';
import type { GatewayBase } from '@imaging/config';
import type { TokenSource } from '@imaging/auth';
import { OutcomeError, toOutcomeError } from '@imaging/fhir';
import { nodeFetch } from '@imaging/fhir-http';
import type { RegionCall, RegionPort, RegionResult } from '../domain/ports.ts';

export interface RegionLinkOptions {
  /** The hub's own service tokens. */
  tokens: TokenSource;
  fetch?: typeof fetch;
  /** How long a region has to answer. */
  timeoutMs: number;
  /**
   * Gateways the directory names by a public address the hub cannot reach (a port published on the
   * host, an ingress): each call to a public base goes to its internal base instead.
   */
  gatewayBases?: readonly GatewayBase[];
}

/** The URL the hub calls for a URL under a gateway's public base. */
export function internalUrlOf(url: string, bases: readonly GatewayBase[] = []): string {
  const base = bases.find((b) => url === b.public || url.startsWith(`${b.public}/`));
  return base ? base.internal + url.slice(base.public.length) : url;
}

/** The hub's side of the regions: HTTP calls with its own token (retried once after a 401). */
export function createRegionLink(options: RegionLinkOptions): RegionPort {
  const baseFetch = options.fetch ?? nodeFetch;
  return {
    async call<T>(url: string, call: RegionCall): Promise<RegionResult<T>> {
      // Whether any response arrived tells "the region is down" from "it answered with an error".
      let answered = false;
      const tracking: typeof fetch = async (input, init) => {
        const response = await baseFetch(input, init);
        answered = true;
        return response;
      };
      const client = serviceClient({ tokens: options.tokens, fetch: tracking, timeoutMs: options.timeoutMs });
      try {
        const result = await client.call<T>(internalUrlOf(url, options.gatewayBases), {
          method: call.method,
          ...(call.body === undefined ? {} : { body: call.body }),
          ...(call.headers ? { headers: call.headers } : {}),
        });
        return { answered: true, ok: true, status: result.status, body: result.body };
      } catch (err) {
        if (!answered) return { answered: false, reason: err instanceof OutcomeError ? err.message : 'network error' };
        const error = toOutcomeError(err);
        // The body broke off after the status line: an answer, but not one to relay.
        const status = err instanceof OutcomeError ? error.status : 502;
        return { answered: true, ok: false, status, outcome: error.outcome, text: error.message };
      }
    },
  };
}
