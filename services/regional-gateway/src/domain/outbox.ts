import type { Bundle, BundleEntry, OperationOutcomeIssue, Reference, Task, TaskInput } from '@medplum/fhirtypes';
import {
  builtFromValidated,
  CANONICAL_BASE,
  CODE_SYSTEMS,
  isBuiltFromValidated,
  issue,
  OutcomeError,
  SYSTEMS,
  unprocessableIssues,
  token,
} from '@imaging/fhir';
import type { WithId } from '@imaging/fhir';

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

/** The Task inputs that carry a delivery's routing and progress, by their `type.text`. */
const INPUT = {
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

/**
 * Where a delivery stands: waiting for its (next) attempt, or settled. `claimed` is written no more (the
 * outbox lease decides which replica sends): it is read from Tasks an earlier version claimed.
 */
export type DeliveryStatus = 'pending' | 'claimed' | 'delivered' | 'failed';

const TASK_STATUS_OF: Readonly<Record<DeliveryStatus, 'requested' | 'in-progress' | 'completed' | 'failed'>> = {
  pending: 'requested',
  claimed: 'in-progress',
  delivered: 'completed',
  failed: 'failed',
};

/**
 * The poll's index key: a `business-status` coding that only open deliveries (pending or claimed) carry.
 * A settled delivery drops it, so the poll reads the pending rows through the token index, however
 * much delivered history the store keeps (the status alone would match every case Task in progress).
 */
export const OPEN_DELIVERY = { system: `${CANONICAL_BASE}/CodeSystem/delivery-state`, code: 'open' } as const;

/** The resource a pointer points to: a study or report held here. */
export interface PointerTarget {
  type: 'ImagingStudy' | 'DiagnosticReport';
  id: string;
}

/** What a delivery sends: the message Bundle stored with it, or a pointer to a study or report. */
export type DeliveryTarget =
  | { kind: 'deliver-message'; messageId: string }
  | { kind: 'register-pointer'; pointerTo: PointerTarget };

/**
 * A delivery as the outbox Task holds it, typed. `deliveryOf` decodes it and `outboxTask` encodes it:
 * nothing outside this file knows which Task field carries what.
 */
export type Delivery = DeliveryTarget & {
  /** The outbox Task's id and version: every change is a versioned update, so replicas never race. */
  id: string;
  versionId: string;
  /** The X-Request-ID. */
  requestId: string;
  correlationId: string;
  /** The service id to route to, or LOCATOR_DESTINATION. */
  destination: string;
  patient?: Reference;
  /** The region whose gateway owns (sends) the delivery. */
  ownerRegion: string;
  queuedAt: Date;
  /** Orders deliveries queued in the same millisecond (see nextSequence). */
  sequence: string;
  status: DeliveryStatus;
  /** Attempts made so far. */
  attempts: number;
  lastModified: Date;
  /** When a replica of an earlier version claimed it (and still holds it while `status` is claimed). */
  claimedAt?: Date;
  deliveredAt?: Date;
  /** No attempt before this (the backoff after a transient failure). */
  nextAttemptAt?: Date;
  /** What the last attempt came to, in words, for operators. */
  progress?: string;
  /** Why it failed for good. */
  failure?: string;
};

/** The order deliveries go out in: when queued, then the sequence. */
export function deliveryOrder(a: Delivery, b: Delivery): number {
  return a.queuedAt.getTime() - b.queuedAt.getTime() || a.sequence.localeCompare(b.sequence);
}

/**
 * The deliveries that must go out one after another, in deliveryOrder: those to one destination about
 * one patient (an order, its status updates and its report all carry the patient, whichever client's
 * correlation id each was queued under), else about one case. Different queues go out side by side.
 */
export function deliveryQueueOf(delivery: Delivery): string {
  const about =
    delivery.patient?.reference ??
    (delivery.patient?.identifier ? JSON.stringify(delivery.patient.identifier) : undefined);
  return `${delivery.destination} ${about ? `patient ${about}` : `case ${delivery.correlationId}`}`;
}

/** Transaction entries that store a delivery (and its message), each a conditional create on the request id. */
export function deliveryEntries(request: DeliveryRequest, ownerRegion: string, now: Date): BundleEntry[] {
  const ifNoneExist = `identifier=${encodeURIComponent(token(SYSTEMS.messageRequest, request.requestId))}`;
  const entries: BundleEntry[] = [];
  let focus = request.pointerTo;
  if (request.message) {
    const messageUrl = `urn:uuid:${crypto.randomUUID()}`;
    const message: Bundle = { ...request.message, identifier: requestIdentifier(request.requestId) };
    entries.push({
      fullUrl: messageUrl,
      // A message built from validated resources stays trusted with the request id it is stored under.
      resource: isBuiltFromValidated(request.message) ? builtFromValidated(message) : message,
      request: { method: 'POST', url: 'Bundle', ifNoneExist },
    });
    focus = { reference: messageUrl };
  }
  const task = taskOf(
    {
      kind: request.kind,
      requestId: request.requestId,
      correlationId: request.correlationId,
      destination: request.destination,
      ...(request.patient ? { patient: request.patient } : {}),
      ownerRegion,
      queuedAt: now,
      sequence: nextSequence(),
      status: 'pending',
      attempts: 0,
      lastModified: now,
    },
    focus,
  );
  entries.push({
    fullUrl: `urn:uuid:${crypto.randomUUID()}`,
    // The outbox Task holds only what this gateway chose: ids, the destination, times and counters.
    resource: builtFromValidated(task),
    request: { method: 'POST', url: 'Task', ifNoneExist },
  });
  return entries;
}

/** What a delivered delivery's progress says. */
export const DELIVERED = 'delivered';

/** The stored outbox Task for a delivery: what to write back, with a versioned update, after a change. */
export function outboxTask(delivery: Delivery): WithId<Task> {
  const focus =
    delivery.kind === 'deliver-message'
      ? `Bundle/${delivery.messageId}`
      : `${delivery.pointerTo.type}/${delivery.pointerTo.id}`;
  const task = { ...taskOf(delivery, { reference: focus }), id: delivery.id };
  // Trusted only while it holds nothing but this gateway's own words: an attempt's outcome quotes the
  // remote service's answer, which is validated like any other text that comes from outside.
  const ownWords = delivery.failure === undefined && (delivery.progress ?? DELIVERED) === DELIVERED;
  return ownWords ? builtFromValidated(task) : task;
}

type DeliveryFields = Omit<Delivery, 'id' | 'versionId' | 'messageId' | 'pointerTo'>;

function taskOf(delivery: DeliveryFields, focus: Reference | undefined): Task {
  const task: Task = {
    resourceType: 'Task',
    identifier: [requestIdentifier(delivery.requestId)],
    groupIdentifier: { system: SYSTEMS.correlation, value: delivery.correlationId },
    status: TASK_STATUS_OF[delivery.status],
    intent: 'order',
    code: { coding: [{ system: CODE_SYSTEMS.taskCode, code: delivery.kind }] },
    authoredOn: delivery.queuedAt.toISOString(),
    lastModified: delivery.lastModified.toISOString(),
    owner: { identifier: { system: SYSTEMS.region, value: delivery.ownerRegion } },
    input: [
      { type: { text: INPUT.destination }, valueString: delivery.destination },
      { type: { text: INPUT.correlationId }, valueString: delivery.correlationId },
      { type: { text: INPUT.attempts }, valueInteger: delivery.attempts },
      { type: { text: INPUT.sequence }, valueString: delivery.sequence },
    ],
  };
  if (focus) task.focus = focus;
  if (delivery.patient) task.for = delivery.patient;
  if (delivery.claimedAt || delivery.deliveredAt) {
    task.executionPeriod = {};
    if (delivery.claimedAt) task.executionPeriod.start = delivery.claimedAt.toISOString();
    if (delivery.deliveredAt) task.executionPeriod.end = delivery.deliveredAt.toISOString();
  }
  if (delivery.nextAttemptAt) task.restriction = { period: { start: delivery.nextAttemptAt.toISOString() } };
  const open = delivery.status === 'pending' || delivery.status === 'claimed';
  if (open || delivery.progress !== undefined) {
    task.businessStatus = {
      ...(open ? { coding: [{ ...OPEN_DELIVERY }] } : {}),
      ...(delivery.progress !== undefined ? { text: delivery.progress } : {}),
    };
  }
  if (delivery.failure !== undefined) task.statusReason = { text: delivery.failure };
  return task;
}

/**
 * An outbox Task that holds no valid delivery (see deliveryOf), failed with the reason: parked where an
 * operator sees it, instead of being retried for ever. Only its status fields change.
 */
export function setAsideTask(task: WithId<Task>, problem: string, now: Date): WithId<Task> {
  return {
    ...task,
    status: 'failed',
    statusReason: { text: problem },
    businessStatus: { text: `set aside: ${problem}` },
    lastModified: now.toISOString(),
  };
}

function requestIdentifier(requestId: string) {
  return { system: SYSTEMS.messageRequest, value: requestId };
}

/**
 * Decodes a stored outbox Task, once, into a Delivery. A Task that does not hold one (edited by hand,
 * or written by something else) is a 422 with one issue per problem, each at its FHIRPath.
 */
export function deliveryOf(task: Task): Delivery {
  const issues: OperationOutcomeIssue[] = [];
  const problem = (expression: string, text: string): void => {
    issues.push(issue({ code: 'invalid', expression, text }));
  };
  // Each returns its value, recording a problem when it is missing or malformed; nothing is returned
  // from a Task with any problem, so the casts below only ever hold checked values.
  const required = (value: string | undefined, expression: string, what: string): string => {
    if (!value) problem(expression, `a delivery needs ${what}`);
    return value as string;
  };
  const time = (value: string | undefined, expression: string): Date | undefined => {
    if (value === undefined) return undefined;
    const parsed = new Date(value);
    if (Number.isNaN(parsed.getTime())) problem(expression, `'${value}' is not a date-time`);
    return parsed;
  };
  const inputPath = (name: string) => `Task.input.where(type.text = '${name}')`;

  const kind = deliveryKindOf(task);
  if (!kind) problem('Task.code', `a delivery needs a code from ${CODE_SYSTEMS.taskCode} naming its kind`);
  const status = (Object.keys(TASK_STATUS_OF) as DeliveryStatus[]).find((s) => TASK_STATUS_OF[s] === task.status);
  if (!status) problem('Task.status', `'${task.status}' is not the status of a delivery`);
  const attempts = inputOf(task, INPUT.attempts)?.valueInteger;
  if (attempts === undefined || !Number.isInteger(attempts) || attempts < 0)
    problem(inputPath(INPUT.attempts), 'a delivery needs its number of attempts, a whole number');
  const focus = task.focus?.reference ?? '';
  // A server may version the reference it resolved; the delivery sends the current version either way.
  const [, focusType, focusId] =
    /^(Bundle|ImagingStudy|DiagnosticReport)\/([^/]+)(\/_history\/[^/]+)?$/.exec(focus) ?? [];
  const focusTypes = kind === 'register-pointer' ? ['ImagingStudy', 'DiagnosticReport'] : ['Bundle'];
  if (kind && !(focusType && focusTypes.includes(focusType)))
    problem('Task.focus', `the focus of a ${kind} must be a ${focusTypes.join(' or ')}, not '${focus}'`);
  const fields = {
    id: required(task.id, 'Task.id', 'an id'),
    versionId: required(task.meta?.versionId, 'Task.meta.versionId', 'a version'),
    requestId: required(
      task.identifier?.find((i) => i.system === SYSTEMS.messageRequest)?.value,
      'Task.identifier',
      `a request id (${SYSTEMS.messageRequest})`,
    ),
    correlationId: required(
      inputOf(task, INPUT.correlationId)?.valueString,
      inputPath(INPUT.correlationId),
      'a correlation id',
    ),
    destination: required(inputOf(task, INPUT.destination)?.valueString, inputPath(INPUT.destination), 'a destination'),
    ownerRegion: required(
      task.owner?.identifier?.system === SYSTEMS.region ? task.owner.identifier.value : undefined,
      'Task.owner',
      `an owning region (${SYSTEMS.region})`,
    ),
    queuedAt: time(required(task.authoredOn, 'Task.authoredOn', 'the time it was queued'), 'Task.authoredOn') as Date,
    sequence: required(inputOf(task, INPUT.sequence)?.valueString, inputPath(INPUT.sequence), 'a sequence'),
    status: status as DeliveryStatus,
    attempts: attempts as number,
    lastModified: time(
      required(task.lastModified, 'Task.lastModified', 'a last-modified time'),
      'Task.lastModified',
    ) as Date,
  };
  const claimedAt = time(task.executionPeriod?.start, 'Task.executionPeriod.start');
  const deliveredAt = time(task.executionPeriod?.end, 'Task.executionPeriod.end');
  const nextAttemptAt = time(task.restriction?.period?.start, 'Task.restriction.period.start');
  if (issues.length) throw new OutcomeError(unprocessableIssues(issues));
  const target: DeliveryTarget =
    kind === 'register-pointer'
      ? { kind, pointerTo: { type: focusType as PointerTarget['type'], id: focusId as string } }
      : { kind: 'deliver-message', messageId: focusId as string };
  // Optional fields the Task does not carry stay absent, so a decoded delivery encodes to the same Task.
  return {
    ...target,
    ...fields,
    ...(task.for ? { patient: task.for } : {}),
    ...(claimedAt ? { claimedAt } : {}),
    ...(deliveredAt ? { deliveredAt } : {}),
    ...(nextAttemptAt ? { nextAttemptAt } : {}),
    ...(task.businessStatus?.text !== undefined ? { progress: task.businessStatus.text } : {}),
    ...(task.statusReason?.text !== undefined ? { failure: task.statusReason.text } : {}),
  };
}

function inputOf(task: Task, name: string): TaskInput | undefined {
  return task.input?.find((i) => i.type?.text === name);
}

export function deliveryKindOf(task: Task): DeliveryKind | undefined {
  const code = task.code?.coding?.find((c) => c.system === CODE_SYSTEMS.taskCode)?.code;
  return code === 'deliver-message' || code === 'register-pointer' ? code : undefined;
}

/** Exponential backoff: base, 2×base, 4×base … capped. */
export function backoffMs(attempts: number, baseMs: number, maxMs: number): number {
  return Math.min(maxMs, baseMs * 2 ** Math.max(0, attempts - 1));
}

/**
 * The search that finds deliveries still to do: one token through the index, matched only by open
 * deliveries, oldest first (the store's insertion order), never counted (it runs after every write).
 */
export function pendingDeliveriesQuery(
  batchSize: number,
  options: { includeMessages?: boolean } = {},
): Record<string, string> {
  return {
    'business-status': `${OPEN_DELIVERY.system}|${OPEN_DELIVERY.code}`,
    _count: String(batchSize),
    _total: 'none',
    // The messages to send come with the poll (one request, not one read per delivery: on a FHIR server
    // over HTTP each read is a round trip).
    ...(options.includeMessages ? { _include: MESSAGE_INCLUDE } : {}),
  };
}

/** `_include` for the stored message Bundles that `deliver-message` Tasks focus on. */
export const MESSAGE_INCLUDE = 'Task:focus:Bundle';

/**
 * Open deliveries queued before the poll had its own index key (they lack OPEN_DELIVERY): searched the
 * old way, by code and status, once when a gateway starts, so an upgrade leaves none behind.
 */
export function unmarkedDeliveriesQuery(batchSize: number): Record<string, string> {
  return {
    code: `${CODE_SYSTEMS.taskCode}|deliver-message,${CODE_SYSTEMS.taskCode}|register-pointer`,
    status: 'requested,in-progress',
    'business-status:not': `${OPEN_DELIVERY.system}|${OPEN_DELIVERY.code}`,
    _count: String(batchSize),
    _total: 'none',
  };
}
