import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { dateRange, millisecondInstantRange, patternRange } from './dates.ts';

/** `YYYY-MM-DDTHH:MM:SS.sssZ` with any digits in each field: valid instants and every field out of range. */
const instantShaped = fc
  .tuple(
    fc.oneof(fc.integer({ min: 0, max: 9999 }), fc.constantFrom(0, 99, 100, 1900, 2000, 2024, 2026, 2100, 9999)),
    fc.integer({ min: 0, max: 99 }),
    fc.integer({ min: 0, max: 99 }),
    fc.integer({ min: 0, max: 99 }),
    fc.integer({ min: 0, max: 99 }),
    fc.integer({ min: 0, max: 99 }),
    fc.oneof(fc.integer({ min: 0, max: 999 }), fc.constantFrom(0, 9, 99, 998, 999)),
  )
  .map(
    ([y, mo, d, h, mi, s, ms]) =>
      `${pad(y, 4)}-${pad(mo, 2)}-${pad(d, 2)}T${pad(h, 2)}:${pad(mi, 2)}:${pad(s, 2)}.${pad(ms, 3)}Z`,
  );

/** The same with the fields mostly in range, so that most take the fast path. */
const plausibleInstant = fc
  .date({ min: new Date('0100-01-01T00:00:00.000Z'), max: new Date('9999-12-31T23:59:59.999Z'), noInvalidDate: true })
  .map((d) => d.toISOString());

function pad(n: number, width: number): string {
  return String(n).padStart(width, '0');
}

describe('dateRange of an instant as toISOString writes it', () => {
  it('is the instant and the next millisecond', () => {
    expect(dateRange('2026-12-01T10:41:36.123Z')).toEqual({
      lo: '2026-12-01T10:41:36.123Z',
      hi: '2026-12-01T10:41:36.124Z',
    });
    expect(millisecondInstantRange('2026-12-01T10:41:36.123Z')).toBeDefined();
    expect(dateRange('2024-02-29T23:59:59.009Z')?.hi).toBe('2024-02-29T23:59:59.010Z');
  });

  it("is its millisecond's range for a stamp of this store's, with microseconds, as the pattern reads it", () => {
    const range = { lo: '2026-12-01T10:41:36.123Z', hi: '2026-12-01T10:41:36.124Z' };
    expect(dateRange('2026-12-01T10:41:36.123456Z')).toEqual(range);
    expect(patternRange('2026-12-01T10:41:36.123456Z')).toEqual(range);
  });

  it('leaves to the pattern what the pattern rolls over or reads otherwise', () => {
    for (const value of [
      '2026-12-31T23:59:59.999Z', // the next millisecond is next year
      '2026-02-29T10:00:00.000Z', // no 29 February in 2026: 1 March
      '2026-13-01T10:00:00.000Z', // month 13: January next year
      '2026-04-31T10:00:00.000Z',
      '2026-01-01T24:00:00.000Z',
      '2026-01-01T10:60:00.000Z',
      '2026-01-01T10:00:60.000Z',
      '0050-01-01T10:00:00.000Z', // Date.UTC reads years 0–99 as 1900–1999
      ' 2026-01-01T10:00:00.000Z',
      '2026-01-01T10:00:00.000+00:00',
      '2026-01-01T10:00:00.1234Z',
      '２026-01-01T10:00:00.000Z',
    ]) {
      expect(millisecondInstantRange(value), value).toBeUndefined();
      expect(dateRange(value), value).toEqual(patternRange(value));
    }
    expect(dateRange('2026-02-29T10:00:00.000Z')?.lo).toBe('2026-03-01T10:00:00.000Z');
  });

  it('agrees with the pattern on every value of the shape, in range or not', () => {
    fc.assert(
      fc.property(fc.oneof(instantShaped, plausibleInstant), (value) => {
        const fast = millisecondInstantRange(value);
        if (fast) expect(fast).toEqual(patternRange(value));
        expect(dateRange(value)).toEqual(patternRange(value));
      }),
      { numRuns: 20_000 },
    );
  });

  it('takes the fast path for valid instants below the last millisecond of a second', () => {
    fc.assert(
      fc.property(plausibleInstant, (value) => {
        expect(millisecondInstantRange(value) !== undefined).toBe(!value.endsWith('.999Z'));
      }),
    );
  });
});

describe('dateRange of other precisions', () => {
  it.each([
    ['2026', '2026-01-01T00:00:00.000Z', '2027-01-01T00:00:00.000Z'],
    ['2026-03', '2026-03-01T00:00:00.000Z', '2026-04-01T00:00:00.000Z'],
    ['2026-03-05', '2026-03-05T00:00:00.000Z', '2026-03-06T00:00:00.000Z'],
    ['2026-03-05T10:00Z', '2026-03-05T10:00:00.000Z', '2026-03-05T10:01:00.000Z'],
    ['2026-03-05T10:00:00+01:00', '2026-03-05T09:00:00.000Z', '2026-03-05T09:00:01.000Z'],
  ])('%s is [%s, %s)', (value, lo, hi) => {
    expect(millisecondInstantRange(value)).toBeUndefined();
    expect(dateRange(value)).toEqual({ lo, hi });
  });

  it('is undefined for what is not a date', () => {
    expect(dateRange('not a date')).toBeUndefined();
    expect(dateRange('')).toBeUndefined();
  });
});
