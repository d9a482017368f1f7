import type { Task } from '@medplum/fhirtypes';
import { classifyStatusUpdate, isTaskStatus, OutcomeError, transitionRefused, unprocessable } from '@imaging/fhir';
import type { WithId } from '@imaging/fhir';
import type { SenderRole } from '@imaging/messaging';
import { messageRefusal, REQUESTER_CANCELLABLE } from '@imaging/messaging';

/**
 * What another region may change on a shared Task: the performer's region its progress, the
 * requester's region only its status and why (a cancel); never what was ordered.
 */
const PROGRESS_FIELDS = ['status', 'businessStatus', 'statusReason', 'output'] as const;
type ProgressField = (typeof PROGRESS_FIELDS)[number];
const FIELDS_FROM: Readonly<Record<SenderRole, readonly ProgressField[]>> = {
  performer: PROGRESS_FIELDS,
  requester: ['status', 'statusReason'],
};

/**
 * Applies a status change made in the other region, by the party `from` (as `checkMessageAuthority`
 * found it), to the local copy, as the lifecycle's `classifyStatusUpdate` rules for updates that arrive
 * late, twice or out of order. Returns the updated
 * Task, or undefined when there is nothing to do: the same progress again (a replay), or a state the
 * local copy has already moved past (a stale update). An update that skips ahead (completed before
 * in-progress) is applied; one the lifecycle can never reach is a 422. The requester's region may only
 * cancel, and only from REQUESTER_CANCELLABLE (a refusal, as the authority rule's).
 */
export function applyTaskUpdate(
  local: WithId<Task>,
  incoming: Task,
  now: Date,
  from: SenderRole,
): WithId<Task> | undefined {
  const fields = FIELDS_FROM[from];
  // Not validated before it gets here: an unknown status must be a 422, not a failed lookup.
  if (!isTaskStatus(incoming.status)) {
    throw new OutcomeError(
      unprocessable(`'${String(incoming.status)}' is not a Task status`, 'Task.status', 'code-invalid'),
    );
  }
  // The requester's region cancels only a Task not yet started, by this copy's state (as its own referrer
  // may: tasks.ts); the authority check refused it already, and this is the rule where the change is made.
  if (from === 'requester' && incoming.status !== local.status && !REQUESTER_CANCELLABLE.has(local.status)) {
    throw new OutcomeError(
      messageRefusal([
        {
          text: `The requester may cancel only a Task that has not started (it is ${local.status})`,
          expression: 'Task.status',
        },
      ]),
    );
  }
  switch (classifyStatusUpdate(local.status, incoming.status)) {
    case 'same':
      return sameProgress(local, incoming, fields) ? undefined : withProgress(local, incoming, now, fields);
    case 'advance':
      return withProgress(local, incoming, now, fields);
    case 'stale':
      return undefined;
    case 'illegal':
      throw transitionRefused(local.status, incoming.status);
  }
}

function withProgress(local: WithId<Task>, incoming: Task, now: Date, fields: readonly ProgressField[]): WithId<Task> {
  const updated: Record<string, unknown> = { ...local, lastModified: now.toISOString() };
  for (const field of fields) {
    if (incoming[field] === undefined) delete updated[field];
    else updated[field] = incoming[field];
  }
  return updated as unknown as WithId<Task>;
}

function sameProgress(a: Task, b: Task, fields: readonly ProgressField[]): boolean {
  return fields.every((f) => JSON.stringify(a[f] ?? null) === JSON.stringify(b[f] ?? null));
}
