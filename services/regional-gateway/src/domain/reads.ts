import type { Resource } from '@medplum/fhirtypes';
import { badRequest, forbidden, isFhirId, isOutcomeError, issue, OutcomeError, outcomeOf } from '@imaging/fhir';
import type { Caller, CheckedSearch, SearchPage, WithId } from '@imaging/fhir';
import { accessFilter, hasAccess } from './labels.ts';
import { deliveryKindOf } from './outbox.ts';
import type { GatewayDeps } from './ports.ts';

/** The national hub reads results here only to hand them to the locator's callers. */
const HUB_READABLE = new Set(['ImagingStudy', 'DiagnosticReport', 'Endpoint']);

/** Whether the caller's token allows reading a type: included resources are reads too. */
export type MayRead = (type: Resource['resourceType']) => boolean;

/**
 * A resource the caller may see. One that does not exist, was deleted, or belongs to other organisations
 * gets the same 404, byte for byte and whatever the store: which of them it was is not disclosed.
 */
export async function readVisible<T extends Resource>(
  deps: GatewayDeps,
  caller: Caller,
  type: T['resourceType'],
  id: string,
): Promise<WithId<T>> {
  // Checked here, so a malformed id is the same 400 on every store (HttpStore refuses it, SQLite would look).
  if (!isFhirId(id)) throw new OutcomeError(badRequest('An id is 1 to 64 letters, digits, - or .', 'id'));
  let resource: WithId<T>;
  try {
    resource = await deps.store.read<T>(type, id);
  } catch (err) {
    if (isOutcomeError(err) && (err.status === 404 || err.status === 410)) throw notVisible(type);
    throw err;
  }
  if (!isVisible(caller, resource)) throw notVisible(type);
  return resource;
}

function notVisible(type: string): OutcomeError {
  return new OutcomeError(
    outcomeOf('not-found', [issue({ code: 'not-found', text: `No ${type} with this id is visible to you` })]),
  );
}

export function isVisible(caller: Caller, resource: Resource): boolean {
  if (caller.kind === 'hub') return HUB_READABLE.has(resource.resourceType);
  if (resource.resourceType === 'Task' && deliveryKindOf(resource)) return false;
  return hasAccess(resource, caller.organisation);
}

/**
 * A checked search (search-rules.ts) limited to what the caller's organisation may see: the access filter
 * is added to the query (an indexed `_security` search), and included resources are checked one by one,
 * for their labels and for the caller's read scope on their type.
 */
export async function searchVisible<T extends Resource>(
  deps: GatewayDeps,
  caller: Caller,
  search: CheckedSearch,
  mayRead: MayRead,
): Promise<SearchPage<WithId<T>>> {
  if (!caller.organisation)
    throw new OutcomeError(forbidden(`${caller.clientId} acts for no organisation and cannot search here`));
  const query = new URLSearchParams(search.params);
  query.append(...accessFilter(caller.organisation));
  return visiblePage(caller, await deps.store.search<T>(search.type, query), mayRead);
}

/** The next page of a search; the continuation was signed for this caller. */
export async function nextVisiblePage<T extends Resource>(
  deps: GatewayDeps,
  caller: Caller,
  continuation: string,
  mayRead: MayRead,
): Promise<SearchPage<WithId<T>>> {
  return visiblePage(caller, await deps.store.nextPage<T>(continuation), mayRead);
}

function visiblePage<T extends Resource>(
  caller: Caller,
  page: SearchPage<WithId<T>>,
  mayRead: MayRead,
): SearchPage<WithId<T>> {
  return {
    ...page,
    resources: page.resources.filter((r) => isVisible(caller, r)),
    included: page.included.filter((r) => isVisible(caller, r) && mayRead(r.resourceType)),
  };
}
