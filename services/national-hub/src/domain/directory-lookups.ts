import type { Clock, FhirStore, StoreChange } from '@imaging/fhir';
import type { RegionService } from './directory.ts';
import { findOrganisationRegion, findRegion, findService } from './directory.ts';

/** The directory questions the router, the locator and the case trail ask, each about one key. */
export interface DirectoryLookups {
  /** The region with this id, with its gateway. */
  findRegion(regionId: string): Promise<RegionService | undefined>;
  /** The active region service with this service id. */
  findService(serviceId: string): Promise<RegionService | undefined>;
  /** The region serving an ODS organisation, when it and its region's Endpoint are active. */
  findOrganisationRegion(ods: string): Promise<RegionService | undefined>;
}

/** The lookups straight from the store: every question is a search. */
export function storeDirectoryLookups(store: FhirStore): DirectoryLookups {
  return {
    findRegion: (regionId) => findRegion(store, regionId),
    findService: (serviceId) => findService(store, serviceId),
    findOrganisationRegion: (ods) => findOrganisationRegion(store, ods),
  };
}

/** The resource types a lookup reads: a write of any of them may change an answer. */
const DIRECTORY_LOOKUP_TYPES = new Set(['Organization', 'Endpoint']);

/** Distinct keys remembered at most; past it the cache starts again (keys come from the directory only). */
const MAX_ENTRIES = 10_000;

export interface CachedDirectoryLookups extends DirectoryLookups {
  /** Forgets every answer when a write stored an Organization or an Endpoint (an observedStore listener). */
  forgetOn(changes: readonly StoreChange[]): void;
}

/**
 * The lookups, each answer reused for `ttlMs`: the router asks three of them for every message, and the
 * directory changes only when a hub (re)seeds it from its topology. Only answers that found something are
 * kept, so a region or organisation added to the directory is found at once; a change to one already
 * found (deactivated, moved, a new address) reaches routing within `ttlMs` when another hub replica wrote
 * it, and at once when this process did (`forgetOn`). Concurrent questions about one key share one search.
 */
export function cachedDirectoryLookups(
  lookups: DirectoryLookups,
  options: { clock: Clock; ttlMs: number },
): CachedDirectoryLookups {
  const answers = new Map<string, { answer: Promise<RegionService | undefined>; until: number }>();
  const now = () => options.clock.now().getTime();
  const cached = (key: string, ask: () => Promise<RegionService | undefined>) => {
    const hit = answers.get(key);
    if (hit && hit.until > now()) return hit.answer;
    if (answers.size >= MAX_ENTRIES) answers.clear();
    const answer = ask();
    const entry = { answer, until: now() + options.ttlMs };
    answers.set(key, entry);
    // Nothing found, or the search failed: ask again next time. Only the entry made here is removed.
    const forget = () => {
      if (answers.get(key) === entry) answers.delete(key);
    };
    answer.then((found) => found ?? forget(), forget);
    return answer;
  };
  if (options.ttlMs <= 0) return { ...lookups, forgetOn: () => {} };
  return {
    findRegion: (regionId) => cached(`region ${regionId}`, () => lookups.findRegion(regionId)),
    findService: (serviceId) => cached(`service ${serviceId}`, () => lookups.findService(serviceId)),
    findOrganisationRegion: (ods) => cached(`ods ${ods}`, () => lookups.findOrganisationRegion(ods)),
    forgetOn(changes) {
      if (changes.some((c) => DIRECTORY_LOOKUP_TYPES.has(c.resource.resourceType))) answers.clear();
    },
  };
}
