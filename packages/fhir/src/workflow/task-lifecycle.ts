import { OutcomeError, unprocessable } from '../outcomes.ts';
import { isOneOf, TASK_STATUSES } from '../terminology/r4-codes.ts';
import type { TaskStatus } from '../terminology/r4-codes.ts';

/**
 * The Task lifecycle the product uses (FHIR Workflow, Task state machine):
 *
 *   requested → received → accepted → in-progress → completed
 *   requested/received → accepted directly (receipt need not be reported separately)
 *   requested/received → rejected          (the performer declines)
 *   accepted/in-progress → on-hold → back to accepted or in-progress
 *   in-progress → failed                   (attempted, could not be done)
 *   any state that is not terminal → cancelled (the requester withdraws)
 *
 * Decisions on the states the product does not drive:
 * - `draft`: a Task being prepared and not yet actionable; it may be released (→ requested) or
 *   cancelled. The product itself creates Tasks at `requested`.
 * - `ready`: not used. Acceptance between organisations is always explicit, so nothing moves into it;
 *   a Task found there (from another system) may start (→ in-progress) or be cancelled.
 * - `entered-in-error`: a correction, not a step of the work: reachable from every other state,
 *   and terminal.
 * Terminal: completed, failed, rejected, cancelled, entered-in-error.
 *
 * A status is never a transition to itself: an update that repeats the current status is a no-op for
 * the caller to recognise (see `classifyStatusUpdate`).
 */
const NEXT: Readonly<Record<TaskStatus, readonly TaskStatus[]>> = {
  draft: ['requested', 'cancelled', 'entered-in-error'],
  requested: ['received', 'accepted', 'rejected', 'on-hold', 'cancelled', 'entered-in-error'],
  received: ['accepted', 'rejected', 'on-hold', 'cancelled', 'entered-in-error'],
  accepted: ['in-progress', 'on-hold', 'cancelled', 'entered-in-error'],
  ready: ['in-progress', 'cancelled', 'entered-in-error'],
  'in-progress': ['completed', 'failed', 'on-hold', 'cancelled', 'entered-in-error'],
  'on-hold': ['accepted', 'in-progress', 'cancelled', 'entered-in-error'],
  completed: ['entered-in-error'],
  failed: ['entered-in-error'],
  rejected: ['entered-in-error'],
  cancelled: ['entered-in-error'],
  'entered-in-error': [],
};

const TERMINAL: readonly TaskStatus[] = ['completed', 'failed', 'rejected', 'cancelled', 'entered-in-error'];

/**
 * How far along the work is, for ordering updates: larger is later. on-hold ranks with accepted (the
 * work stopped before finishing), every outcome ranks above all live states, and entered-in-error above
 * everything. Coarse by design: use `classifyStatusUpdate` to decide what to do with an update.
 */
const RANK: Readonly<Record<TaskStatus, number>> = {
  draft: 0,
  requested: 1,
  received: 2,
  accepted: 3,
  ready: 3,
  'on-hold': 3,
  'in-progress': 4,
  completed: 5,
  failed: 5,
  rejected: 5,
  cancelled: 5,
  'entered-in-error': 6,
};

export function isTaskStatus(value: unknown): value is TaskStatus {
  return isOneOf(TASK_STATUSES, value);
}

export function nextStatuses(from: TaskStatus): readonly TaskStatus[] {
  return NEXT[from];
}

export function canTransition(from: TaskStatus, to: TaskStatus): boolean {
  return NEXT[from].includes(to);
}

export function isTerminal(status: TaskStatus): boolean {
  return TERMINAL.includes(status);
}

export function progressRank(status: TaskStatus): number {
  return RANK[status];
}

/** The 422 (business-rule at Task.status) refusing a change, naming both states and the legal next ones. */
export function transitionRefused(from: TaskStatus, to: TaskStatus): OutcomeError {
  const legal = NEXT[from];
  const options =
    legal.length > 0
      ? `the legal next states are ${legal.join(', ')}`
      : `'${from}' is final: no further change is allowed`;
  return new OutcomeError(unprocessable(`A Task cannot go from '${from}' to '${to}': ${options}`, 'Task.status'));
}

/** Throws `transitionRefused` unless `from` → `to` is a legal transition. */
export function assertTransition(from: TaskStatus, to: TaskStatus): void {
  if (!canTransition(from, to)) throw transitionRefused(from, to);
}

/** True when `to` can be reached from `from` by one or more legal transitions. */
export function isReachable(from: TaskStatus, to: TaskStatus): boolean {
  const seen = new Set<TaskStatus>();
  const queue: TaskStatus[] = [...NEXT[from]];
  while (queue.length > 0) {
    const s = queue.shift() as TaskStatus;
    if (s === to) return true;
    if (seen.has(s)) continue;
    seen.add(s);
    queue.push(...NEXT[s]);
  }
  return false;
}

/**
 * What a receiver should do with a status update for a Task it holds at `current`, when updates may
 * arrive late, twice or out of order (at-least-once delivery):
 * - `same`: the update repeats the current status; nothing to do.
 * - `advance`: apply it. It is a legal transition, or a later state the Task can legally reach, whose
 *   intermediate updates are still on their way (e.g. completed arrives before in-progress).
 * - `stale`: the Task has already moved past it; ignore it.
 * - `illegal`: no legal path either way (e.g. anything after a terminal state); reject it (422).
 * Around on-hold both directions are reachable; a legal transition then counts as `advance`.
 */
export type StatusUpdate = 'same' | 'advance' | 'stale' | 'illegal';

export function classifyStatusUpdate(current: TaskStatus, incoming: TaskStatus): StatusUpdate {
  if (current === incoming) return 'same';
  if (canTransition(current, incoming)) return 'advance';
  // entered-in-error is a correction and is always applied directly (a legal transition above).
  if (isReachable(incoming, current)) return 'stale';
  if (isReachable(current, incoming)) return 'advance';
  return 'illegal';
}
