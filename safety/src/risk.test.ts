import { describe, expect, it } from 'vitest';
import type { Likelihood, Severity } from './risk.ts';
import { LIKELIHOODS, riskClass, SEVERITIES } from './risk.ts';

describe('the DCB0129 risk matrix', () => {
  it('is the matrix NHS England publishes, row by row from very high likelihood down', () => {
    // As in NHS England's UK Core Hazard Log (severity: minor → catastrophic).
    const published: [Likelihood, number[]][] = [
      ['very high', [3, 4, 4, 5, 5]],
      ['high', [2, 3, 3, 4, 5]],
      ['medium', [2, 2, 3, 3, 4]],
      ['low', [1, 2, 2, 3, 4]],
      ['very low', [1, 1, 2, 2, 3]],
    ];
    for (const [likelihood, row] of published) expect(SEVERITIES.map((s) => riskClass(s, likelihood))).toEqual(row);
  });

  it('never lowers the class when severity or likelihood rises', () => {
    const pairs = (list: readonly string[]) => list.slice(1).map((v, i) => [list[i], v] as [string, string]);
    for (const l of LIKELIHOODS)
      for (const [lower, higher] of pairs(SEVERITIES))
        expect(riskClass(higher as Severity, l)).toBeGreaterThanOrEqual(riskClass(lower as Severity, l));
    for (const s of SEVERITIES)
      for (const [lower, higher] of pairs(LIKELIHOODS))
        expect(riskClass(s, higher as Likelihood)).toBeGreaterThanOrEqual(riskClass(s, lower as Likelihood));
  });
});
