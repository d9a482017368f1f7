import { ruleProblems } from '@imaging/fhir';
import { describe, expect, it } from 'vitest';
import { DIRECTORY_SEARCH } from './directory.ts';

describe('DIRECTORY_SEARCH', () => {
  // R4 defines each parameter with the declared type, each :identifier has its stand-in on HAPI, and each
  // _include brings in what it says: what the shared checker lets through, both stores answer alike.
  it('is coherent: every parameter, modifier and _include answered the same on both stores', () => {
    expect(ruleProblems(DIRECTORY_SEARCH)).toEqual([]);
  });
});
