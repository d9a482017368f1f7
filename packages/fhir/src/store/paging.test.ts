import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { OutcomeError } from '../outcomes.ts';
import type { Paging } from './paging.ts';
import { checkPagingParams, countOnlyAsSummary, isCountOnly, MAX_COUNT, MAX_OFFSET, pagingOf } from './paging.ts';

/** The error `check` throws; fails the test when it returns or throws anything else. */
function outcomeErrorFrom(check: () => unknown): OutcomeError {
  try {
    check();
  } catch (err) {
    if (err instanceof OutcomeError) return err;
    throw err;
  }
  throw new Error('expected an OutcomeError');
}

/** Strings a client might send: numbers in every notation, near the bounds, and anything at all. */
const anyValue = fc.oneof(
  fc.string(),
  fc.string({ unit: fc.constantFrom('0', '1', '9', '-', '+', '.', 'e', 'E', 'x', ' ', '１') }),
  fc.integer({ min: -10, max: MAX_OFFSET + 10 }).map(String),
  fc.bigInt().map(String),
  fc.double().map(String),
  fc.constantFrom('1e19', '1e3', '0x10', '1_000', '0001', ' 5', '5 ', '', 'Infinity', 'NaN', '9'.repeat(400)),
);

describe('checkPagingParams', () => {
  it.each([
    ['_count', 0, MAX_COUNT, 'count'],
    ['_offset', 0, MAX_OFFSET, 'offset'],
  ] as const)(
    'takes any string for %s as a whole number from %i to %i, or answers 400 naming it',
    (name, min, max, field) => {
      fc.assert(
        fc.property(anyValue, (value) => {
          const wellFormed = /^[0-9]+$/.test(value) && Number(value) >= min && Number(value) <= max;
          if (wellFormed) {
            const paging: Paging = checkPagingParams(new URLSearchParams({ [name]: value }));
            expect(paging[field]).toBe(Number(value));
            expect(Number.isSafeInteger(paging[field])).toBe(true);
          } else {
            const error = outcomeErrorFrom(() => checkPagingParams(new URLSearchParams({ [name]: value })));
            expect(error.status).toBe(400);
            expect(error.outcome.issue.map((i) => i.expression)).toEqual([[name]]);
          }
        }),
        { numRuns: 500 },
      );
    },
  );

  it('accepts the bounds themselves', () => {
    expect(checkPagingParams(new URLSearchParams({ _count: '0', _offset: '0' }))).toEqual({ count: 0, offset: 0 });
    expect(checkPagingParams(new URLSearchParams({ _count: String(MAX_COUNT), _offset: String(MAX_OFFSET) }))).toEqual({
      count: MAX_COUNT,
      offset: MAX_OFFSET,
    });
    expect(checkPagingParams(new URLSearchParams({ identifier: 'x' }))).toEqual({});
  });

  it('refuses a parameter given twice or with a modifier, one issue per problem', () => {
    const error = outcomeErrorFrom(() =>
      checkPagingParams(
        new URLSearchParams([
          ['_count', '5'],
          ['_count', '5'],
          ['_offset:missing', '1'],
          ['_offset', '-1'],
        ]),
      ),
    );
    expect(error.outcome.issue.map((i) => i.expression?.[0])).toEqual(['_count', '_offset:missing', '_offset']);
  });

  it('applies a tighter _count bound when a service asks for one', () => {
    expect(pagingOf(new URLSearchParams({ _count: '100' }), { maxCount: 100 })).toEqual({ count: 100, problems: [] });
    const { problems } = pagingOf(new URLSearchParams({ _count: '101' }), { maxCount: 100 });
    expect(problems.map((i) => i.details?.text)).toEqual(['_count must be a whole number from 0 to 100, given once']);
  });
});

describe('_count=0 (R4 search.html#count: the same as _summary=count)', () => {
  const q = (query: string) => new URLSearchParams(query);

  it('is a count of 0, within any tighter bound, and a question about the total only', () => {
    expect(pagingOf(q('_count=0'), { maxCount: 100 })).toEqual({ count: 0, problems: [] });
    expect(isCountOnly(q('_count=0'))).toBe(true);
    expect(isCountOnly(q('_count=000&status=x'))).toBe(true);
    for (const query of ['', '_count=1', '_count=0&_count=0', '_count= 0', '_count=-0', '_count:x=0', '_summary=count'])
      expect(isCountOnly(q(query)), query).toBe(false);
  });

  it('is asked of a store as _summary=count, once, the rest of the query as it was', () => {
    expect(countOnlyAsSummary(q('status=x&_count=0&_offset=2')).toString()).toBe('status=x&_offset=2&_summary=count');
    expect(countOnlyAsSummary(q('_summary=count&_count=0')).toString()).toBe('_summary=count');
    expect(countOnlyAsSummary(q('status=x&_count=5')).toString()).toBe('status=x&_count=5');
  });

  it.each(['true', 'text', 'data', 'false'])('with _summary=%s is a 400 naming _count', (summary) => {
    const error = outcomeErrorFrom(() => countOnlyAsSummary(q(`_count=0&_summary=${summary}`)));
    expect(error.status).toBe(400);
    expect(error.outcome.issue.map((i) => i.expression)).toEqual([['_count']]);
    expect(error.outcome.issue[0]?.details?.text).toContain(`_summary=${summary}`);
  });
});
