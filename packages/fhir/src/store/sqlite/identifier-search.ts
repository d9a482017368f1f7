import { getSearchParameter } from '@medplum/core';
import { MAX_COUNT } from '../paging.ts';
import { DEFAULT_COUNT } from './query.ts';

/*
 * The search by one business identifier, the store's most frequent by far (every conditional create,
 * every lookup of a message's receipt or a patient by NHS number): recognised here, and answered by
 * SyncStore from its index range without compiling and planning a search.
 */

/** The resources with one identifier, in pk order, up to a limit; deleted ones have no rows. */
export const IDENTIFIER_MATCHES_SQL =
  "SELECT DISTINCT pk FROM idx_token WHERE type = ? AND param = 'identifier' AND code = ? AND system = ? ORDER BY pk LIMIT ?";

export interface IdentifierQuery {
  system: string;
  code: string;
  count: number;
}

/**
 * A search that is one `identifier=system|value` (no modifier, no second value, no escape) with
 * `_total=none` and at most a `_count` from 1 to 1,000, on its first page: what conditional creates and
 * lookups by business identifier ask. Undefined for any other search, which is compiled and planned.
 */
export function identifierOnly(params: URLSearchParams): IdentifierQuery | undefined {
  const keys = [...params.keys()];
  if (new Set(keys).size !== keys.length || params.get('_total') !== 'none') return undefined;
  if (keys.some((key) => key !== 'identifier' && key !== '_count' && key !== '_total')) return undefined;
  const value = params.get('identifier');
  const countParam = params.get('_count') ?? String(DEFAULT_COUNT);
  const count = /^[1-9][0-9]{0,3}$/.test(countParam) ? Number(countParam) : 0;
  if (value === null || count < 1 || count > MAX_COUNT) return undefined;
  const bar = value.indexOf('|');
  if (bar <= 0 || bar === value.length - 1 || /[,\\$]/.test(value)) return undefined;
  return { system: value.slice(0, bar), code: value.slice(bar + 1), count };
}

/** Whether `identifier` is a token search parameter of the type (it is of every type that has one in R4). */
export function hasIdentifierToken(type: string): boolean {
  return getSearchParameter(type, 'identifier')?.type === 'token';
}
