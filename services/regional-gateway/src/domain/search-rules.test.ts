import { isIndexed, PROJECT_INDEX_POLICY } from '@imaging/fhir';
import { describe, expect, it } from 'vitest';
import { SEARCH_RULES } from './search-rules.ts';

/** Every `type param` a client may search by, sort by, or bring in resources through, under the rules. */
function searchedByClients(): string[] {
  const searched: string[] = [];
  for (const [type, rules] of Object.entries(SEARCH_RULES)) {
    for (const param of Object.keys(rules.params)) searched.push(`${type} ${param}`);
    for (const include of Object.keys('includes' in rules ? rules.includes : {})) {
      const [source, param] = include.split(':');
      searched.push(`${source} ${param}`);
    }
    for (const revinclude of 'revincludes' in rules ? rules.revincludes : []) {
      const [source, param] = revinclude.split(':');
      searched.push(`${source} ${param}`);
    }
  }
  return searched;
}

describe('the search rules and the embedded store', () => {
  it('every parameter a client may search by is one the embedded store indexes', () => {
    const searched = searchedByClients();
    expect(searched).toContain('Task owner');
    expect(searched).toContain('Task focus');
    const unindexed = searched.filter((entry) => {
      const [type, param] = entry.split(' ') as [string, string];
      return param !== '_id' && !isIndexed(PROJECT_INDEX_POLICY, type, param);
    });
    expect(unindexed).toEqual([]);
  });

  it('would notice a parameter the policy leaves out', () => {
    const narrower = { ...PROJECT_INDEX_POLICY, Task: ['identifier'] };
    expect(isIndexed(narrower, 'Task', 'owner')).toBe(false);
    expect(isIndexed(narrower, 'Task', 'identifier')).toBe(true);
    expect(isIndexed(narrower, 'Endpoint', 'anything')).toBe(true);
  });
});
