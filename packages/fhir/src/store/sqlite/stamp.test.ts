import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { instantMicros, Stamps, toMilliseconds } from './stamp.ts';

const AT = Date.parse('2026-12-01T16:18:27.741Z');

describe('Stamps', () => {
  it("is the clock's millisecond with microseconds 000 when the clock has moved on", () => {
    const stamps = new Stamps();
    expect(stamps.next(AT)).toBe('2026-12-01T16:18:27.741000Z');
    expect(stamps.next(AT + 5)).toBe('2026-12-01T16:18:27.746000Z');
  });

  it('steps a microsecond past the previous stamp, and past a previous version, within one millisecond', () => {
    const stamps = new Stamps();
    expect(stamps.next(AT)).toBe('2026-12-01T16:18:27.741000Z');
    expect(stamps.next(AT)).toBe('2026-12-01T16:18:27.741001Z');
    expect(stamps.next(AT - 60_000)).toBe('2026-12-01T16:18:27.741002Z');
    // A version stamped ahead (by another replica, or in milliseconds by an older store) is passed too.
    expect(new Stamps().next(AT, '2026-12-01T16:18:27.741999Z')).toBe('2026-12-01T16:18:27.742000Z');
    expect(new Stamps().next(AT, '2026-12-01T16:18:27.741Z')).toBe('2026-12-01T16:18:27.741001Z');
  });

  it('gives stamps that order as strings in the order they were given, whatever the clock does', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: -3, max: 3 }), { minLength: 2, maxLength: 300 }), (steps) => {
        const stamps = new Stamps();
        let clock = AT;
        let furthest = AT;
        const given = steps.map((step) => {
          clock += step;
          furthest = Math.max(furthest, clock);
          return stamps.next(clock);
        });
        for (let i = 1; i < given.length; i++) {
          const [before, after] = [given[i - 1] as string, given[i] as string];
          expect(before < after).toBe(true);
          expect(instantMicros(before)).toBeLessThan(instantMicros(after));
        }
        // Never further ahead of the furthest the clock has been than a microsecond a stamp.
        expect(instantMicros(given.at(-1) as string) - furthest * 1000).toBeLessThan(given.length);
      }),
    );
  });
});

describe('instantMicros and toMilliseconds', () => {
  it('read a stamp of microseconds and one of milliseconds alike', () => {
    expect(instantMicros('2026-12-01T16:18:27.741003Z')).toBe(AT * 1000 + 3);
    expect(instantMicros('2026-12-01T16:18:27.741Z')).toBe(AT * 1000);
    expect(toMilliseconds('2026-12-01T16:18:27.741003Z')).toBe('2026-12-01T16:18:27.741Z');
    expect(toMilliseconds('2026-12-01T16:18:27.741Z')).toBe('2026-12-01T16:18:27.741Z');
    expect(toMilliseconds('2026-12-01T16:18:27.7410Z')).toBe('2026-12-01T16:18:27.7410Z');
    expect(toMilliseconds('2026-12-01T16:18:27+01:00')).toBe('2026-12-01T16:18:27+01:00');
  });
});
