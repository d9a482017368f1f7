import { validateResource } from '@medplum/core';
import type { Task } from '@medplum/fhirtypes';
import { describe, expect, it } from 'vitest';
import { loadFhirDefinitions } from './definitions.ts';
import { exampleAcknowledgementTask } from './examples/index.ts';
import { NEXT_CHECK_SEARCH_PARAMETER } from './search-parameters.ts';
import { SqliteStore } from './store/sqlite/sqlite-store.ts';
import { EXTENSIONS } from './systems.ts';

const withNextCheck = (at: string | undefined): Task =>
  exampleAcknowledgementTask(at ? { extension: [{ url: EXTENSIONS.nextCheck, valueDateTime: at }] } : {});

describe('Task next-check', () => {
  it('is a valid R4 SearchParameter', () => {
    loadFhirDefinitions();
    expect(() => validateResource(NEXT_CHECK_SEARCH_PARAMETER)).not.toThrow();
  });

  it('finds on the embedded store exactly the Tasks whose next check is due, through its date index', async () => {
    const store = new SqliteStore({ path: ':memory:' });
    const due = await store.create(withNextCheck('2026-01-08T10:00:00Z'));
    const exactlyNow = await store.create(withNextCheck('2026-01-08T11:00:00Z'));
    await store.create(withNextCheck('2026-01-08T11:00:01Z'));
    await store.create(withNextCheck(undefined)); // closed: never due
    const found = await store.search<Task>('Task', { 'next-check': 'le2026-01-08T11:00:00Z' });
    expect(found.resources.map((t) => t.id).sort()).toEqual([due.resource.id, exactlyNow.resource.id].sort());
    await store.close();
  });
});
