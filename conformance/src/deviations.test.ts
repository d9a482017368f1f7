import { readFileSync } from 'node:fs';
import { KNOWN_DEVIATIONS } from '@imaging/fhir/contract';
import { describe, expect, it } from 'vitest';
import { allDeviations, deviationInName, knownDeviation, SERVER_DEVIATIONS } from './deviations.ts';

describe('deviations', () => {
  it('a recorded deviation is described; an unrecorded one is an error naming what is recorded', () => {
    expect(knownDeviation('hapi', 'stale-if-match-409')).toEqual({
      key: 'hapi:stale-if-match-409',
      description: SERVER_DEVIATIONS.hapi['stale-if-match-409'],
    });
    expect(() => knownDeviation('hapi', 'no-such')).toThrow(
      /not a recorded deviation for hapi servers \(recorded: stale-if-match-409\)/,
    );
    expect(() => knownDeviation('other', 'stale-if-match-409')).toThrow(/recorded: none/);
  });

  it("reads the store contract's deviation marks from test names, with the contract's description", () => {
    const found = deviationInName(
      'update with ifMatch of an id that has never existed [known deviation hapi:if-match-on-missing-creates]',
    );
    expect(found).toEqual({
      key: 'hapi:if-match-on-missing-creates',
      description: KNOWN_DEVIATIONS.hapi['if-match-on-missing-creates'],
    });
    expect(deviationInName('a plain name')).toBeUndefined();
    expect(deviationInName('x [known deviation hapi:invented]')?.description).toMatch(/^NOT RECORDED/);
  });

  it('lists every deviation from both lists', () => {
    const keys = allDeviations().map(([key]) => key);
    expect(keys).toEqual(
      expect.arrayContaining([
        'hapi:stale-if-match-409',
        'hapi:if-match-on-missing-creates',
        'hapi:search-total-optional',
      ]),
    );
  });
});

describe('the README', () => {
  it('lists every recorded deviation', () => {
    const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
    for (const [key] of allDeviations()) expect(readme, `README.md names ${key}`).toContain(`\`${key}\``);
  });
});
