import type { Coding, Resource } from '@medplum/fhirtypes';
import { CANONICAL_BASE } from '@imaging/fhir';

/**
 * Access labels: each stored resource names the organisations that may see it in `meta.security`.
 * Searches are filtered with the indexed `_security` parameter and reads are checked against it, so
 * access control never depends on a caller remembering to filter.
 */
export const ACCESS_SYSTEM = `${CANONICAL_BASE}/CodeSystem/organisation-access`;

/** On a resource shared with another region: the service id of the region holding the other copy. */
export const PEER_SERVICE_SYSTEM = `${CANONICAL_BASE}/CodeSystem/peer-service`;

export function withAccess<T extends Resource>(resource: T, organisations: (string | undefined)[]): T {
  const existing = resource.meta?.security ?? [];
  const have = new Set(existing.filter((c) => c.system === ACCESS_SYSTEM).map((c) => c.code));
  const added: Coding[] = [];
  for (const ods of organisations) {
    if (ods && !have.has(ods)) {
      have.add(ods);
      added.push({ system: ACCESS_SYSTEM, code: ods });
    }
  }
  if (added.length === 0) return resource;
  return { ...resource, meta: { ...resource.meta, security: [...existing, ...added] } };
}

export function accessOrganisations(resource: Resource): string[] {
  return (resource.meta?.security ?? [])
    .filter((c) => c.system === ACCESS_SYSTEM && c.code)
    .map((c) => c.code as string);
}

export function hasAccess(resource: Resource, ods: string | undefined): boolean {
  return !!ods && accessOrganisations(resource).includes(ods);
}

/** The search filter that limits results to what an organisation may see. */
export function accessFilter(ods: string): [string, string] {
  return ['_security', `${ACCESS_SYSTEM}|${ods}`];
}

export function withPeer<T extends Resource>(resource: T, serviceId: string): T {
  const tags = (resource.meta?.tag ?? []).filter((t) => t.system !== PEER_SERVICE_SYSTEM);
  return { ...resource, meta: { ...resource.meta, tag: [...tags, { system: PEER_SERVICE_SYSTEM, code: serviceId }] } };
}

export function peerOf(resource: Resource): string | undefined {
  return resource.meta?.tag?.find((t) => t.system === PEER_SERVICE_SYSTEM)?.code;
}
