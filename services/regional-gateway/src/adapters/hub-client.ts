import { serviceClient } from '@imaging/auth';
import type { TokenSource } from '@imaging/auth';
import { alertRoleOf, badGateway, isValidOdsCode, ODS_SYSTEM, OutcomeError, SYSTEMS, systemClock } from '@imaging/fhir';
import type { Clock } from '@imaging/fhir';
import { MESSAGE_HEADERS, routingHeaders } from '@imaging/messaging';
import type { RoutingHeaders } from '@imaging/messaging';
import type { Bundle, DocumentReference, Endpoint, Organization, PractitionerRole, Resource } from '@medplum/fhirtypes';
import type { DirectoryRole, HubPort, RoleHolder, ServiceLocation } from '../domain/ports.ts';

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
  /** Times the directory cache (tests move it). */
  clock?: Clock;
}

/**
 * The gateway's side of the national hub, over HTTP with the gateway's own token. Failures are the
 * hub's own OutcomeErrors: 503 when the hub cannot be reached, and a refusal keeps the hub's status and
 * OperationOutcome, so the delivery worker can tell "try again" from "refused".
 */
export function createHubClient(options: HubClientOptions): HubPort {
  const base = `${options.hubUrl.replace(/\/+$/, '')}/fhir`;
  const now = () => (options.clock ?? systemClock).now().getTime();
  const ttl = options.cacheTtlMs ?? 60_000;
  const cache = new Map<string, { location: ServiceLocation; until: number }>();
  const roleCache = new Map<string, { roles: DirectoryRole[]; until: number }>();
  const client = serviceClient({
    tokens: options.tokenSource,
    ...(options.fetch ? { fetch: options.fetch } : {}),
    ...(options.timeoutMs ? { timeoutMs: options.timeoutMs } : {}),
  });

  const hub: HubPort = {
    async findService(ods) {
      // No region serves what is not an ODS code; the hub would refuse the search (400) as the caller's.
      if (!isValidOdsCode(ods)) return undefined;
      const hit = cache.get(ods);
      if (hit && hit.until > now()) return hit.location;
      const query = new URLSearchParams({ identifier: `${ODS_SYSTEM}|${ods}`, _include: 'Organization:endpoint' });
      const { body } = await client.call<Bundle>(`${base}/Organization?${query}`);
      const location = serviceLocationOf(body, ods);
      if (location) cache.set(ods, { location, until: now() + ttl });
      else cache.delete(ods);
      return location;
    },

    async findAlertRoles(holder: RoleHolder) {
      const key = 'ods' in holder ? `${ODS_SYSTEM}|${holder.ods}` : `${SYSTEMS.region}|${holder.region}`;
      const hit = roleCache.get(key);
      if (hit && hit.until > now()) return hit.roles;
      // An organisation the directory does not know cannot receive an alert; a region is this gateway's own.
      if ('ods' in holder && !(await hub.findService(holder.ods))) return undefined;
      const query = new URLSearchParams({ 'organization:identifier': key, _count: '100' });
      const { body } = await client.call<Bundle>(`${base}/PractitionerRole?${query}`);
      const roles = directoryRolesOf(body);
      roleCache.set(key, { roles, until: now() + ttl });
      return roles;
    },

    async routeMessage(message: Bundle, headers: RoutingHeaders) {
      const { body } = await client.call<Resource>(`${base}/$process-message`, {
        method: 'POST',
        body: message,
        headers: routingHeaders(headers),
      });
      if (body?.resourceType !== 'Bundle')
        throw new OutcomeError(badGateway('The hub answered the message without a response Bundle'));
      return body;
    },

    async registerPointer(pointer: DocumentReference, headers) {
      await client.call<DocumentReference>(`${base}/DocumentReference`, {
        method: 'POST',
        body: pointer,
        headers: {
          [MESSAGE_HEADERS.requestId]: headers.requestId,
          [MESSAGE_HEADERS.correlationId]: headers.correlationId,
        },
      });
    },
  };
  return hub;
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

/** Reads the hub's answer to "who are this organisation's (or region's) alert recipients". */
export function directoryRolesOf(bundle: Bundle | undefined): DirectoryRole[] {
  if (bundle?.resourceType !== 'Bundle')
    throw new OutcomeError(badGateway('The hub answered a directory search without a Bundle'));
  return (bundle.entry ?? []).flatMap((e) => {
    const role = e.resource as PractitionerRole | undefined;
    if (role?.resourceType !== 'PractitionerRole') return [];
    const id = role.identifier?.find((i) => i.system === SYSTEMS.practitionerRole)?.value;
    const code = alertRoleOf(role.code);
    if (!id || !code) return [];
    return [{ id, role: code, active: role.active !== false, name: role.practitioner?.display ?? id }];
  });
}
