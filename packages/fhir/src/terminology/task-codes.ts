import type { CodeableConcept, Task } from '@medplum/fhirtypes';
import { CODE_SYSTEMS } from '../systems.ts';

/** Our Task codes (CODE_SYSTEMS.taskCode): what a Task is for. */
export const TASK_CODES = [
  'fulfil',
  'deliver-message',
  'register-pointer',
  'acknowledge-result',
  'watch-acknowledgement',
  'watch-turnaround',
  'resolve-breach',
  'outbox-lease',
] as const;
export type TaskCode = (typeof TASK_CODES)[number];

export const TASK_CODE_DISPLAY: Readonly<Record<TaskCode, string>> = {
  fulfil: 'Fulfil an imaging order',
  'deliver-message': 'Deliver a message to another region',
  'register-pointer': 'Register a pointer with the national locator',
  'acknowledge-result': 'Acknowledge an imaging result alert',
  'watch-acknowledgement': 'Watch an alert raised here until the requester acknowledges it',
  'watch-turnaround': "Watch an order's turnaround times until each is met or breached",
  'resolve-breach': 'Resolve a turnaround breach: do the overdue test or report',
  'outbox-lease': "Hold the lease on a gateway's outbox: the one replica that sends its deliveries",
};

export function isTaskCode(value: unknown): value is TaskCode {
  return typeof value === 'string' && (TASK_CODES as readonly string[]).includes(value);
}

export function taskCodeConcept(code: TaskCode): CodeableConcept {
  return { coding: [{ system: CODE_SYSTEMS.taskCode, code, display: TASK_CODE_DISPLAY[code] }] };
}

/** The Task's code from our code system, when it has a known one. */
export function taskCodeOf(task: Pick<Task, 'code'>): TaskCode | undefined {
  const code = task.code?.coding?.find((c) => c.system === CODE_SYSTEMS.taskCode)?.code;
  return isTaskCode(code) ? code : undefined;
}
