import type { Task } from '@medplum/fhirtypes';
import { expect, it } from 'vitest';
import { OutcomeError } from '../../outcomes.ts';
import type { WithId } from '../port.ts';
import type { ContractContext } from './fixtures.ts';

/** Version history, and versioned updates racing each other. */
export function historyAndConcurrencyTests(ctx: ContractContext): void {
  const { task, create } = ctx;

  it('history lists every version, newest first', async () => {
    const v1 = await create(task({ description: 'one' }));
    const v2 = await ctx.store.update({ ...v1, description: 'two' }, { ifMatch: '1' });
    await ctx.store.update({ ...v2, description: 'three' }, { ifMatch: '2' });
    const versions = await ctx.store.history<Task>('Task', v1.id);
    expect(versions.map((v) => v.meta?.versionId)).toEqual(['3', '2', '1']);
    expect(versions.map((v) => v.description)).toEqual(['three', 'two', 'one']);
    expect(versions.every((v) => v.id === v1.id && v.resourceType === 'Task')).toBe(true);
  });

  it('two concurrent updates with the same ifMatch: exactly one wins, the other gets 412', async () => {
    const v1 = await create(task());
    const results = await Promise.allSettled([
      ctx.store.update<Task>({ ...v1, status: 'accepted', description: 'first' }, { ifMatch: '1' }),
      ctx.store.update<Task>({ ...v1, status: 'rejected', description: 'second' }, { ifMatch: '1' }),
    ]);
    const won = results.filter((r): r is PromiseFulfilledResult<WithId<Task>> => r.status === 'fulfilled');
    const lost = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    expect(won).toHaveLength(1);
    expect(lost).toHaveLength(1);
    expect(lost[0]?.reason).toBeInstanceOf(OutcomeError);
    expect((lost[0]?.reason as OutcomeError | undefined)?.status).toBe(412);
    const current = await ctx.store.read<Task>('Task', v1.id);
    expect(current.meta?.versionId).toBe('2');
    expect(current.description).toBe(won[0]?.value.description);
  });
}
