import type { Patient, Task } from '@medplum/fhirtypes';
import { expect, it } from 'vitest';
import type { ContractContext } from './fixtures.ts';
import { expectOutcome } from './fixtures.ts';

/** Read, create and delete: ids, versions, 404 and 410. */
export function readCreateDeleteTests(ctx: ContractContext): void {
  const { unique, patient, create } = ctx;

  it('create assigns an id, versionId 1 and lastUpdated, and keeps the content', async () => {
    const before = Date.now();
    const { resource, created } = await ctx.store.create(patient({ gender: 'female', birthDate: '1970-01-02' }));
    expect(created).toBe(true);
    expect(resource.id).toMatch(/^[A-Za-z0-9\-.]{1,64}$/);
    expect(resource.meta?.versionId).toBe('1');
    const lastUpdated = Date.parse(resource.meta?.lastUpdated ?? '');
    expect(lastUpdated).toBeGreaterThanOrEqual(before - 5_000); // allows a server clock a little behind
    expect(lastUpdated).toBeLessThanOrEqual(Date.now() + 5_000);
    expect(resource).toMatchObject({ gender: 'female', birthDate: '1970-01-02' });
  });

  it('read returns the stored resource', async () => {
    const stored = await create(patient({ gender: 'male' }));
    const read = await ctx.store.read<Patient>('Patient', stored.id);
    expect(read.id).toBe(stored.id);
    expect(read.meta?.versionId).toBe('1');
    expect(read.meta?.lastUpdated).toBe(stored.meta?.lastUpdated);
    expect(read.identifier).toEqual(stored.identifier);
  });

  it('read of an unknown id is 404', async () => {
    await expectOutcome(ctx.store.read('Patient', unique('missing')), 404);
  });

  it('read after delete is 410, and history still has the versions before it', async () => {
    const stored = await create(patient());
    await ctx.store.delete('Patient', stored.id);
    await expectOutcome(ctx.store.read('Patient', stored.id), 410);
    const versions = await ctx.store.history<Patient>('Patient', stored.id);
    expect(versions.map((v) => v.meta?.versionId)).toEqual(['1']);
  });

  it('deleting what does not exist, or was deleted already, is not an error', async () => {
    await expect(ctx.store.delete('Patient', unique('never'))).resolves.toBeUndefined();
    const stored = await create(patient());
    await ctx.store.delete('Patient', stored.id);
    await expect(ctx.store.delete('Patient', stored.id)).resolves.toBeUndefined();
  });

  it('history of an unknown resource is 404', async () => {
    await expectOutcome(ctx.store.history('Patient', unique('missing')), 404);
  });
}

/** Updates without a precondition: update as create, and an update that changes nothing. */
export function updateTests(ctx: ContractContext): void {
  const { unique, task, create } = ctx;

  it('update of an id that does not exist creates it with that id (update as create)', async () => {
    const id = unique('chosen');
    const stored = await ctx.store.update<Task>({ ...task(), id });
    expect(stored.id).toBe(id);
    expect(stored.meta?.versionId).toBe('1');
    expect((await ctx.store.read<Task>('Task', id)).status).toBe('requested');
  });

  it('an update that changes nothing makes no new version', async () => {
    const v1 = await create(task({ description: 'unchanged' }));
    const again = await ctx.store.update(v1);
    expect(again.meta?.versionId).toBe('1');
    const history = await ctx.store.history<Task>('Task', v1.id);
    expect(history.map((v) => v.meta?.versionId)).toEqual(['1']);
    // ...and a real change after it still versions normally
    const v2 = await ctx.store.update({ ...v1, description: 'changed' }, { ifMatch: '1' });
    expect(v2.meta?.versionId).toBe('2');
  });
}
