import type { Resource } from '@medplum/fhirtypes';
import { forbidden, isAbsent, issue, OutcomeError, outcomeOf, resourceIdParam, subsetted } from '@imaging/fhir';
import type { Caller, ChainToResolve, CheckedSearch, SearchPage, SearchSubset, WithId } from '@imaging/fhir';
import { accessFilter, hasAccess } from './labels.ts';
import { deliveryKindOf } from './outbox.ts';
import type { GatewayDeps } from './ports.ts';

/** The national hub reads results here only to hand them to the locator's callers. */
const HUB_READABLE = new Set(['ImagingStudy', 'DiagnosticReport', 'Endpoint']);

/** Whether the caller's token allows reading a type: included resources are reads too. */
export type MayRead = (type: Resource['resourceType']) => boolean;

/** The most resources a chain may resolve to: one NHS number finds one patient; a chain wider than this is refused. */
export const MAX_CHAIN_MATCHES = 100;

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
  resourceIdParam(id);
  let resource: WithId<T>;
  try {
    resource = await deps.store.read<T>(type, id);
  } catch (err) {
    if (isAbsent(err)) throw notVisible(type);
    throw err;
  }
  if (!isVisible(caller, resource)) throw notVisible(type);
  return resource;
}

/**
 * The versions of a resource the caller may see, newest first: none unless it may see the resource now (an
 * organisation taken off a case cannot read its past), and of those only the versions that were shared
 * with it (a version labelled before its organisation joined the case stays hidden).
 */
export async function visibleVersions<T extends Resource>(
  deps: GatewayDeps,
  caller: Caller,
  type: T['resourceType'],
  id: string,
): Promise<WithId<T>[]> {
  await readVisible<T>(deps, caller, type, id);
  return (await deps.store.history<T>(type, id)).filter((version) => isVisible(caller, version));
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
 * is added to the query (an indexed `_security` search); a chain is resolved first, to resources the
 * caller may see; every match is checked again, shaped by `_summary`/`_elements`, and every resource
 * brought in by `_include` or `_revinclude` is checked one by one, for its labels and for the caller's
 * read scope on its type (HAPI applies `_security` to the matches only).
 */
export async function searchVisible<T extends Resource>(
  deps: GatewayDeps,
  caller: Caller,
  search: CheckedSearch,
  mayRead: MayRead,
): Promise<SearchPage<WithId<T>>> {
  const organisation = organisationOf(caller);
  const query = new URLSearchParams(search.params);
  for (const chain of search.chains) {
    const targets = await chainTargets(deps, caller, chain);
    // Nothing the caller may see is what the chain asks for: no match, as for an unknown NHS number.
    if (targets.length === 0) return noMatches(search);
    query.append(chain.param, targets.join(','));
  }
  query.append(...accessFilter(organisation));
  return visiblePage(caller, await deps.store.search<T>(search.type, query), mayRead, search.subset);
}

/** The next page of a search; the continuation was signed for this caller, with the subset it asked for. */
export async function nextVisiblePage<T extends Resource>(
  deps: GatewayDeps,
  caller: Caller,
  continuation: string,
  mayRead: MayRead,
  subset?: SearchSubset,
): Promise<SearchPage<WithId<T>>> {
  return visiblePage(caller, await deps.store.nextPage<T>(continuation), mayRead, subset);
}

function organisationOf(caller: Caller): string {
  if (!caller.organisation)
    throw new OutcomeError(forbidden(`${caller.clientId} acts for no organisation and cannot search here`));
  return caller.organisation;
}

/**
 * `Type/id` of each resource a chain may point at: the caller's own search of the target type, within its
 * access, so a chain tells nothing about resources the caller may not see.
 */
async function chainTargets(deps: GatewayDeps, caller: Caller, chain: ChainToResolve): Promise<string[]> {
  const query = new URLSearchParams(chain.query);
  query.set('_count', String(MAX_CHAIN_MATCHES + 1));
  query.set('_total', 'none');
  query.append(...accessFilter(organisationOf(caller)));
  const found = (await deps.store.search(chain.target, query)).resources.filter((r) => isVisible(caller, r));
  if (found.length > MAX_CHAIN_MATCHES) {
    const [name, value] = [...chain.query][0] ?? [];
    throw new OutcomeError(
      outcomeOf('bad-request', [
        issue({
          code: 'too-costly',
          text: `${chain.param}.${name}=${value} matches more than ${MAX_CHAIN_MATCHES} resources: narrow it`,
          expression: `${chain.param}.${name}`,
        }),
      ]),
    );
  }
  return found.map((r) => `${r.resourceType}/${r.id}`);
}

function noMatches<T extends Resource>(search: CheckedSearch): SearchPage<WithId<T>> {
  return search.params.get('_total') === 'none'
    ? { resources: [], included: [] }
    : { resources: [], included: [], total: 0 };
}

function visiblePage<T extends Resource>(
  caller: Caller,
  page: SearchPage<WithId<T>>,
  mayRead: MayRead,
  subset: SearchSubset | undefined,
): SearchPage<WithId<T>> {
  const matches = page.resources.filter((r) => isVisible(caller, r));
  return {
    ...page,
    resources: subset ? matches.map((r) => subsetted(r, subset)) : matches,
    included: page.included.filter((r) => isVisible(caller, r) && mayRead(r.resourceType)),
  };
}
