import type { Bundle, Resource, ResourceType } from '@medplum/fhirtypes';

/**
 * The FHIR store port. Services hold no state of their own: everything lives behind this interface,
 * which has two implementations (the embedded SQLite store and any FHIR R4 server over HTTP) and one
 * contract test suite (`./contract/`) that both must pass.
 *
 * Failures are thrown as `OutcomeError`s: 404 not found, 410 deleted, 412 version conflict or several
 * matches on a conditional create, 400 for a search the store cannot run, 422 for a rejected resource,
 * 503 when a remote store does not answer at all (so callers can tell "down, retry" from "refused").
 *
 * What the contract pins down beyond that (both stores pass it; HAPI's known deviations are listed in
 * `KNOWN_DEVIATIONS` in contract/deviations.ts, and what HttpStore normalises in `HTTP_NORMALISATIONS`):
 * - an update that changes nothing makes no new version (HAPI behaves the same);
 * - `ifMatch` on a resource that does not exist, or was deleted, is 412;
 * - `<reference>:identifier` finds logical references (on HAPI through custom SearchParameters);
 * - `total` may be absent on a paged search (HAPI leaves it out), but `_summary=count` always gives it,
 *   with no resources;
 * - `_sort` orders by `_lastUpdated` and by token and date parameters (`-name` descending);
 * - `_revinclude` brings in what points at the matches, as `_include` does what they point at;
 * - every transaction-response entry carries its resource, whether created, matched or updated.
 */

/** A search query as FHIR query parameters: `identifier=a|b&status=active`, a record, or URLSearchParams. */
export type SearchQuery = string | URLSearchParams | Record<string, string | string[] | undefined>;

export interface SearchPage<T extends Resource = Resource> {
  /** The matches on this page (`search.mode = match`). */
  resources: T[];
  /** Resources brought in by `_include` or `_revinclude` (`search.mode = include`). */
  included: Resource[];
  /** Total matches, when the store knows it; never counted for `_total=none`. */
  total?: number;
  /** Opaque continuation for `nextPage`; absent on the last page. */
  next?: string;
}

export interface CreateOptions {
  /** Conditional create: a search query (`identifier=sys|value`). If one resource matches, it is returned, not created. */
  ifNoneExist?: string;
}

export interface CreateResult<T extends Resource> {
  resource: T;
  /** False when `ifNoneExist` matched an existing resource. */
  created: boolean;
}

export interface UpdateOptions {
  /** Versioned update: the `meta.versionId` the caller read. A different current version gives 412. */
  ifMatch?: string;
}

export type WithId<T extends Resource> = T & { id: string };

export interface FhirStore {
  /** A short description for logs: `sqlite:/path` or the server's base URL. */
  readonly description: string;

  read<T extends Resource>(type: T['resourceType'], id: string): Promise<WithId<T>>;

  create<T extends Resource>(resource: T, options?: CreateOptions): Promise<CreateResult<WithId<T>>>;

  /** Update (or create with a caller-chosen id when none exists and no `ifMatch` is given). */
  update<T extends Resource>(resource: WithId<T>, options?: UpdateOptions): Promise<WithId<T>>;

  /** Deletes the current version. Deleting what does not exist is not an error. A later read gives 410. */
  delete(type: ResourceType, id: string): Promise<void>;

  search<T extends Resource>(type: T['resourceType'], query?: SearchQuery): Promise<SearchPage<WithId<T>>>;

  nextPage<T extends Resource>(next: string): Promise<SearchPage<WithId<T>>>;

  /** Every version of a resource, newest first. */
  history<T extends Resource>(type: T['resourceType'], id: string): Promise<WithId<T>[]>;

  /**
   * A FHIR transaction: all entries succeed or none do. Entries may use `urn:uuid:` full URLs and
   * references, `request.ifNoneExist` and `request.ifMatch`. Returns the transaction-response Bundle.
   */
  transaction(bundle: Bundle): Promise<Bundle>;

  close(): Promise<void>;
}

/** Turns any form of query into URLSearchParams. */
export function toSearchParams(query: SearchQuery | undefined): URLSearchParams {
  if (query === undefined) return new URLSearchParams();
  if (typeof query === 'string') return new URLSearchParams(query.startsWith('?') ? query.slice(1) : query);
  if (query instanceof URLSearchParams) return new URLSearchParams(query);
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    if (value === undefined) continue;
    for (const v of Array.isArray(value) ? value : [value]) params.append(key, v);
  }
  return params;
}
