import type { Resource } from '@medplum/fhirtypes';
import { forbidden, notFound, OutcomeError } from '@imaging/fhir';
import type { SearchPage, WithId, Caller } from '@imaging/fhir';
import { accessFilter, hasAccess } from './labels.ts';
import { deliveryKindOf } from './outbox.ts';
import type { GatewayDeps } from './ports.ts';

/** The national hub reads results here only to hand them to the locator's callers. */
const HUB_READABLE = new Set(['ImagingStudy', 'DiagnosticReport', 'Endpoint']);

/**
 * A resource the caller may see. A resource outside the caller's organisations is reported as not
 * found, so its existence is not disclosed either.
 */
export async function readVisible<T extends Resource>(
  deps: GatewayDeps,
  caller: Caller,
  type: T['resourceType'],
  id: string,
): Promise<WithId<T>> {
  const resource = await deps.store.read<T>(type, id);
  if (!isVisible(caller, resource)) throw new OutcomeError(notFound(`${type}/${id}`));
  return resource;
}

export function isVisible(caller: Caller, resource: Resource): boolean {
  if (caller.kind === 'hub') return HUB_READABLE.has(resource.resourceType);
  if (resource.resourceType === 'Task' && deliveryKindOf(resource)) return false;
  return hasAccess(resource, caller.organisation);
}

/**
 * A search limited to what the caller's organisation may see: the access filter is added to the query
 * (an indexed `_security` search), and included resources are checked one by one.
 */
export async function searchVisible<T extends Resource>(
  deps: GatewayDeps,
  caller: Caller,
  type: T['resourceType'],
  params: URLSearchParams,
): Promise<SearchPage<WithId<T>>> {
  if (!caller.organisation)
    throw new OutcomeError(forbidden(`${caller.clientId} acts for no organisation and cannot search here`));
  const query = new URLSearchParams(params);
  query.append(...accessFilter(caller.organisation));
  return visiblePage(caller, await deps.store.search<T>(type, query));
}

/** The next page of a search; the continuation was signed for this caller. */
export async function nextVisiblePage<T extends Resource>(
  deps: GatewayDeps,
  caller: Caller,
  continuation: string,
): Promise<SearchPage<WithId<T>>> {
  return visiblePage(caller, await deps.store.nextPage<T>(continuation));
}

function visiblePage<T extends Resource>(caller: Caller, page: SearchPage<WithId<T>>): SearchPage<WithId<T>> {
  return {
    ...page,
    resources: page.resources.filter((r) => isVisible(caller, r)),
    included: page.included.filter((r) => isVisible(caller, r)),
  };
}
