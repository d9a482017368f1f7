import type { BreachKind } from '@imaging/fhir';
import { describe, expect, it } from 'vitest';
import { DEFAULT_TURNAROUND } from './ports.ts';
import type { Deadline, StageProgress } from './turnaround.ts';
import { assessStage, deadlinesFor, resolutionOf } from './turnaround.ts';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const T0 = new Date('2026-11-23T09:00:00.000Z');
const at = (ms: number) => new Date(T0.getTime() + ms);
const due = (deadlines: Deadline[]) => deadlines.map((d) => [d.kind, d.dueAt.getTime() - T0.getTime()]);

describe('due times by pathway', () => {
  it('gives every test DM01 at 6 weeks, and a suspected-CES MRI 4 hours', () => {
    for (const pathway of ['routine', 'urgent', 'suspected-cancer'] as const)
      expect(due(deadlinesFor('test', pathway, T0, DEFAULT_TURNAROUND)), pathway).toEqual([['dm01', 42 * DAY]]);
    expect(due(deadlinesFor('test', 'ces', T0, DEFAULT_TURNAROUND))).toEqual([
      ['ces-imaging', 4 * HOUR],
      ['dm01', 42 * DAY],
    ]);
  });

  it('gives every report the 28-day maximum, and urgent, suspected-cancer and CES reports their own due time', () => {
    expect(due(deadlinesFor('report', 'routine', T0, DEFAULT_TURNAROUND))).toEqual([['reporting-tat', 28 * DAY]]);
    expect(due(deadlinesFor('report', 'urgent', T0, DEFAULT_TURNAROUND))).toEqual([
      ['report-overdue', 2 * DAY],
      ['reporting-tat', 28 * DAY],
    ]);
    expect(due(deadlinesFor('report', 'suspected-cancer', T0, DEFAULT_TURNAROUND))).toEqual([
      ['report-overdue', 3 * DAY],
      ['reporting-tat', 28 * DAY],
    ]);
    expect(due(deadlinesFor('report', 'ces', T0, DEFAULT_TURNAROUND))).toEqual([
      ['report-overdue', HOUR],
      ['reporting-tat', 28 * DAY],
    ]);
  });

  it('takes every time from the settings', () => {
    const settings = {
      ...DEFAULT_TURNAROUND,
      dm01WaitMs: 10 * DAY,
      cesImagingWithinMs: 2 * HOUR,
      reportingTatMs: 14 * DAY,
      reportDueMs: { ...DEFAULT_TURNAROUND.reportDueMs, urgent: 6 * HOUR },
    };
    expect(due(deadlinesFor('test', 'ces', T0, settings))).toEqual([
      ['ces-imaging', 2 * HOUR],
      ['dm01', 10 * DAY],
    ]);
    expect(due(deadlinesFor('report', 'urgent', T0, settings))).toEqual([
      ['report-overdue', 6 * HOUR],
      ['reporting-tat', 14 * DAY],
    ]);
  });
});

describe('a look at a stage', () => {
  const ces = deadlinesFor('test', 'ces', T0, DEFAULT_TURNAROUND);
  const none = new Set<BreachKind>();
  const look = (progress: StageProgress, now: Date, raised = none) => assessStage(ces, raised, progress, now);

  it('before anything is due, waits for the first due time', () => {
    expect(look({}, at(HOUR))).toEqual({ missed: [], nextCheckAt: at(4 * HOUR) });
  });

  it('when a due time passes undone, finds it missed and waits for the next', () => {
    expect(look({}, at(4 * HOUR))).toEqual({
      missed: [{ deadline: { kind: 'ces-imaging', dueAt: at(4 * HOUR) } }],
      nextCheckAt: at(42 * DAY),
    });
  });

  it('passes a due time met in time, to the millisecond, and has nothing left to watch once all are met', () => {
    expect(look({ doneAt: at(4 * HOUR) }, at(4 * HOUR))).toEqual({ missed: [] });
    expect(look({ doneAt: at(2 * HOUR) }, at(5 * DAY))).toEqual({ missed: [] });
  });

  it('finds a due time missed and already over when the test came late (the job was down)', () => {
    expect(look({ doneAt: at(5 * HOUR) }, at(6 * HOUR))).toEqual({
      missed: [
        { deadline: { kind: 'ces-imaging', dueAt: at(4 * HOUR) }, resolution: { at: at(5 * HOUR), how: 'done' } },
      ],
    });
  });

  it('voids the due times of an order closed before them, and ends a breach when it is closed after', () => {
    expect(look({ closedAt: at(HOUR) }, at(5 * HOUR))).toEqual({ missed: [] });
    expect(look({ closedAt: at(5 * HOUR) }, at(6 * HOUR))).toEqual({
      missed: [
        {
          deadline: { kind: 'ces-imaging', dueAt: at(4 * HOUR) },
          resolution: { at: at(5 * HOUR), how: 'order-closed' },
        },
      ],
    });
  });

  it('never raises a due time twice', () => {
    expect(look({}, at(43 * DAY), new Set<BreachKind>(['ces-imaging']))).toEqual({
      missed: [{ deadline: { kind: 'dm01', dueAt: at(42 * DAY) } }],
    });
    expect(look({}, at(43 * DAY), new Set<BreachKind>(['ces-imaging', 'dm01']))).toEqual({ missed: [] });
  });

  it('takes a time claimed after the look as the look itself: done now, in time for what is still to come', () => {
    expect(look({ doneAt: at(10 * DAY) }, at(HOUR))).toEqual({ missed: [] });
  });
});

describe('the end of a breach', () => {
  it('is when the thing was done or the order closed, never before it was due', () => {
    const dueAt = at(4 * HOUR);
    expect(resolutionOf({}, dueAt)).toBeUndefined();
    expect(resolutionOf({ doneAt: at(5 * HOUR) }, dueAt)).toEqual({ at: at(5 * HOUR), how: 'done' });
    expect(resolutionOf({ closedAt: at(6 * HOUR) }, dueAt)).toEqual({ at: at(6 * HOUR), how: 'order-closed' });
    // A report claimed to be issued before the breach was raised ends it at its due time.
    expect(resolutionOf({ doneAt: at(HOUR) }, dueAt)).toEqual({ at: dueAt, how: 'done' });
  });
});
