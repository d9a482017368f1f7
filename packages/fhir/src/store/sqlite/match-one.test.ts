import type { Identifier, Task } from '@medplum/fhirtypes';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { OutcomeError } from '../../outcomes.ts';
import { SqliteStore } from './sqlite-store.ts';
import { identifierOnly } from './sync-store.ts';

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

/** What the general search says the same conditional create must answer. */
async function bySearch(store: SqliteStore, query: string): Promise<string> {
  const page = await store.search<Task>('Task', `${query}&_count=2`);
  if (page.resources.length > 1) return 'status 412';
  return page.resources[0]?.id ?? 'none';
}

describe('a conditional create by identifier alone', () => {
  it('answers as the general search does: the one match, none, or 412 for several (deleted ones never match)', async () => {
    // Few of each, so that two live Tasks often share the identifier looked for.
    const systems = ['urn:a', 'urn:a:b'];
    const values = ['1', 'x é'];
    const identifier = fc.record({ system: fc.constantFrom(...systems), value: fc.constantFrom(...values) });
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.record({ identifiers: fc.array(identifier, { maxLength: 3 }), deleted: fc.boolean() }), {
          maxLength: 8,
        }),
        identifier,
        async (tasks, wanted) => {
          const store = new SqliteStore({ path: ':memory:' });
          for (const { identifiers, deleted } of tasks) {
            const { resource } = await store.create(task(identifiers));
            if (deleted) await store.delete('Task', resource.id);
          }
          const query = `identifier=${encodeURIComponent(`${wanted.system}|${wanted.value}`)}`;
          expect(identifierOnly(query)).toEqual({ system: wanted.system, code: wanted.value });
          expect(await conditionalCreate(store, query)).toBe(await bySearch(store, query));
          await store.close();
        },
      ),
      { numRuns: 150 },
    );
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

  it('leaves any other query to the general search', () => {
    for (const query of [
      'identifier=urn:a|1,urn:a|2',
      'identifier=1',
      'identifier=urn:a|',
      'identifier=|1',
      'identifier:not=urn:a|1',
      'identifier=urn:a|1&status=requested',
      'identifier=urn:a|1&identifier=urn:a|2',
      'identifier=urn:a|a\\,b',
      'code=urn:a|1',
    ])
      expect(identifierOnly(query), query).toBeUndefined();
  });

  it('finds a Task by an identifier with a comma or an escape through the general search', async () => {
    const store = new SqliteStore({ path: ':memory:' });
    const { resource } = await store.create(task([{ system: 'urn:a', value: 'a,b' }]));
    expect(await conditionalCreate(store, 'identifier=urn:a|a\\,b')).toBe(resource.id);
    expect(await conditionalCreate(store, 'identifier=urn:a|a')).toBe('none');
    await store.close();
  });
});
