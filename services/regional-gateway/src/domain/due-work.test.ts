import type { Task } from '@medplum/fhirtypes';
import { multipleMatches, OutcomeError, preconditionFailed } from '@imaging/fhir';
import type { WithId } from '@imaging/fhir';
import { describe, expect, it } from 'vitest';
import { testRegions } from '../testing/regions.ts';
import { isVersionConflict, workThroughDue } from './due-work.ts';
import type { GatewayDeps } from './ports.ts';
import type { NewWatch } from './turnaround-task.ts';
import { dueTurnaroundQuery, watchIdentifier, watchTask } from './turnaround-task.ts';

const MINUTE = 60_000;

/** A region whose store holds `count` watches, due `minutesAgo` minutes ago: their Task ids, in that order. */
async function dueWatches(deps: GatewayDeps, prefix: string, count: number, minutesAgo: number): Promise<string[]> {
  const now = deps.clock.now();
  const ids: string[] = [];
  for (let i = 0; i < count; i++) {
    const watch: NewWatch = {
      identifier: watchIdentifier(`N81001-${prefix}${i}`, 'test'),
      correlationId: `case-${prefix}${i}`,
      stage: 'test',
      pathway: 'routine',
      order: { reference: `ServiceRequest/${prefix}${i}` },
      focus: { reference: `ServiceRequest/${prefix}${i}` },
      performer: 'RM1',
      from: new Date(now.getTime() - 60 * MINUTE),
      deadlines: [{ kind: 'dm01', dueAt: new Date(now.getTime() - minutesAgo * MINUTE) }],
      raised: [],
      state: 'watching',
      nextCheckAt: new Date(now.getTime() - minutesAgo * MINUTE),
      createdAt: now,
      lastModified: now,
    };
    ids.push((await deps.store.create(watchTask(watch))).resource.id);
  }
  return ids;
}

/** Works through what is due, a page of `batchSize` at a time; a checked Task is moved on (here: removed). */
function pass(deps: GatewayDeps, batchSize: number, fail: (task: WithId<Task>) => Error | undefined) {
  const checked: string[] = [];
  const work = workThroughDue(deps, {
    query: (now) => dueTurnaroundQuery(now, batchSize),
    batchSize,
    check: async (task) => {
      checked.push(task.id);
      const error = fail(task);
      if (error) throw error;
      await deps.store.delete('Task', task.id);
    },
    what: 'turnaround check',
  });
  return { checked, work };
}

describe('a pass of the safety job', () => {
  it('reaches every due Task past pages of Tasks that fail every time, checking each once, and ends', async () => {
    const { midlands } = testRegions();
    // The failing ones are the most overdue: they come first in the due list, three pages of them.
    const failing = await dueWatches(midlands, 'F', 7, 30);
    const others = await dueWatches(midlands, 'G', 3, 10);
    const broken = new Set(failing);
    const { checked, work } = pass(midlands, 2, (t) =>
      broken.has(t.id) ? new Error('the directory is down') : undefined,
    );
    expect(await work).toEqual({ raced: 0, failed: 7 });
    expect(checked.filter((id) => others.includes(id)).sort()).toEqual([...others].sort());
    expect(checked).toHaveLength(10); // each once
    // Each failure is logged with its Task, to be tried again next pass.
    const errors = (midlands.logger as unknown as { entries: { level: string; task?: string }[] }).entries.filter(
      (e) => e.level === 'error',
    );
    expect(errors.map((e) => e.task).sort()).toEqual(failing.map((id) => `Task/${id}`).sort());
    // Next pass, the failing ones are tried again, and nothing else is left.
    const again = pass(midlands, 2, (t) => (broken.has(t.id) ? new Error('the directory is down') : undefined));
    expect(await again.work).toEqual({ raced: 0, failed: 7 });
    expect(again.checked.sort()).toEqual([...failing].sort());
  });

  it('counts as raced only a version conflict; any other 412 (several matches) is logged as a failure', async () => {
    const { midlands } = testRegions();
    const [conflicted, ambiguous] = await dueWatches(midlands, 'X', 2, 5);
    const { work } = pass(midlands, 10, (t) =>
      t.id === conflicted
        ? new OutcomeError(preconditionFailed(`Task/${t.id} is at version 2, not 1`))
        : t.id === ambiguous
          ? new OutcomeError(multipleMatches('More than one Task matches focus=ServiceRequest/X1'))
          : undefined,
    );
    expect(await work).toEqual({ raced: 1, failed: 1 });
    const errors = (midlands.logger as unknown as { entries: { level: string; task?: string; error?: string }[] })
      .entries;
    expect(errors.filter((e) => e.level === 'error')).toEqual([
      expect.objectContaining({
        task: `Task/${ambiguous}`,
        error: expect.stringContaining('More than one Task matches'),
      }),
    ]);
  });

  it('tells a version conflict from the other 412s', () => {
    expect(isVersionConflict(new OutcomeError(preconditionFailed('Task/1 is at version 2, not 1')))).toBe(true);
    expect(isVersionConflict(new OutcomeError(multipleMatches('More than one Task matches')))).toBe(false);
    expect(isVersionConflict(new Error('412'))).toBe(false);
  });
});
