import type { Bundle, BundleEntry, Reference, Task, TaskInput } from '@medplum/fhirtypes';
import { CODE_SYSTEMS, SYSTEMS } from '@imaging/fhir';

/**
 * Pending deliveries live in the store as Tasks (never only in memory): one per message to route or
 * pointer to register. They are written in the same transaction as the change that causes them, so a
 * change is never stored without its delivery, and an operator can search for stuck deliveries like
 * any other work.
 */
export type DeliveryKind = 'deliver-message' | 'register-pointer';

export const LOCATOR_DESTINATION = 'national-locator';

export interface DeliveryRequest {
  kind: DeliveryKind;
  /** The X-Request-ID: deterministic per business event, so a repeat creates nothing new. */
  requestId: string;
  correlationId: string;
  /** The service id to route to, or LOCATOR_DESTINATION. */
  destination: string;
  /** For `deliver-message`: the message to send (stored with the delivery). */
  message?: Bundle;
  /** For `register-pointer`: the local resource the pointer points to. */
  pointerTo?: Reference;
  patient?: Reference;
}

export const INPUT = {
  destination: 'destination',
  correlationId: 'correlation-id',
  attempts: 'attempts',
  sequence: 'sequence',
} as const;

let lastSequence = 0n;
/**
 * Orders deliveries queued within the same millisecond (a report, then the Task completion that cites
 * it): strictly increasing within this process. Across replicas the timestamp orders them, and
 * receivers tolerate the rare misordering that clock skew could cause.
 */
function nextSequence(): string {
  const now = process.hrtime.bigint();
  lastSequence = now > lastSequence ? now : lastSequence + 1n;
  return lastSequence.toString().padStart(20, '0');
}

/** The order deliveries go out in: when queued, then the sequence. */
export function deliveryOrder(a: Task, b: Task): number {
  return (
    (a.authoredOn ?? '').localeCompare(b.authoredOn ?? '') ||
    (inputOf(a, INPUT.sequence)?.valueString ?? '').localeCompare(inputOf(b, INPUT.sequence)?.valueString ?? '')
  );
}

/** Transaction entries that store a delivery (and its message), each a conditional create on the request id. */
export function deliveryEntries(request: DeliveryRequest, ownerRegion: string, now: Date): BundleEntry[] {
  const requestIdentifier = { system: SYSTEMS.messageRequest, value: request.requestId };
  const entries: BundleEntry[] = [];
  let focus = request.pointerTo;
  if (request.message) {
    const messageUrl = `urn:uuid:${crypto.randomUUID()}`;
    entries.push({
      fullUrl: messageUrl,
      resource: { ...request.message, identifier: requestIdentifier },
      request: {
        method: 'POST',
        url: 'Bundle',
        ifNoneExist: `identifier=${encodeURIComponent(`${SYSTEMS.messageRequest}|${request.requestId}`)}`,
      },
    });
    focus = { reference: messageUrl };
  }
  const task: Task = {
    resourceType: 'Task',
    identifier: [requestIdentifier],
    groupIdentifier: { system: SYSTEMS.correlation, value: request.correlationId },
    status: 'requested',
    intent: 'order',
    code: { coding: [{ system: CODE_SYSTEMS.taskCode, code: request.kind }] },
    authoredOn: now.toISOString(),
    lastModified: now.toISOString(),
    owner: { identifier: { system: SYSTEMS.region, value: ownerRegion } },
    input: [
      { type: { text: INPUT.destination }, valueString: request.destination },
      { type: { text: INPUT.correlationId }, valueString: request.correlationId },
      { type: { text: INPUT.attempts }, valueInteger: 0 },
      { type: { text: INPUT.sequence }, valueString: nextSequence() },
    ],
  };
  if (focus) task.focus = focus;
  if (request.patient) task.for = request.patient;
  entries.push({
    fullUrl: `urn:uuid:${crypto.randomUUID()}`,
    resource: task,
    request: {
      method: 'POST',
      url: 'Task',
      ifNoneExist: `identifier=${encodeURIComponent(`${SYSTEMS.messageRequest}|${request.requestId}`)}`,
    },
  });
  return entries;
}

export function inputOf(task: Task, name: string): TaskInput | undefined {
  return task.input?.find((i) => i.type?.text === name);
}

export function withInput<T extends Task>(task: T, name: string, value: Partial<TaskInput>): T {
  const others = (task.input ?? []).filter((i) => i.type?.text !== name);
  return { ...task, input: [...others, { type: { text: name }, ...value } as TaskInput] };
}

export function deliveryKindOf(task: Task): DeliveryKind | undefined {
  const code = task.code?.coding?.find((c) => c.system === CODE_SYSTEMS.taskCode)?.code;
  return code === 'deliver-message' || code === 'register-pointer' ? code : undefined;
}

export function deliveryRequestId(task: Task): string {
  return task.identifier?.find((i) => i.system === SYSTEMS.messageRequest)?.value ?? '';
}

/** Exponential backoff: base, 2×base, 4×base … capped. */
export function backoffMs(attempts: number, baseMs: number, maxMs: number): number {
  return Math.min(maxMs, baseMs * 2 ** Math.max(0, attempts - 1));
}

/** The search that finds deliveries still to do. */
export function pendingDeliveriesQuery(batchSize: number): Record<string, string> {
  return {
    code: `${CODE_SYSTEMS.taskCode}|deliver-message,${CODE_SYSTEMS.taskCode}|register-pointer`,
    status: 'requested,in-progress',
    _count: String(batchSize),
    _total: 'none', // polled twice a second: never count
  };
}
