import type { Resource, ResourceType } from '@medplum/fhirtypes';
import { multipleMatches, OutcomeError } from '@imaging/fhir';
import type { Caller, WithId } from '@imaging/fhir';
import { searchVisible } from './reads.ts';
import { checkGatewaySearch } from './search-rules.ts';
import type { GatewayDeps } from './ports.ts';

/**
 * A conditional create's match (`If-None-Exist`), among what the caller may see: the resource when
 * exactly one matches, undefined when none does, a 412 when several do. The condition is a search like
 * any other, through the gateway's search rules (a 400 for what they do not allow) and the caller's
 * visibility: a match the caller may not read counts as no match, so the answer discloses nothing, and
 * the create then goes ahead under the domain's own rules for business identifiers (a known NHS number
 * gives the referrer access to that patient; another organisation's Study Instance UID is refused).
 */
export async function conditionalMatch<T extends Resource>(
  deps: GatewayDeps,
  caller: Caller,
  type: ResourceType,
  condition: URLSearchParams,
): Promise<WithId<T> | undefined> {
  // Two are enough to tell one match from several.
  const search = checkGatewaySearch(type, new URLSearchParams([...condition, ['_count', '2']]));
  const page = await searchVisible<T>(deps, caller, search, () => false);
  if (page.resources.length > 1)
    throw new OutcomeError(
      multipleMatches(`If-None-Exist matches more than one ${type} you may read: make the condition more selective`),
    );
  return page.resources[0];
}
