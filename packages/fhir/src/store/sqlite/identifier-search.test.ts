import type { Identifier, Task } from '@medplum/fhirtypes';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { OutcomeError } from '../../outcomes.ts';
import type { SearchPage } from '../port.ts';
import { SqliteStore } from './sqlite-store.ts';
import { identifierOnly } from './identifier-search.ts';

const task = (identifier: Identifier[]): Task => ({
  resourceType: 'Task',
  status: 'requested',
  intent: 'order',
  identifier,
});

/** What a conditional create answers: the match's id, 'none' (it created), or the error's status. */
async function conditionalCreate(store: SqliteStore, query: string): Promise<string> {
  try {
    const { resource, created } = await store.create(task([{ system: 'urn:new', value: 'x' }]), {
      ifNoneExist: query,
    });
    if (created) {
      await store.delete('Task', resource.id);
      return 'none';
    }
    return resource.id;
  } catch (err) {
    if (err instanceof OutcomeError) return `status ${err.status}`;
    throw err;
  }
}

/** A page as ids, with whether it has a next page, then the pages that follow, the same way. */
async function pages(store: SqliteStore, first: SearchPage<Task>): Promise<string[][]> {
  const all: string[][] = [];
  let page: SearchPage<Task> | undefined = first;
  while (page) {
    all.push([...page.resources.map((t) => t.id as string), page.next ? 'next' : 'last', `total ${page.total}`]);
    page = page.next ? await store.nextPage<Task>(page.next) : undefined;
  }
  return all;
}

// Few systems and values, so that two live Tasks often share the identifier looked for.
const identifier = fc.record({ system: fc.constantFrom('urn:a', 'urn:a:b'), value: fc.constantFrom('1', 'x é') });
const stored = fc.array(
  fc.record({ identifiers: fc.array(identifier, { minLength: 1, maxLength: 2 }), deleted: fc.boolean() }),
  { maxLength: 8 },
);

async function storeOf(tasks: { identifiers: Identifier[]; deleted: boolean }[]): Promise<SqliteStore> {
  const store = new SqliteStore({ path: ':memory:' });
  for (const { identifiers, deleted } of tasks) {
    const { resource } = await store.create(task(identifiers));
    if (deleted) await store.delete('Task', resource.id);
  }
  return store;
}

describe('a search by identifier alone', () => {
  it('pages as the general search does: the same matches in the same order, the same next pages (deleted ones never match)', async () => {
    await fc.assert(
      fc.asyncProperty(stored, identifier, fc.integer({ min: 1, max: 3 }), async (tasks, wanted, count) => {
        const store = await storeOf(tasks);
        const value = `${wanted.system}|${wanted.value}`;
        const quick = new URLSearchParams({ identifier: value, _count: String(count), _total: 'none' });
        expect(identifierOnly(quick)).toEqual({ system: wanted.system, code: wanted.value, count });
        // The same condition twice is the same search, which the general path answers.
        const general = new URLSearchParams([...quick, ['identifier', value]]);
        expect(identifierOnly(general)).toBeUndefined();
        const answered = await pages(store, await store.search<Task>('Task', quick));
        expect(answered).toEqual(await pages(store, await store.search<Task>('Task', general)));
        await store.close();
      }),
      { numRuns: 200 },
    );
  });

  it('answers a conditional create as the general search does: the one match, none, or 412 for several', async () => {
    await fc.assert(
      fc.asyncProperty(stored, identifier, async (tasks, wanted) => {
        const store = await storeOf(tasks);
        const query = `identifier=${encodeURIComponent(`${wanted.system}|${wanted.value}`)}`;
        const page = await store.search<Task>(
          'Task',
          `${query}&identifier=${encodeURIComponent(`${wanted.system}|${wanted.value}`)}&_count=2`,
        );
        const expected = page.resources.length > 1 ? 'status 412' : (page.resources[0]?.id ?? 'none');
        expect(await conditionalCreate(store, query)).toBe(expected);
        await store.close();
      }),
      { numRuns: 150 },
    );
  });

  it('lists the Tasks with one identifier in the order they were stored, a page at a time', async () => {
    const store = new SqliteStore({ path: ':memory:' });
    const stored: string[] = [];
    for (let i = 0; i < 3; i++) stored.push((await store.create(task([{ system: 'urn:a', value: '1' }]))).resource.id);
    await store.create(task([{ system: 'urn:b', value: '1' }]));
    const search = (count: number) =>
      store.search<Task>('Task', new URLSearchParams({ identifier: 'urn:a|1', _count: String(count), _total: 'none' }));
    expect(await pages(store, await search(1))).toEqual([
      [stored[0], 'next', 'total undefined'],
      [stored[1], 'next', 'total undefined'],
      [stored[2], 'last', 'total undefined'],
    ]);
    expect(await pages(store, await search(3))).toEqual([[...stored, 'last', 'total undefined']]);
    await store.close();
  });

  it('is a 412 for two live Tasks with the identifier, and the one left once the other is deleted', async () => {
    const store = new SqliteStore({ path: ':memory:' });
    const first = (await store.create(task([{ system: 'urn:a', value: '1' }]))).resource;
    const second = (await store.create(task([{ system: 'urn:a', value: '1' }]))).resource;
    expect(await conditionalCreate(store, 'identifier=urn:a|1')).toBe('status 412');
    await store.delete('Task', first.id);
    expect(await conditionalCreate(store, 'identifier=urn:a|1')).toBe(second.id);
    await store.close();
  });

  it('leaves any other search to the general path', () => {
    for (const query of [
      'identifier=urn:a|1',
      'identifier=urn:a|1&_total=accurate',
      'identifier=urn:a|1,urn:a|2&_total=none',
      'identifier=1&_total=none',
      'identifier=urn:a|&_total=none',
      'identifier=|1&_total=none',
      'identifier:not=urn:a|1&_total=none',
      'identifier=urn:a|1&status=requested&_total=none',
      'identifier=urn:a|1&_total=none&_offset=2',
      'identifier=urn:a|1&_total=none&_count=0',
      'identifier=urn:a|1&_total=none&_count=1001',
      'identifier=urn:a|1&_total=none&_count=01',
      'identifier=urn:a|1&_total=none&_count=2&_count=3',
      'identifier=urn:a|1&_total=none&_sort=_id',
      'identifier=urn:a|a\\,b&_total=none',
      'code=urn:a|1&_total=none',
    ])
      expect(identifierOnly(new URLSearchParams(query)), query).toBeUndefined();
    expect(identifierOnly(new URLSearchParams('identifier=urn:a|1&_total=none'))).toEqual({
      system: 'urn:a',
      code: '1',
      count: 20,
    });
  });

  it('gives a type without an identifier parameter the general search’s 400, not an empty page', async () => {
    const store = new SqliteStore({ path: ':memory:' });
    const refused = store.search('Subscription', new URLSearchParams('identifier=urn:a|1&_total=none'));
    await expect(refused).rejects.toMatchObject({ status: 400 });
    await expect(refused).rejects.toThrow("Unknown search parameter 'identifier' for Subscription");
    await store.close();
  });

  it('finds a Task by an identifier with an escaped comma through the general path', async () => {
    const store = new SqliteStore({ path: ':memory:' });
    const { resource } = await store.create(task([{ system: 'urn:a', value: 'a,b' }]));
    expect(await conditionalCreate(store, 'identifier=urn:a|a\\,b')).toBe(resource.id);
    expect(await conditionalCreate(store, 'identifier=urn:a|a')).toBe('none');
    await store.close();
  });
});
