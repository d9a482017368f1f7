import type { BundleEntry, Communication, Patient, Reference, ServiceRequest, Task } from '@medplum/fhirtypes';
import { CODE_SYSTEMS, odsOf, OutcomeError, searchAll, searchOne, SYSTEMS, token, unprocessable } from '@imaging/fhir';
import type { WithId } from '@imaging/fhir';
import type { MessageEventDefinition, ParsedMessage } from '@imaging/messaging';
import {
  ALERT_ACKNOWLEDGED,
  ALERT_ACTION_RECORDED,
  buildMessage,
  mapReferences,
  requestIdFor,
} from '@imaging/messaging';
import type { Alert } from './alert-task.ts';
import {
  alertIdentifier,
  alertOf,
  alertOutcomeOf,
  alertTask,
  closesOnAcknowledgement,
  withNextCheck,
} from './alert-task.ts';
import { ALERT_AUDIT } from './alerts.ts';
import { authorise } from './message-authority.ts';
import { auditEntry } from './audit.ts';
import { businessIdentifier, identifierQuery } from './identifiers.ts';
import { labelledAs, peerOf } from './labels.ts';
import { deliveryEntries } from './outbox.ts';
import type { GatewayDeps } from './ports.ts';
import { identifierLookup, resolveLogicalReferences } from './references.ts';

/**
 * Closing the loop at the source (docs/clinical-safety.md): the requester's region sends the
 * acknowledgement and the action on an alert back to the performer's region, through the outbox, the hub
 * and the receiver like every other message; the performer's region updates its watch on the alert.
 */

/**
 * The pending delivery that tells the performer's region about a change to an alert: queued in the same
 * transaction as the change. The acknowledgement Task travels as it now stands; references to what is
 * only being created in that transaction (a verbal Communication) travel by identifier.
 */
export async function alertMessageEntries(
  deps: GatewayDeps,
  task: WithId<Task>,
  event: MessageEventDefinition,
  peer: string,
  now: Date,
): Promise<BundleEntry[]> {
  const portable = mapReferences(task, (ref) => {
    if (!ref.reference?.startsWith('urn:')) return ref;
    const { reference: _reference, ...logical } = ref;
    return logical;
  });
  const identifierOf = await identifierLookup(deps.store, [portable], businessIdentifier);
  const message = buildMessage({
    event,
    timestamp: now.toISOString(),
    sourceService: deps.region.serviceId,
    destinationService: peer,
    focus: portable,
    resources: [],
    identifierOf,
  });
  const identifier = businessIdentifier(task)?.value ?? task.id;
  return deliveryEntries(
    {
      kind: 'deliver-message',
      requestId: requestIdFor(event.code, identifier),
      correlationId: task.groupIdentifier?.value ?? identifier,
      destination: peer,
      message,
      ...(task.for ? { patient: task.for } : {}),
    },
    deps.region.regionId,
    now,
  );
}

/**
 * An acknowledgement or an action from the requester's region, applied to this region's watch on the
 * alert. Only the region holding the acknowledgement Task may send it (alertMessageRefusals: a 403
 * otherwise, writing nothing); a replay or an update the watch has moved past changes nothing.
 */
export async function alertUpdateFrom(
  deps: GatewayDeps,
  message: ParsedMessage,
): Promise<{ entries: BundleEntry[]; caseId: string }> {
  const incoming = message.focus.resource as Task;
  const at = (path: string) => `Bundle.entry[${message.focus.index}].resource.${path}`;
  const report = incoming.focus?.identifier?.system === SYSTEMS.report ? incoming.focus.identifier.value : undefined;
  if (!report) throw new OutcomeError(unprocessable('The alert names no report by its identifier', at('focus')));
  const watchIdentifier = { system: SYSTEMS.task, value: alertIdentifier(report, 'watch-acknowledgement') };
  const stored = await searchOne<Task>(deps.store, 'Task', identifierQuery(watchIdentifier));
  if (!stored) throw new OutcomeError(unprocessable(`No alert on report ${report} is watched here`, at('focus')));
  const watch = alertOf(stored);
  const order = await deps.store.read<ServiceRequest>('ServiceRequest', watch.order.reference?.split('/')[1] as string);
  await authorise(deps, message, {
    requester: odsOf(order.requester),
    performer: watch.performer,
    peer: peerOf(stored),
  });
  const outcome = alertOutcomeOf(incoming);
  const now = deps.clock.now();
  let updated: Alert;
  if (message.event === ALERT_ACKNOWLEDGED) {
    if (!outcome.acknowledgement)
      throw new OutcomeError(unprocessable('An acknowledgement says when and by whom', at('output')));
    if (watch.state !== 'raised') return { entries: [], caseId: watch.correlationId }; // a replay, or the action arrived first
    const closes = closesOnAcknowledgement(watch.category);
    updated = {
      ...watch,
      ...outcome,
      state: closes ? 'closed' : 'acknowledged',
      // The requester has one step to record the action; the watch waits one more before escalating.
      stepDueAt: closes
        ? undefined
        : new Date(outcome.acknowledgement.at.getTime() + 2 * deps.alerts.escalationStepsMs[watch.category]),
      lastModified: now,
    };
  } else if (message.event === ALERT_ACTION_RECORDED) {
    if (!outcome.action) throw new OutcomeError(unprocessable('An action says what was done', at('output')));
    if (watch.state === 'closed') return { entries: [], caseId: watch.correlationId };
    updated = { ...watch, ...outcome, state: 'closed', lastModified: now };
  } else {
    throw new OutcomeError(unprocessable(`Event ${message.event.code} is not about an alert`, at('code')));
  }
  const next = withNextCheck(updated, deps.alerts.notificationLeaseMs);
  const entries: BundleEntry[] = [
    {
      resource: alertTask(next),
      request: { method: 'PUT', url: `Task/${watch.id}`, ifMatch: `W/"${watch.versionId}"` },
    },
    auditEntry(deps.region, {
      subtype: 'alert-watch-updated',
      description: ALERT_AUDIT['alert-watch-updated'],
      action: 'U',
      who: { service: message.sourceService },
      what: [{ reference: `Task/${watch.id}` }],
      ...(watch.patient ? { patient: watch.patient } : {}),
      correlationId: watch.correlationId,
      detail: { event: message.event.code, state: next.state },
      recorded: now,
    }),
  ];
  return { entries, caseId: watch.correlationId };
}

/**
 * A copy of an alert for a discharged patient's registered GP practice here, from the requester's region
 * (requirement 14): once the sender's authority is checked (alertCopyRefusals; a refusal is a 403 and writes
 * nothing), it is stored as the practice's Communication, visible to the practice alone, once however often
 * it arrives, with an AuditEvent. It is stored under its sender (SYSTEMS.receivedCommunication), never under
 * the identifier it came with. The patient is this region's own when it knows them by NHS number.
 */
export async function alertCopyFrom(
  deps: GatewayDeps,
  message: ParsedMessage,
  correlationId: string | undefined,
): Promise<{ entries: BundleEntry[]; caseId?: string }> {
  await authorise(deps, message);
  const incoming = message.focus.resource as Communication;
  const identifier = incoming.identifier?.find((i) => i.system === SYSTEMS.communication && i.value);
  if (!identifier)
    throw new OutcomeError(
      unprocessable(
        `An alert copy carries its identifier (${SYSTEMS.communication})`,
        `Bundle.entry[${message.focus.index}].resource.identifier`,
      ),
    );
  // Kept under its sender, apart from this region's own Communications: it can never stand in for one this
  // region creates (a local create would find it and make nothing), nor be taken for another sender's.
  const received = { system: SYSTEMS.receivedCommunication, value: `${message.sourceService}/${identifier.value}` };
  if (await searchOne(deps.store, 'Communication', identifierQuery(received))) return { entries: [] }; // a copy resent
  const practice = odsOf(incoming.recipient?.[0]) as string;
  const alert = incoming.basedOn?.find((r) => r.type === 'Task')?.identifier?.value as string;
  // Only its patient is resolved: the alert, report and order it names are the requester's region's, and
  // resolved here they would link the copy to whatever this region holds under those identifiers.
  const { subject } = await resolveLogicalReferences(deps.store, {
    resourceType: 'Communication',
    status: incoming.status,
    ...(incoming.subject ? { subject: incoming.subject } : {}),
  });
  const copy: Communication = { ...incoming, identifier: [received], ...(subject ? { subject } : {}) };
  const patient = copy.subject?.reference?.startsWith('Patient/') ? (copy.subject as Reference<Patient>) : undefined;
  const caseId = correlationId ? await caseOfCopy(deps, correlationId, patient, message.sourceService) : undefined;
  const url = `urn:uuid:${crypto.randomUUID()}`;
  const entries: BundleEntry[] = [
    {
      fullUrl: url,
      resource: labelledAs(copy, [practice], message.sourceService),
      request: { method: 'POST', url: 'Communication', ifNoneExist: identifierQuery(received) },
    },
    auditEntry(deps.region, {
      subtype: 'alert-copy-received',
      description: ALERT_AUDIT['alert-copy-received'],
      action: 'C',
      who: { service: message.sourceService },
      what: [{ reference: url }],
      ...(patient ? { patient } : {}),
      correlationId: caseId ?? alert,
      detail: { practice, alert },
      recorded: deps.clock.now(),
    }),
  ];
  return { entries, ...(caseId ? { caseId } : {}) };
}

/**
 * The case a copy is filed under: the one its sender names (the requester's case, which the practice's
 * region holds only when it also serves the performer), unless this region holds that case for another
 * patient. Then it is the sender's name, kept apart from this region's cases, so a sender cannot put a
 * copy, and the patient it names, in the trail of a case it guessed the name of.
 */
async function caseOfCopy(
  deps: GatewayDeps,
  named: string,
  patient: Reference<Patient> | undefined,
  sender: string,
): Promise<string> {
  const held = await searchAll<Task>(deps.store, 'Task', {
    'group-identifier': token(SYSTEMS.correlation, named),
    code: token(CODE_SYSTEMS.taskCode, 'fulfil'),
  });
  return held.every((task) => !!patient && task.for?.reference === patient.reference) ? named : `${sender}/${named}`;
}
