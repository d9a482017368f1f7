import type { BreachKind, ReferralPathway, TurnaroundStage } from '@imaging/fhir';
import type { TurnaroundSettings } from './ports.ts';

/**
 * The turnaround rules (DOMAIN.md §4, requirements 16, 18 and 19), as pure functions: when each stage of a
 * case is due, by pathway, and what a look at a stage finds. The safety job applies them
 * (breaches.ts); nothing here reads a store or a clock.
 *
 * | stage                   | due time                                   | breach         | pathways                     |
 * | ----------------------- | ------------------------------------------ | -------------- | ---------------------------- |
 * | test (from the request) | CES_IMAGING_WITHIN (4 h)                   | ces-imaging    | ces                          |
 * | test (from the request) | DM01_WAIT (6 weeks)                        | dm01           | all                          |
 * | report (from the exam)  | REPORT_DUE of the pathway (ours)           | report-overdue | ces, suspected-cancer, urgent |
 * | report (from the exam)  | REPORTING_TAT (28 days)                    | reporting-tat  | all                          |
 */

export interface Deadline {
  kind: BreachKind;
  dueAt: Date;
}

/** The due times of a stage of a case on this pathway, from when the stage began (the request, or the exam). */
export function deadlinesFor(
  stage: TurnaroundStage,
  pathway: ReferralPathway,
  from: Date,
  settings: TurnaroundSettings,
): Deadline[] {
  const after = (ms: number) => new Date(from.getTime() + ms);
  if (stage === 'test') {
    return [
      ...(pathway === 'ces' ? [{ kind: 'ces-imaging' as const, dueAt: after(settings.cesImagingWithinMs) }] : []),
      { kind: 'dm01', dueAt: after(settings.dm01WaitMs) },
    ];
  }
  return [
    ...(pathway === 'routine'
      ? []
      : [{ kind: 'report-overdue' as const, dueAt: after(settings.reportDueMs[pathway]) }]),
    { kind: 'reporting-tat', dueAt: after(settings.reportingTatMs) },
  ];
}

/** How far a stage has got, as the store shows it. */
export interface StageProgress {
  /** When the stage was done: the (earliest) test, or the (earliest) issued report. */
  doneAt?: Date;
  /** When the order was closed without it (cancelled, rejected, failed, entered in error). */
  closedAt?: Date;
}

/** How a breach ended: the overdue test or report was done, or the order was closed. */
export type BreachResolution = { at: Date; how: 'done' | 'order-closed' };

/**
 * Whether a breach due at `dueAt` is over, and when. A breach cannot end before it began, so a time
 * claimed earlier than the due time (a backdated report) ends it at the due time.
 */
export function resolutionOf(progress: StageProgress, dueAt: Date): BreachResolution | undefined {
  const end = progress.doneAt ?? progress.closedAt;
  if (!end) return undefined;
  return { at: new Date(Math.max(end.getTime(), dueAt.getTime())), how: progress.doneAt ? 'done' : 'order-closed' };
}

/** A due time missed: a breach to raise, already over when the test or report came late. */
export interface MissedDeadline {
  deadline: Deadline;
  resolution?: BreachResolution;
}

export interface StageAssessment {
  /** The due times missed that have no breach yet. */
  missed: MissedDeadline[];
  /** The earliest due time still to come, unmet: when to look again; none when nothing is left to watch. */
  nextCheckAt?: Date;
}

/**
 * A look at a stage at `now`: each due time not yet raised as a breach is met (done by then), void (the
 * order closed before it, undone), missed (due, and not done by then: a breach, already over if the thing
 * was done late or the order closed since), or still to come. Times after `now` are taken as `now`: a test
 * cannot have been done after the look that saw it.
 */
export function assessStage(
  deadlines: readonly Deadline[],
  raised: ReadonlySet<BreachKind>,
  progress: StageProgress,
  now: Date,
): StageAssessment {
  const clamp = (d: Date | undefined) => (d && d.getTime() > now.getTime() ? now : d);
  const doneAt = clamp(progress.doneAt);
  const closedAt = doneAt ? undefined : clamp(progress.closedAt);
  const missed: MissedDeadline[] = [];
  const pending: number[] = [];
  for (const deadline of deadlines) {
    if (raised.has(deadline.kind)) continue;
    const due = deadline.dueAt.getTime();
    if (doneAt && doneAt.getTime() <= due) continue;
    if (closedAt && closedAt.getTime() <= due) continue;
    if (due > now.getTime()) {
      pending.push(due);
      continue;
    }
    const resolution = resolutionOf(
      { ...(doneAt ? { doneAt } : {}), ...(closedAt ? { closedAt } : {}) },
      deadline.dueAt,
    );
    missed.push({ deadline, ...(resolution ? { resolution } : {}) });
  }
  return { missed, ...(pending.length ? { nextCheckAt: new Date(Math.min(...pending)) } : {}) };
}
