import type { OperationOutcomeIssue } from '@medplum/fhirtypes';
import { invalid, issue, OutcomeError, cutShort as shown } from '../outcomes.ts';

/** The largest page a search may ask for (`_count`). */
export const MAX_COUNT = 1000;
/**
 * The furthest a search may skip (`_offset`): beyond any result set here, and low enough that offset
 * plus count stays a 32-bit int, which is how HAPI FHIR (Java) counts; SQLite's limit is 2^63.
 */
export const MAX_OFFSET = 1_000_000_000;

export interface Paging {
  /** 0 asks for the total only: R4 (search.html#count) answers `_count=0` as `_summary=count`. */
  count?: number;
  offset?: number;
}

export interface PagingLimits {
  /** A tighter `_count` bound than MAX_COUNT, for a service whose searches are small. */
  maxCount?: number;
}

/**
 * The paging parameters of a search (`_count` 0..MAX_COUNT, `_offset` 0..MAX_OFFSET, each a plain
 * decimal integer given at most once, without modifier) and one issue per problem. The one rule for
 * both services and both stores, so the embedded store and a FHIR server see the same bounds. A `count`
 * of 0 is a question about the total, with no entries (see `isCountOnly`): each caller that pages by
 * itself answers it so, and a store is asked it as `_summary=count`.
 */
export function pagingOf(
  params: URLSearchParams,
  limits: PagingLimits = {},
): Paging & { problems: OperationOutcomeIssue[] } {
  const bounds = { _count: [0, limits.maxCount ?? MAX_COUNT], _offset: [0, MAX_OFFSET] } as const;
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

/**
 * Whether a search asks for its total only by `_count=0`, given once (R4 search.html#count: it SHALL be
 * treated as `_summary=count`). Given twice, it is `pagingOf`'s 400, not a question.
 */
export function isCountOnly(params: URLSearchParams): boolean {
  const values = params.getAll('_count');
  return values.length === 1 && /^0+$/.test(values[0] as string);
}

/**
 * Why `_count=0` cannot be answered together with the `_summary` values given, if it cannot. `_count=0` is
 * `_summary=count` (R4), so a `_summary` of any other value (`false` included) is a second, different
 * `_summary`: refused as `_summary` given twice is, naming `_count`, rather than one of the two being
 * silently dropped. (`_summary=count` as well asks the same thing twice, and is answered.)
 */
export function countOnlyProblem(summaries: readonly string[]): OperationOutcomeIssue | undefined {
  const other = summaries.find((s) => s.trim() !== 'count');
  return other === undefined
    ? undefined
    : issue({
        code: 'value',
        text: `_count=0 asks for the total only, as _summary=count does: it cannot be combined with _summary=${shown(other.trim())}`,
        expression: '_count',
      });
}

/**
 * A store's query with `_count=0` asked as `_summary=count`, the form every FHIR server answers with the
 * total and no entries; any other query as it is. Call it once the paging is checked.
 */
export function countOnlyAsSummary(params: URLSearchParams): URLSearchParams {
  if (!isCountOnly(params)) return params;
  const problem = countOnlyProblem(params.getAll('_summary'));
  if (problem) throw new OutcomeError(invalid([problem]));
  const asked = new URLSearchParams([...params].filter(([key]) => key !== '_count' && key !== '_summary'));
  asked.append('_summary', 'count');
  return asked;
}
