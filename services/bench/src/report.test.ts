import { describe, expect, it } from 'vitest';
import { maximum, median, quantile } from './report.ts';

describe('the report statistics', () => {
  it('takes the maximum of a design day of latencies (250k values) without overflowing the stack', () => {
    const latencies = Array.from({ length: 250_000 }, (_, i) => (i * 7919) % 250_000);
    expect(maximum(latencies)).toBe(249_999);
    expect(maximum([-3, -1, -2])).toBe(-1);
    expect(maximum([])).toBeNaN();
  });

  it('takes quantiles as the value at or above the rank', () => {
    expect(median([5, 1, 3])).toBe(3);
    expect(quantile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 0.99)).toBe(10);
    expect(quantile([], 0.5)).toBeNaN();
  });
});
