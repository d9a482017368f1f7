import type { OperationOutcomeIssue } from '@medplum/fhirtypes';
import { invalid, issue, OutcomeError } from '../outcomes.ts';

/** The largest page a search may ask for (`_count`). */
export const MAX_COUNT = 1000;
/**
 * The furthest a search may skip (`_offset`): beyond any result set here, and low enough that offset
 * plus count stays a 32-bit int, which is how HAPI FHIR (Java) counts; SQLite's limit is 2^63.
 */
export const MAX_OFFSET = 1_000_000_000;

export interface Paging {
  count?: number;
  offset?: number;
}

export interface PagingLimits {
  /** A tighter `_count` bound than MAX_COUNT, for a service whose searches are small. */
  maxCount?: number;
}

/**
 * The paging parameters of a search (`_count` 1..MAX_COUNT, `_offset` 0..MAX_OFFSET, each a plain
 * decimal integer given at most once, without modifier) and one issue per problem. The one rule for
 * both services and both stores, so the embedded store and a FHIR server see the same bounds.
 */
export function pagingOf(
  params: URLSearchParams,
  limits: PagingLimits = {},
): Paging & { problems: OperationOutcomeIssue[] } {
  const bounds = { _count: [1, limits.maxCount ?? MAX_COUNT], _offset: [0, MAX_OFFSET] } as const;
  const paging: Paging = {};
  const problems: OperationOutcomeIssue[] = [];
  const keys = new Set(params.keys());
  for (const [name, [min, max]] of Object.entries(bounds)) {
    for (const key of keys) {
      if (key.startsWith(`${name}:`))
        problems.push(issue({ code: 'not-supported', text: `${name} takes no modifier`, expression: key }));
    }
    const values = params.getAll(name);
    if (values.length === 0) continue;
    const text = `${name} must be a whole number from ${min} to ${max}, given once`;
    // Digits only: no sign, exponent, fraction or spaces, which Number() would otherwise take.
    const value = values.length === 1 && /^[0-9]+$/.test(values[0] as string) ? Number(values[0]) : Number.NaN;
    if (!(value >= min && value <= max)) problems.push(issue({ code: 'value', text, expression: name }));
    else paging[name === '_count' ? 'count' : 'offset'] = value;
  }
  return { ...paging, problems };
}

/** The paging of a search, or a 400 naming each bad parameter. Call it before any store sees the query. */
export function checkPagingParams(params: URLSearchParams, limits: PagingLimits = {}): Paging {
  const { problems, ...paging } = pagingOf(params, limits);
  if (problems.length) throw new OutcomeError(invalid(problems));
  return paging;
}
