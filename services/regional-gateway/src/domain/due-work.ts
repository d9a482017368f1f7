import type { Task } from '@medplum/fhirtypes';
import { isOutcomeError } from '@imaging/fhir';
import type { WithId } from '@imaging/fhir';
import type { GatewayDeps } from './ports.ts';

/**
 * How the safety job works through what is due: it reads the Tasks whose next check has come, a page at
 * a time through the next-check index (never a scan of history), and checks each. A 412 means another
 * replica did that one first: it is counted as raced and left. Any other failure is logged and counted,
 * and that Task is tried again next pass, so one bad Task never holds up the rest.
 */

export interface DueWork {
  /** Already done by another replica (412). */
  raced: number;
  /** Not done this pass: tried again next pass. */
  failed: number;
}

/** How many pages of due Tasks one pass works through before leaving the rest to the next. */
const MAX_PAGES_PER_PASS = 10;

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
  const failedIds = new Set<string>();
  for (let page = 0; page < MAX_PAGES_PER_PASS; page++) {
    const due = await deps.store.search<Task>('Task', options.query(deps.clock.now()));
    const fresh = due.resources.filter((t) => !failedIds.has(t.id));
    for (const task of fresh) {
      try {
        await options.check(task);
      } catch (err) {
        if (isOutcomeError(err) && err.status === 412) {
          work.raced++;
          continue;
        }
        failedIds.add(task.id);
        work.failed++;
        deps.logger.error(`${options.what} failed: tried again next pass`, {
          task: `Task/${task.id}`,
          error: err instanceof Error ? err.message : String(err),
        });
      }
    }
    // A full page may have more behind it; a page of nothing new (only failures) ends the pass.
    if (due.resources.length < options.batchSize || fresh.length === 0) break;
  }
  return work;
}
