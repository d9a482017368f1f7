import type { BundleEntry, Identifier, Reference, Task } from '@medplum/fhirtypes';
import type { Caller } from '@imaging/fhir';
import type { ParsedMessage } from '@imaging/messaging';
import { ORDER_REQUEST, REPORT_ISSUED, ALERT_COPIED } from '@imaging/messaging';
import { auditEntry } from './audit.ts';
import type { Delivery } from './outbox.ts';
import type { GatewayDeps } from './ports.ts';
import { caseOfTask } from './identifiers.ts';

/**
 * The AuditEvent entry each kind of state change stores in its own transaction (audit.ts builds it): one
 * small function per change, so the domain code that makes the change adds one line. The alert workflow
 * and the turnaround watches build theirs where they are (alerts.ts, escalation.ts, breaches.ts).
 */

type Deps = Pick<GatewayDeps, 'region' | 'clock'>;

/** A client created a resource: `what` is its entry's `urn:uuid:` (or literal) reference. */
export function createdAudit(
  deps: Deps,
  caller: Caller,
  change: {
    subtype: 'order-placed' | 'study-recorded' | 'report-issued' | 'patient-registered' | 'endpoint-registered';
    description: string;
    what: Reference[];
    /** The business identifier of what the conditional create makes: nothing is recorded on a replay. */
    identifier?: Identifier;
    patient?: Reference;
    correlationId: string;
    detail?: Record<string, string>;
  },
): BundleEntry {
  return auditEntry(deps.region, {
    subtype: change.subtype,
    description: change.description,
    action: 'C',
    who: { caller },
    what: change.what,
    ...(change.patient ? { patient: change.patient } : {}),
    correlationId: change.correlationId,
    ...(change.identifier ? { once: change.identifier } : {}),
    ...(change.detail ? { detail: change.detail } : {}),
    recorded: deps.clock.now(),
  });
}

/** What re-registering a patient the region holds changed: its organisation's access, or its named GP practice. */
const PATIENT_CHANGES = {
  'patient-access-granted':
    'A referrer registered a patient the region holds: its organisation may now read the record',
  'patient-practice-named':
    "A referrer named the patient's registered GP practice: its discharged patients' alerts go there",
} as const;

/** A referrer's registration changed a patient the region already held (registering it again). */
export function patientChangeAudit(
  deps: Deps,
  caller: Caller,
  patient: Reference,
  correlationId: string,
  subtype: keyof typeof PATIENT_CHANGES,
): BundleEntry {
  return auditEntry(deps.region, {
    subtype,
    description: PATIENT_CHANGES[subtype],
    action: 'U',
    who: { caller },
    what: [patient],
    patient,
    correlationId,
    ...(caller.organisation ? { detail: { organisation: caller.organisation } } : {}),
    recorded: deps.clock.now(),
  });
}

/** A client moved a fulfilment Task on (PUT). */
export function taskUpdatedAudit(
  deps: Deps,
  caller: Caller,
  before: Task,
  after: Task & { id: string },
  correlationId: string,
): BundleEntry {
  return auditEntry(deps.region, {
    subtype: 'task-updated',
    description: 'A Task updated by a client',
    action: 'U',
    who: { caller },
    what: [{ reference: `Task/${after.id}` }],
    ...(after.for ? { patient: after.for } : {}),
    correlationId: caseOfTask(after) ?? correlationId,
    detail: {
      status: before.status === after.status ? after.status : `${before.status} → ${after.status}`,
      ...(after.businessStatus?.text ? { 'business-status': after.businessStatus.text } : {}),
    },
    recorded: deps.clock.now(),
  });
}

/**
 * A message from another region, stored here: who sent it (the sending region's service, as the hub
 * delivered it), which event, and the resources it changed. Recorded once per X-Request-ID.
 */
export function messageReceivedAudit(
  deps: Deps,
  message: ParsedMessage,
  changes: readonly BundleEntry[],
  /** The message's receipt identifier (its sender and X-Request-ID): one audit per message received. */
  receipt: Identifier,
  correlationId: string,
): BundleEntry {
  const creates = [ORDER_REQUEST, REPORT_ISSUED, ALERT_COPIED].includes(message.event);
  const what = changes
    .filter((e) => e.resource && e.resource.resourceType !== 'AuditEvent')
    .map((e): Reference => ({ reference: changedResourceReference(e) }))
    .filter((r) => r.reference);
  return auditEntry(deps.region, {
    subtype: 'message-received',
    description: 'A message from another region stored here',
    action: creates ? 'C' : 'U',
    who: { service: message.sourceService },
    what,
    correlationId,
    once: receipt,
    detail: {
      event: `${message.event.system}|${message.event.code}`,
      ...(what.length === 0 ? { changed: 'nothing (already up to date)' } : {}),
    },
    recorded: deps.clock.now(),
  });
}

/**
 * A literal reference to what a transaction entry changes: its `urn:uuid` fullUrl (the store resolves it),
 * or the `Type/id` it updates. Anything else (a bare `Task`, a conditional `Task?…`) is no reference at all:
 * HAPI refuses it (HAPI-0505), so such entries are given a urn first (`withFullUrls` in inbound.ts).
 */
function changedResourceReference(entry: BundleEntry): string {
  if (entry.fullUrl?.startsWith('urn:uuid:')) return entry.fullUrl;
  const url = entry.request?.url ?? '';
  return /^[A-Z][A-Za-z]+\/[A-Za-z0-9\-.]{1,64}$/.test(url) ? url : '';
}

/** What a delivery came to, for good: delivered, refused by the hub or the receiver, or set aside as malformed. */
export type DeliveryOutcome = 'delivery-completed' | 'delivery-refused' | 'delivery-set-aside';

const OUTCOME_TEXT: Record<DeliveryOutcome, string> = {
  'delivery-completed': 'A delivery to another service completed',
  'delivery-refused': 'A delivery refused by its receiver: parked, not retried',
  'delivery-set-aside': 'An outbox Task that holds no valid delivery, set aside',
};

export function deliveryOutcomeAudit(
  deps: Deps,
  outcome: DeliveryOutcome,
  delivery: { id: string; correlationId?: string; destination?: string; requestId?: string; patient?: Reference },
  failure?: { status: number; text: string },
): BundleEntry {
  return auditEntry(deps.region, {
    subtype: outcome,
    description: OUTCOME_TEXT[outcome],
    action: 'E',
    who: 'system',
    what: [{ reference: `Task/${delivery.id}` }],
    ...(delivery.patient ? { patient: delivery.patient } : {}),
    // A malformed outbox Task may name no case: it is recorded under its own reference.
    correlationId: delivery.correlationId ?? `Task-${delivery.id}`,
    ...(failure ? { outcome: failure } : {}),
    detail: {
      ...(delivery.destination ? { destination: delivery.destination } : {}),
      ...(delivery.requestId ? { 'X-Request-ID': delivery.requestId } : {}),
    },
    recorded: deps.clock.now(),
  });
}

/** The refusal of a delivery, noted on the case's fulfilment Task (delivery-refusals.ts). */
export function refusalNotedAudit(deps: Deps, task: Task & { id: string }, delivery: Delivery): BundleEntry {
  return auditEntry(deps.region, {
    subtype: 'delivery-refusal-noted',
    description: "A refused delivery noted on its case's Task",
    action: 'U',
    who: 'system',
    what: [{ reference: `Task/${task.id}` }, { reference: `Task/${delivery.id}` }],
    ...(task.for ? { patient: task.for } : {}),
    correlationId: caseOfTask(task) ?? delivery.correlationId,
    recorded: deps.clock.now(),
  });
}
