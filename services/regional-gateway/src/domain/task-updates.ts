import type { Task } from '@medplum/fhirtypes';
import { assertTransition, canTransition, progressRank } from '@imaging/fhir';
import type { WithId } from '@imaging/fhir';

/** What another region may change on a shared Task: its progress, never what was ordered. */
const PROGRESS_FIELDS = ['status', 'businessStatus', 'statusReason', 'output'] as const;

/**
 * Applies a status change made in the other region to the local copy. Returns the updated Task, or
 * undefined when there is nothing to do: the same state again (a replay), or a state the local copy
 * has already moved past (a stale update). A change the lifecycle forbids is a 422.
 */
export function applyTaskUpdate(local: WithId<Task>, incoming: Task, now: Date): WithId<Task> | undefined {
  if (incoming.status === local.status) {
    return sameProgress(local, incoming) ? undefined : withProgress(local, incoming, now);
  }
  if (canTransition(local.status, incoming.status)) return withProgress(local, incoming, now);
  if (progressRank(incoming.status) < progressRank(local.status)) return undefined;
  assertTransition(local.status, incoming.status);
  return undefined;
}

function withProgress(local: WithId<Task>, incoming: Task, now: Date): WithId<Task> {
  const updated: Record<string, unknown> = { ...local, lastModified: now.toISOString() };
  for (const field of PROGRESS_FIELDS) {
    if (incoming[field] === undefined) delete updated[field];
    else updated[field] = incoming[field];
  }
  return updated as unknown as WithId<Task>;
}

function sameProgress(a: Task, b: Task): boolean {
  return PROGRESS_FIELDS.every((f) => JSON.stringify(a[f] ?? null) === JSON.stringify(b[f] ?? null));
}
