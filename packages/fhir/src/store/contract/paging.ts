import type { Task } from '@medplum/fhirtypes';
import { expect, it } from 'vitest';
import type { ContractContext } from './fixtures.ts';
import { ids } from './fixtures.ts';
import type { SearchWorld } from './search.ts';

/** Paging through the four tasks of the search world: _count, nextPage, _total and _sort. */
export function pagingTests(ctx: ContractContext, world: SearchWorld): void {
  const { named, has } = ctx;

  it(named('_count pages, and nextPage follows them to the end', 'search-total-optional'), async () => {
    const first = await ctx.store.search<Task>('Task', { identifier: world.group.query, _count: '3' });
    expect(first.resources).toHaveLength(3);
    if (first.total !== undefined || !has('search-total-optional')) expect(first.total).toBe(4);
    expect(first.next).toBeDefined();
    const second = await ctx.store.nextPage<Task>(first.next as string);
    expect(second.resources).toHaveLength(1);
    expect(second.next).toBeUndefined();
    expect(ids([...first.resources, ...second.resources])).toEqual(ids([world.t1, world.t2, world.t3, world.t4]));
  });

  it('_total=none still pages through every match', async () => {
    let page = await ctx.store.search<Task>('Task', { identifier: world.group.query, _count: '2', _total: 'none' });
    const seen = [...page.resources];
    while (page.next) {
      page = await ctx.store.nextPage<Task>(page.next);
      seen.push(...page.resources);
      expect(seen.length).toBeLessThanOrEqual(4);
    }
    expect(ids(seen)).toEqual(ids([world.t1, world.t2, world.t3, world.t4]));
  });

  it('_sort holds from one page to the next', async () => {
    const { t1, t2, t3, t4 } = world;
    let page = await ctx.store.search<Task>('Task', {
      identifier: world.group.query,
      _sort: '-authored-on',
      _count: '3',
      _total: 'none',
    });
    const seen = page.resources.map((t) => t.id);
    while (page.next) {
      page = await ctx.store.nextPage<Task>(page.next);
      seen.push(...page.resources.map((t) => t.id));
      expect(seen.length).toBeLessThanOrEqual(4);
    }
    expect(seen).toEqual([t3.id, t2.id, t4.id, t1.id]);
  });

  it('_count=1 pages one at a time through every match', async () => {
    let page = await ctx.store.search<Task>('Task', { identifier: world.group.query, _count: '1' });
    const seen = [...page.resources];
    while (page.next) {
      page = await ctx.store.nextPage<Task>(page.next);
      seen.push(...page.resources);
      expect(seen.length).toBeLessThanOrEqual(4);
    }
    expect(ids(seen)).toEqual(ids([world.t1, world.t2, world.t3, world.t4]));
  });
}
