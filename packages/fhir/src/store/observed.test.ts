import type { Bundle, Patient, Task } from '@medplum/fhirtypes';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { exampleFulfilmentTask, examplePatient } from '../examples/index.ts';
import { NHS_NUMBER_SYSTEM } from '../systems.ts';
import { outcomeErrorOf } from '../testing.ts';
import type { StoreChange } from './observed.ts';
import { observedStore } from './observed.ts';
import type { FhirStore } from './port.ts';
import { SqliteStore } from './sqlite/sqlite-store.ts';

describe('observedStore', () => {
  let inner: SqliteStore;
  let store: FhirStore;
  let told: StoreChange[][];
  beforeEach(() => {
    inner = new SqliteStore({ path: ':memory:' });
    told = [];
    store = observedStore(inner, (changes) => told.push([...changes]));
  });
  afterEach(async () => {
    await store.close();
  });

  const seen = () => told.map((batch) => batch.map((c) => `${c.action} ${c.resource.resourceType}/${c.resource.id}`));
  const nhs = examplePatient().identifier?.[0]?.value as string;

  it('tells what a create and an update stored, with the stored resource', async () => {
    const { resource } = await store.create(examplePatient());
    const updated = await store.update<Patient>({ ...resource, gender: 'female' });
    expect(seen()).toEqual([[`create Patient/${resource.id}`], [`update Patient/${resource.id}`]]);
    expect(told[1]?.[0]?.resource.meta?.versionId).toBe(updated.meta?.versionId);
    expect(store.description).toBe(inner.description);
  });

  it('tells nothing for a conditional create that matched, nor for a write that failed', async () => {
    const query = `identifier=${NHS_NUMBER_SYSTEM}|${nhs}`;
    await store.create(examplePatient(), { ifNoneExist: query });
    await store.create(examplePatient(), { ifNoneExist: query });
    const task = (await store.create<Task>(exampleFulfilmentTask())).resource;
    await outcomeErrorOf(store.update<Task>({ ...task, status: 'accepted' }, { ifMatch: '9' }));
    expect(seen().map((batch) => batch.map((s) => s.split(' ')[0]))).toEqual([['create'], ['create']]);
  });

  it('tells what a transaction stored, in order, leaving out the conditional creates that matched', async () => {
    await store.create(examplePatient());
    told = [];
    const bundle: Bundle = {
      resourceType: 'Bundle',
      type: 'transaction',
      entry: [
        {
          resource: examplePatient(),
          request: { method: 'POST', url: 'Patient', ifNoneExist: `identifier=${NHS_NUMBER_SYSTEM}|${nhs}` },
        },
        { resource: exampleFulfilmentTask(), request: { method: 'POST', url: 'Task' } },
        { resource: { ...exampleFulfilmentTask(), id: 'fixed' }, request: { method: 'PUT', url: 'Task/fixed' } },
      ],
    };
    const response = await store.transaction(bundle);
    const created = response.entry?.[1]?.resource as Task;
    expect(seen()).toEqual([[`create Task/${created.id}`, 'update Task/fixed']]);
  });

  it('keeps a write that succeeded a success when the listener throws', async () => {
    const throwing = observedStore(inner, () => {
      throw new Error('listener bug');
    });
    const { created } = await throwing.create(examplePatient());
    expect(created).toBe(true);
  });
});
