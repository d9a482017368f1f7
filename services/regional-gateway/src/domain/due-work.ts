import type { Task } from '@medplum/fhirtypes';
import { isOutcomeError } from '@imaging/fhir';
import type { WithId } from '@imaging/fhir';
import type { GatewayDeps } from './ports.ts';

/**
 * How the safety job works through what is due: it reads the Tasks whose next check had come when the
 * pass started, a page at a time through the next-check index (never a scan of history), most overdue
 * first, and checks each once. A version conflict (412 on If-Match) means another replica did that one
 * first: it is counted as raced and left. Any other failure, a 412 that is not a version conflict (several
 * matches for a search that expects one) included, is logged with the Task and counted, and that Task is
 * tried again next pass. A Task that is still due after its check (it failed, or nothing moved it on)
 * stays where it was in the due list, so the next page is read past it (`_offset`): however many Tasks
 * fail every time, one pass still reaches every other Task that is due.
 */

export interface DueWork {
  /** Already done by another replica (a version conflict, 412 on If-Match). */
  raced: number;
  /** Not done this pass: tried again next pass. */
  failed: number;
}

/**
 * How many pages of due Tasks one pass checks before leaving the rest to the next. Pages of Tasks that
 * failed do not count: they are read past, and a pass ends at the end of what was due when it started.
 */
export const MAX_PAGES_PER_PASS = 10;

/** A real version conflict: a 412 to a versioned write (If-Match), not a 412 for several matches. */
export function isVersionConflict(err: unknown): boolean {
  return (
    isOutcomeError(err) &&
    err.status === 412 &&
    (err.outcome.issue ?? []).length > 0 &&
    (err.outcome.issue ?? []).every((i) => i.code === 'conflict')
  );
}

export async function workThroughDue(
  deps: GatewayDeps,
  options: {
    /** The search for the due Tasks at `now`: through the next-check index. */
    query: (now: Date) => Record<string, string>;
    batchSize: number;
    check: (task: WithId<Task>) => Promise<void>;
    /** What a check is, for the log. */
    what: string;
  },
): Promise<DueWork> {
  const work: DueWork = { raced: 0, failed: 0 };
  // What was due when the pass started: a check never makes a Task due before then, so the list only
  // shrinks as the pass works, and the pass ends.
  const now = deps.clock.now();
  const seen = new Set<string>();
  // How many of the due list's first entries are Tasks this pass already looked at and left due.
  let offset = 0;
  for (let read = 0; read < MAX_PAGES_PER_PASS + Math.ceil(work.failed / options.batchSize); read++) {
    const due = await deps.store.search<Task>('Task', {
      ...options.query(now),
      _sort: 'next-check',
      ...(offset > 0 ? { _offset: String(offset) } : {}),
    });
    let movedOn = 0;
    for (const task of due.resources) {
      if (seen.has(task.id)) continue;
      seen.add(task.id);
      try {
        await options.check(task);
        movedOn++;
      } catch (err) {
        if (isVersionConflict(err)) {
          work.raced++;
          movedOn++;
          continue;
        }
        work.failed++;
        deps.logger.error(`${options.what} failed: tried again next pass`, {
          task: `Task/${task.id}`,
          error: err instanceof Error ? err.message : String(err),
        });
      }
    }
    // A short page is the end of the due list. Otherwise what this page left due is still ahead of the
    // next page (the list is sorted, and nothing new becomes due before `now`), so it is read past.
    if (due.resources.length < options.batchSize) break;
    offset += due.resources.length - movedOn;
  }
  return work;
}
