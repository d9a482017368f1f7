import { describe, expect, it } from 'vitest';
import { safetySummary } from './safety.ts';

const now = new Date('2026-11-23T12:00:00Z');

describe('safety at a glance', () => {
  it('nothing open: nothing shown, nothing made up', () => {
    expect(safetySummary(new Map(), now)).toEqual({ alerts: [], byCategory: [], overdue: 0 });
    expect(safetySummary(new Map([['north', []]]), now).alerts).toEqual([]);
  });

  it('the open alerts of every region, most urgent category first, then soonest due; overdue ones counted', () => {
    const summary = safetySummary(
      new Map([
        [
          'north',
          [
            { task: 'a', status: 'requested', category: 'CANCER', dueAt: '2026-11-30T09:00:00Z', since: 'x' },
            { task: 'b', status: 'requested', category: 'CRITICAL', dueAt: '2026-11-23T11:00:00Z', since: 'x' },
          ],
        ],
        [
          'south',
          [
            { task: 'c', status: 'in-progress', category: 'CANCER', dueAt: '2026-11-24T09:00:00Z', since: 'x' },
            { task: 'd', status: 'requested', since: 'x' },
          ],
        ],
      ]),
      now,
    );
    expect(summary.alerts.map((a) => [a.task, a.region, a.overdue])).toEqual([
      ['b', 'north', true],
      ['c', 'south', false],
      ['a', 'north', false],
      ['d', 'south', false],
    ]);
    expect(summary.byCategory).toEqual([
      { category: 'CRITICAL', count: 1 },
      { category: 'CANCER', count: 2 },
      { category: 'unknown', count: 1 },
    ]);
    expect(summary.overdue).toBe(1);
  });
});
