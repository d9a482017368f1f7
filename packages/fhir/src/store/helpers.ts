import type { Resource } from '@medplum/fhirtypes';
import { badRequest, issue, multipleMatches, OutcomeError, outcomeOf } from '../outcomes.ts';
import { isFhirId } from '../validation/base.ts';
import type { FhirStore, SearchQuery, WithId } from './port.ts';
import { toSearchParams } from './port.ts';

/** The one resource matching a query, or undefined. More than one match is a 412. */
export async function searchOne<T extends Resource>(
  store: FhirStore,
  type: T['resourceType'],
  query: SearchQuery,
): Promise<WithId<T> | undefined> {
  const params = toSearchParams(query);
  params.set('_count', '2');
  params.set('_total', 'none');
  const page = await store.search<T>(type, params);
  if (page.resources.length > 1) {
    throw new OutcomeError(multipleMatches(`More than one ${type} matches ${params.toString()}`));
  }
  return page.resources[0];
}

/** Every resource matching a query, following `next` pages. */
export async function searchAll<T extends Resource>(
  store: FhirStore,
  type: T['resourceType'],
  query?: SearchQuery,
): Promise<WithId<T>[]> {
  const params = toSearchParams(query);
  if (!params.has('_count')) params.set('_count', '100');
  if (!params.has('_total')) params.set('_total', 'none'); // pages are followed to the end: no count needed
  let page = await store.search<T>(type, params);
  const all = [...page.resources];
  while (page.next) {
    page = await store.nextPage<T>(page.next);
    all.push(...page.resources);
  }
  return all;
}

/** Whether an error is the store saying a resource is not there (404) or was deleted (410). */
export function isAbsent(err: unknown): boolean {
  return err instanceof OutcomeError && (err.status === 404 || err.status === 410);
}

/**
 * A resource by id, or undefined when the store has none (404) or it was deleted (410). Any other failure
 * (the store down, a bad answer) is thrown: it is not an answer about the resource.
 */
export async function readIfPresent<T extends Resource>(
  store: FhirStore,
  type: T['resourceType'],
  id: string,
): Promise<WithId<T> | undefined> {
  try {
    return await store.read<T>(type, id);
  } catch (err) {
    if (isAbsent(err)) return undefined;
    throw err;
  }
}

/**
 * `system|value` as a token search value, each part escaped (R4 search.html#escaping): a `,` `|` `$` or `\`
 * in it is a character to match, never a second value (`N81002-9,N81001-1` would otherwise also find N81001-1).
 */
export function token(system: string, value: string): string {
  return `${escapeSearchValue(system)}|${escapeSearchValue(value)}`;
}

/** A search value's `\`, `,`, `|` and `$` escaped with a backslash: the value itself, as both stores read it. */
export function escapeSearchValue(value: string): string {
  return value.replace(/[\\,|$]/g, '\\$&');
}

/**
 * Re-runs work that read a version and wrote it back with `If-Match` (directly or in a transaction)
 * when another writer got there in between (412). The work must re-read on each run.
 */
export async function retryOnConflict<T>(work: () => Promise<T>, attempts = 4): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await work();
    } catch (err) {
      if (err instanceof OutcomeError && err.status === 412 && attempt < attempts) continue;
      throw err;
    }
  }
}

/** `Type/id` of a stored resource. */
export function referenceTo(resource: WithId<Resource>): string {
  return `${resource.resourceType}/${resource.id}`;
}

/**
 * A resource id from a URL, checked before any store is asked, so a malformed one is the same 400 on every
 * store (HttpStore refuses it; SQLite would look it up).
 */
export function resourceIdParam(value: string): string {
  if (!isFhirId(value)) throw new OutcomeError(badRequest('An id is 1 to 64 letters, digits, - or .', 'id'));
  return value;
}

/**
 * A version id from a URL (`_history/{vid}`), checked before any store is asked: a malformed one is a 400
 * whoever asks and whatever is stored, so it tells nothing about the resource.
 */
export function versionIdParam(value: string): string {
  if (!isFhirId(value)) throw new OutcomeError(badRequest('A version id is 1 to 64 letters, digits, - or .', 'vid'));
  return value;
}

/**
 * One version from a resource's history (as the store lists it), or a 404 that says no more than that
 * this version is not one the caller may see. `versionId` is checked first (versionIdParam).
 */
export function versionFrom<T extends Resource>(
  versions: readonly WithId<T>[],
  type: string,
  versionId: string,
): WithId<T> {
  const found = versions.find((v) => (v.meta?.versionId ?? '1') === versionId);
  if (found) return found;
  throw new OutcomeError(
    outcomeOf('not-found', [
      issue({ code: 'not-found', text: `No version ${versionId} of this ${type} is visible to you` }),
    ]),
  );
}
