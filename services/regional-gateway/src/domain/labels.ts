import type { Coding, OperationOutcomeIssue, Resource } from '@medplum/fhirtypes';
import { CANONICAL_BASE, issue } from '@imaging/fhir';

/**
 * Access labels: each stored resource names the organisations that may see it in `meta.security`.
 * Searches are filtered with the indexed `_security` parameter and reads are checked against it, so
 * access control never depends on a caller remembering to filter.
 */
export const ACCESS_SYSTEM = `${CANONICAL_BASE}/CodeSystem/organisation-access`;

/** On a resource shared with another region: the service id of the region holding the other copy. */
export const PEER_SERVICE_SYSTEM = `${CANONICAL_BASE}/CodeSystem/peer-service`;

/** The systems only this server writes, in `meta.security` or `meta.tag`. */
const SERVER_SYSTEMS: ReadonlySet<string | undefined> = new Set([ACCESS_SYSTEM, PEER_SERVICE_SYSTEM]);

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

type MetaList = 'security' | 'tag';

function isServerCoding(value: unknown): value is Coding {
  return !!value && typeof value === 'object' && SERVER_SYSTEMS.has((value as Coding).system);
}

function serverCodings(resource: Resource | undefined, list: MetaList): Set<string> {
  const codings: unknown = resource?.meta?.[list];
  return new Set(Array.isArray(codings) ? codings.filter(isServerCoding).map((c) => `${c.system}|${c.code}`) : []);
}

/**
 * A 422 issue for each label in the server's systems that a client sent and `stored` does not already
 * carry: a create may carry none; an update may send back the labels it read, and change none.
 */
export function labelIssues(resource: Resource, stored?: Resource): OperationOutcomeIssue[] {
  return (['security', 'tag'] as const).flatMap((list) => {
    const codings: unknown = resource.meta?.[list];
    if (!Array.isArray(codings)) return [];
    const kept = serverCodings(stored, list);
    return codings.flatMap((coding, i) =>
      isServerCoding(coding) && !kept.has(`${coding.system}|${coding.code}`)
        ? [
            issue({
              code: 'business-rule',
              text: `${coding.system}|${coding.code ?? ''} is this server's label: a client may send back the labels it read, not add or change them`,
              expression: `${resource.resourceType}.meta.${list}[${i}]`,
            }),
          ]
        : [],
    );
  });
}

/**
 * Whether `meta` and its label lists have R4's shape. The labels are dropped before the resource is
 * validated (`unlabelled`), so a malformed `meta` would otherwise vanish without a word: it is a 400.
 */
export function labelShapeIssues(resource: Resource): OperationOutcomeIssue[] {
  const meta: unknown = resource.meta;
  const at = `${resource.resourceType}.meta`;
  if (meta === undefined) return [];
  if (typeof meta !== 'object' || meta === null || Array.isArray(meta))
    return [issue({ code: 'structure', text: 'meta must be a JSON object', expression: at })];
  return (['security', 'tag'] as const).flatMap((list) => {
    const codings: unknown = (meta as Record<string, unknown>)[list];
    if (codings === undefined) return [];
    if (!Array.isArray(codings))
      return [
        issue({ code: 'structure', text: `meta.${list} must be a list of Codings`, expression: `${at}.${list}` }),
      ];
    return codings.flatMap((coding, i) =>
      typeof coding === 'object' && coding !== null && !Array.isArray(coding)
        ? []
        : [issue({ code: 'structure', text: 'A Coding must be a JSON object', expression: `${at}.${list}[${i}]` })],
    );
  });
}

/**
 * The resource without security labels or the server's tags. Security labels of other systems go too:
 * this server enforces only its own, and keeping others would promise a protection it does not give.
 */
export function unlabelled<T extends Resource>(resource: T): T {
  const meta = resource.meta;
  if (!meta || typeof meta !== 'object') return resource;
  const { security: _security, tag, ...rest } = meta;
  const tags = Array.isArray(tag) ? tag.filter((t) => !isServerCoding(t)) : tag;
  const kept = tags === undefined || (Array.isArray(tags) && tags.length === 0) ? rest : { ...rest, tag: tags };
  const { meta: _meta, ...bare } = resource;
  return (Object.keys(kept).length > 0 ? { ...bare, meta: kept } : bare) as T;
}

/**
 * A new resource with exactly the labels the server computes: access for `organisations` and, for one
 * shared with another region, that region's tag. Whatever labels it came with are dropped.
 */
export function labelledAs<T extends Resource>(resource: T, organisations: (string | undefined)[], peer?: string): T {
  const labelled = withAccess(unlabelled(resource), organisations);
  return peer ? withPeer(labelled, peer) : labelled;
}
