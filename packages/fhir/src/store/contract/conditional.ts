import type { Patient, Task } from '@medplum/fhirtypes';
import { expect, it } from 'vitest';
import type { ContractContext } from './fixtures.ts';
import { CONTRACT_SYSTEM, expectOutcome, ids } from './fixtures.ts';

/** Versioned updates (If-Match): the current version, the weak ETag form, stale, missing and deleted. */
export function ifMatchTests(ctx: ContractContext): void {
  const { named, has, unique, task, create } = ctx;

  it('update with the current ifMatch makes version 2 with a later lastUpdated', async () => {
    const v1 = await create(task());
    const v2 = await ctx.store.update({ ...v1, status: 'accepted' }, { ifMatch: v1.meta?.versionId });
    expect(v2.id).toBe(v1.id);
    expect(v2.status).toBe('accepted');
    expect(v2.meta?.versionId).toBe('2');
    expect(Date.parse(v2.meta?.lastUpdated ?? '')).toBeGreaterThanOrEqual(Date.parse(v1.meta?.lastUpdated ?? ''));
    expect((await ctx.store.read<Task>('Task', v1.id)).status).toBe('accepted');
  });

  it('ifMatch also takes the weak ETag form W/"n"', async () => {
    const v1 = await create(task());
    const v2 = await ctx.store.update({ ...v1, status: 'accepted' }, { ifMatch: 'W/"1"' });
    expect(v2.meta?.versionId).toBe('2');
  });

  it('update with a stale ifMatch is 412 and changes nothing', async () => {
    const v1 = await create(task());
    await ctx.store.update({ ...v1, status: 'accepted' }, { ifMatch: '1' });
    await expectOutcome(ctx.store.update({ ...v1, status: 'rejected' }, { ifMatch: '1' }), 412);
    const current = await ctx.store.read<Task>('Task', v1.id);
    expect(current.status).toBe('accepted');
    expect(current.meta?.versionId).toBe('2');
  });

  it(
    named(
      'update with ifMatch of an id that has never existed is 412 and creates nothing',
      'if-match-on-missing-creates',
    ),
    async () => {
      const id = unique('absent');
      if (has('if-match-on-missing-creates')) {
        // Pins the deviation as the server shows it: if this starts failing, the server changed and the entry can go.
        const made = await ctx.store.update<Task>({ ...task(), id }, { ifMatch: '1' });
        expect(made.meta?.versionId).toBe('1');
        await ctx.store.delete('Task', id);
        return;
      }
      await expectOutcome(ctx.store.update<Task>({ ...task(), id }, { ifMatch: '1' }), 412);
      await expectOutcome(ctx.store.read('Task', id), 404);
    },
  );

  it('update with ifMatch of a deleted resource is 412 and leaves it deleted', async () => {
    const v1 = await create(task());
    await ctx.store.delete('Task', v1.id);
    await expectOutcome(ctx.store.update({ ...v1, status: 'accepted' }, { ifMatch: '1' }), 412);
    await expectOutcome(ctx.store.read('Task', v1.id), 410);
  });
}

/** Conditional create (If-None-Exist): no match, one match, several matches. */
export function conditionalCreateTests(ctx: ContractContext): void {
  const { unique, identifier, patient, create } = ctx;

  it('no match: creates', async () => {
    const value = unique('cond');
    const result = await ctx.store.create(patient({ identifier: [identifier(value)] }), {
      ifNoneExist: `identifier=${CONTRACT_SYSTEM}|${value}`,
    });
    expect(result.created).toBe(true);
    expect(result.resource.meta?.versionId).toBe('1');
  });

  it('one match: returns it, created false, and writes nothing', async () => {
    const value = unique('cond');
    const first = await create(patient({ identifier: [identifier(value)], gender: 'female' }));
    const again = await ctx.store.create(patient({ identifier: [identifier(value)], gender: 'male' }), {
      ifNoneExist: `identifier=${CONTRACT_SYSTEM}|${value}`,
    });
    expect(again.created).toBe(false);
    expect(again.resource.id).toBe(first.id);
    expect(again.resource.gender).toBe('female');
    const matches = await ctx.store.search<Patient>('Patient', { identifier: `${CONTRACT_SYSTEM}|${value}` });
    expect(ids(matches.resources)).toEqual([first.id]);
    expect((await ctx.store.read<Patient>('Patient', first.id)).meta?.versionId).toBe('1');
  });

  it('several matches: 412, and writes nothing', async () => {
    const value = unique('cond');
    const a = await create(patient({ identifier: [identifier(value)] }));
    const b = await create(patient({ identifier: [identifier(value)] }));
    await expectOutcome(
      ctx.store.create(patient({ identifier: [identifier(value)] }), {
        ifNoneExist: `identifier=${CONTRACT_SYSTEM}|${value}`,
      }),
      412,
    );
    const matches = await ctx.store.search<Patient>('Patient', { identifier: `${CONTRACT_SYSTEM}|${value}` });
    expect(ids(matches.resources)).toEqual(ids([a, b]));
  });
}
