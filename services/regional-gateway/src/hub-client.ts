import type { TokenSource } from '@imaging/auth';
import { badGateway, ODS_SYSTEM, OutcomeError, SYSTEMS } from '@imaging/fhir';
import { fhirFetch } from '@imaging/fhir-http';
import type { FhirFetchResult } from '@imaging/fhir-http';
import { MESSAGE_HEADERS, routingHeaders } from '@imaging/messaging';
import type { Bundle, DocumentReference, Endpoint, Organization, Resource } from '@medplum/fhirtypes';
import type { HubPort, RouteHeaders, ServiceLocation } from './domain/ports.ts';

export interface HubClientOptions {
  /** The hub's base URL, without /fhir (e.g. http://127.0.0.1:4000). */
  hubUrl: string;
  /** This gateway's access tokens from the hub. */
  tokenSource: TokenSource;
  fetch?: typeof fetch;
  /** Per call to the hub; default 10 s. */
  timeoutMs?: number;
  /** How long a directory answer is reused; default 60 s. A cache, not state: losing it costs one call. */
  cacheTtlMs?: number;
  /** Milliseconds since the epoch (tests move it). */
  now?: () => number;
}

/**
 * The gateway's side of the national hub, over HTTP with the gateway's own token. Failures are the
 * hub's own OutcomeErrors: 503 when the hub cannot be reached, and a refusal keeps the hub's status and
 * OperationOutcome, so the delivery worker can tell "try again" from "refused".
 */
export function createHubClient(options: HubClientOptions): HubPort {
  const base = `${options.hubUrl.replace(/\/+$/, '')}/fhir`;
  const now = options.now ?? Date.now;
  const ttl = options.cacheTtlMs ?? 60_000;
  const cache = new Map<string, { location: ServiceLocation; until: number }>();

  /** One call; a 401 (the token expired or the hub's key rotated) is retried once with a new token. */
  async function call<T>(
    url: string,
    init: { method?: string; body?: unknown; headers?: Record<string, string> } = {},
  ): Promise<FhirFetchResult<T>> {
    for (let attempt = 1; ; attempt++) {
      const token = await options.tokenSource.getToken();
      try {
        return await fhirFetch<T>(url, {
          ...init,
          headers: { ...init.headers, Authorization: `Bearer ${token}` },
          ...(options.timeoutMs ? { timeoutMs: options.timeoutMs } : {}),
          ...(options.fetch ? { fetch: options.fetch } : {}),
        });
      } catch (err) {
        if (attempt === 1 && err instanceof OutcomeError && err.status === 401) {
          options.tokenSource.invalidate();
          continue;
        }
        throw err;
      }
    }
  }

  return {
    async findService(ods) {
      const hit = cache.get(ods);
      if (hit && hit.until > now()) return hit.location;
      const query = new URLSearchParams({ identifier: `${ODS_SYSTEM}|${ods}`, _include: 'Organization:endpoint' });
      const { body } = await call<Bundle>(`${base}/Organization?${query}`);
      const location = serviceLocationOf(body, ods);
      if (location) cache.set(ods, { location, until: now() + ttl });
      else cache.delete(ods);
      return location;
    },

    async routeMessage(message: Bundle, headers: RouteHeaders) {
      const { body } = await call<Resource>(`${base}/$process-message`, {
        method: 'POST',
        body: message,
        headers: routingHeaders(headers),
      });
      if (body?.resourceType !== 'Bundle')
        throw new OutcomeError(badGateway('The hub answered the message without a response Bundle'));
      return body;
    },

    async registerPointer(pointer: DocumentReference, headers) {
      await call<DocumentReference>(`${base}/DocumentReference`, {
        method: 'POST',
        body: pointer,
        headers: {
          [MESSAGE_HEADERS.requestId]: headers.requestId,
          [MESSAGE_HEADERS.correlationId]: headers.correlationId,
        },
      });
    },
  };
}

/**
 * Reads the hub's answer to "which region serves this ODS code": the matching Organization, its
 * region (`partOf`, by region id) and the region's active Endpoint among the included resources.
 */
export function serviceLocationOf(bundle: Bundle | undefined, ods: string): ServiceLocation | undefined {
  if (bundle?.resourceType !== 'Bundle')
    throw new OutcomeError(badGateway('The hub answered a directory search without a Bundle'));
  const resources = (bundle.entry ?? []).map((e) => e.resource).filter((r): r is Resource => !!r);
  const organization = resources.find(
    (r): r is Organization =>
      r.resourceType === 'Organization' && !!r.identifier?.some((i) => i.system === ODS_SYSTEM && i.value === ods),
  );
  if (!organization) return undefined;
  const endpointRefs = new Set((organization.endpoint ?? []).map((e) => e.reference));
  const endpoint = resources.find(
    (r): r is Endpoint =>
      r.resourceType === 'Endpoint' && endpointRefs.has(`Endpoint/${r.id}`) && r.status === 'active',
  );
  const regionId =
    organization.partOf?.identifier?.system === SYSTEMS.region ? organization.partOf.identifier.value : undefined;
  const serviceId = endpoint?.identifier?.find((i) => i.system === SYSTEMS.serviceId)?.value;
  if (!regionId || !serviceId || !endpoint?.address) return undefined;
  return { regionId, serviceId, fhirBaseUrl: endpoint.address.replace(/\/+$/, '') };
}
