import type {
  Bundle,
  BundleEntry,
  DiagnosticReport,
  Endpoint,
  Identifier,
  ImagingStudy,
  OperationOutcome,
  Patient,
  Reference,
  Resource,
  ServiceRequest,
  Task,
} from '@medplum/fhirtypes';
import {
  allOk,
  builtFromValidated,
  conflict,
  forbidden,
  isBuiltFromValidated,
  odsOf,
  OutcomeError,
  retryOnConflict,
  searchAll,
  searchOne,
  SYSTEMS,
  taskCodeOf,
  unprocessable,
  token,
} from '@imaging/fhir';
import type { Caller } from '@imaging/fhir';
import type { MessageEntry, ParsedMessage } from '@imaging/messaging';
import {
  ALERT_ACKNOWLEDGED,
  ALERT_ACTION_RECORDED,
  ALERT_COPIED,
  buildResponse,
  entriesOf,
  messageRefusal,
  ORDER_REQUEST,
  parseMessage,
  REPORT_ISSUED,
  TASK_UPDATE,
  validateReceived,
} from '@imaging/messaging';
import { alertCopyFrom, alertUpdateFrom } from './alert-messages.ts';
import { messageReceivedAudit } from './change-audits.ts';
import { authorise } from './message-authority.ts';
import { caseOf, raiseAlert } from './alerts.ts';
import { testWatchEntries } from './breaches.ts';
import { orderEntries, orderOfResult, orderReference } from './result-order.ts';
import { businessIdentifier, caseOfTask, identifierQuery } from './identifiers.ts';
import { accessOrganisations, labelledAs, peerOf, withAccess } from './labels.ts';
import { withoutNamers } from './registered-practice.ts';
import type { GatewayDeps } from './ports.ts';
import { readLocal, resolveLogicalReferences } from './references.ts';
import { checkSameSubject } from './results.ts';
import { citedStudyProblems } from './report-studies.ts';
import { applyTaskUpdate } from './task-updates.ts';
import { outputProblems } from './task-output.ts';
import { runTransaction } from './transactions.ts';

export interface ProcessedMessage {
  response: Bundle;
  /** True when this X-Request-ID was processed before: nothing was changed this time. */
  duplicate: boolean;
}

/**
 * Processes a message the hub delivers. Each event's changes are stored in one transaction of
 * conditional creates, together with a receipt (the message itself, under its X-Request-ID), so a
 * replayed delivery changes nothing and a failure leaves nothing half-written.
 */
export async function processMessage(
  deps: GatewayDeps,
  caller: Caller,
  bundle: Bundle,
  requestId: string,
  /** The case the message belongs to (X-Correlation-ID), for the trail of what it changes. */
  correlationId?: string,
): Promise<ProcessedMessage> {
  if (caller.kind !== 'hub') throw new OutcomeError(forbidden('Only the national hub delivers messages'));
  const receiptId = receiptIdentifier(bundle, requestId);
  const receiptQuery = `identifier=${encodeURIComponent(token(receiptId.system ?? '', receiptId.value ?? ''))}`;
  // The receipt is the message under its sender and X-Request-ID: parsed as it will be stored, so the
  // store's check of the receipt finds the parse's findings already made (one validation, not two).
  const received: Bundle = { ...bundle, identifier: receiptId };
  const message = parseMessage(received);
  if (message.destinationService !== deps.region.serviceId) {
    throw new OutcomeError(
      unprocessable(
        `This message is for ${message.destinationService}; this is ${deps.region.serviceId}`,
        'Bundle.entry[0].resource.destination[0].endpoint',
      ),
    );
  }
  if (await searchOne(deps.store, 'Bundle', receiptQuery)) {
    return { response: respond(deps, message, allOk(`Message ${requestId} was already processed`)), duplicate: true };
  }
  // The trust boundary: the message is validated in full here, once, with the entries this region keeps
  // copies of; the receipt and what is built from those entries are then stored without validating again.
  validateReceived(message, copiedEntries(message));
  const receipt: BundleEntry = {
    resource: received,
    request: { method: 'POST', url: 'Bundle', ifNoneExist: receiptQuery },
  };
  await retryOnConflict(async () => {
    const changes = await changesFor(deps, message, correlationId);
    const entries = withFullUrls(withFreshUrns(changes.entries));
    // Filed under the case this region holds for what the message changes: the sender's X-Correlation-ID
    // names a case only where this region holds none (a new order's, an alert copy's).
    const caseId = changes.caseId ?? correlationId ?? requestId;
    const audit = messageReceivedAudit(deps, message, entries, receiptId, caseId);
    await runTransaction(deps.store, [...entries, receipt, audit]);
  });
  deps.logger.info('message processed', { event: message.event.code, from: message.sourceService, requestId });
  return { response: respond(deps, message, allOk(`Processed ${message.event.code}`)), duplicate: false };
}

/**
 * What a received message is kept under: its sender (the MessageHeader source, which the hub checked
 * against the sender's credentials) and its X-Request-ID. Request ids are derived from business ids, so
 * anyone can compute another region's; keyed by sender, a region can spend only its own, and a message
 * another region sent first under the same id never makes this one look already processed.
 */
function receiptIdentifier(bundle: Bundle, requestId: string): Identifier {
  const header = bundle.entry?.[0]?.resource;
  const sender = header?.resourceType === 'MessageHeader' ? header.source?.endpoint : undefined;
  return { system: SYSTEMS.messageReceipt, value: `${sender}/${requestId}` };
}

/** Every create and conditional update gets a `urn:uuid` fullUrl, so the AuditEvent beside it can point at what it stored. */
function withFullUrls(entries: BundleEntry[]): BundleEntry[] {
  return entries.map((entry) => {
    const { method, url = '' } = entry.request ?? {};
    const conditional = method === 'POST' || (method === 'PUT' && url.includes('?'));
    return entry.fullUrl || !conditional ? entry : { ...entry, fullUrl: `urn:uuid:${crypto.randomUUID()}` };
  });
}

/**
 * The changes reuse the message's `urn:uuid` fullUrls, and the receipt stored beside them is the
 * message itself, carrying the same urns. HAPI FHIR then resolves the changes' references wrongly (a
 * ServiceRequest's subject became `#<uuid>`), so the changes get fresh urns of their own.
 */
function withFreshUrns(entries: BundleEntry[]): BundleEntry[] {
  let text = JSON.stringify(entries);
  for (const entry of entries) {
    if (entry.fullUrl?.startsWith('urn:uuid:'))
      text = text.replaceAll(entry.fullUrl, `urn:uuid:${crypto.randomUUID()}`);
  }
  // Only urns changed, each to a new one for the same entry: what was built from validated input still is.
  return (JSON.parse(text) as BundleEntry[]).map((entry, i) => {
    const before = entries[i]?.resource;
    return entry.resource && before && isBuiltFromValidated(before)
      ? { ...entry, resource: builtFromValidated(entry.resource) }
      : entry;
  });
}

/**
 * The carried entries this region stores copies of, bar its own labels and references, so validated in
 * full on arrival: an order's Patient, ServiceRequest and Task. The others are stored only after a change
 * that can make a valid resource invalid, so what is built from them is validated when stored: a report's
 * and a study's logical references resolved to literal ones (base R4 checks a literal reference's type, not
 * a logical one's), a Task update or an alert's outcome merged into this region's own Task.
 */
function copiedEntries(message: ParsedMessage): MessageEntry[] {
  if (message.event !== ORDER_REQUEST) return [];
  return [
    ...entriesOf<Patient>(message, 'Patient'),
    ...entriesOf<ServiceRequest>(message, 'ServiceRequest'),
    ...entriesOf<Task>(message, 'Task'),
  ];
}

function respond(deps: GatewayDeps, message: ParsedMessage, outcome: OperationOutcome): Bundle {
  return buildResponse(message, 'ok', outcome, deps.clock.now().toISOString());
}

/** What a message changes here, and the case (X-Correlation-ID) this region holds them under, when it holds one. */
export interface MessageChanges {
  entries: BundleEntry[];
  caseId?: string;
}

async function changesFor(
  deps: GatewayDeps,
  message: ParsedMessage,
  correlationId: string | undefined,
): Promise<MessageChanges> {
  switch (message.event) {
    case ORDER_REQUEST:
      return acceptRoutedOrder(deps, message);
    case TASK_UPDATE:
      return taskUpdateFrom(deps, message);
    case REPORT_ISSUED:
      return reportFrom(deps, message);
    case ALERT_ACKNOWLEDGED:
    case ALERT_ACTION_RECORDED:
      return alertUpdateFrom(deps, message);
    case ALERT_COPIED:
      return alertCopyFrom(deps, message, correlationId);
    default:
      throw new OutcomeError(
        unprocessable(`Event ${message.event.code} is not handled here`, 'Bundle.entry[0].resource.eventCoding'),
      );
  }
}

/** A new order from another region: its Patient, ServiceRequest and Task become this region's copies. */
async function acceptRoutedOrder(deps: GatewayDeps, message: ParsedMessage): Promise<MessageChanges> {
  const order = entriesOf<ServiceRequest>(message, 'ServiceRequest')[0];
  const task = entriesOf<Task>(message, 'Task')[0];
  const patient = entriesOf<Patient>(message, 'Patient')[0];
  if (!order || !task || !patient) throw new OutcomeError(unprocessable('Incomplete order message', 'Bundle.entry'));
  // Whether the sender may order this, and from this region's performer, is the directory's to say.
  await authorise(deps, message);
  const performer = odsOf(task.resource.owner);
  const requester = odsOf(task.resource.requester);
  const organisations = [requester, performer];
  // Labels a message carries are never trusted: each copy gets the ones this region computes.
  const share = <T extends Resource>(r: T) => labelledAs(r, organisations, message.sourceService);
  const orderIdentifier = requireIdentifier(order.resource, order.index);
  const taskIdentifier = requireIdentifier(task.resource, task.index);
  const nhsIdentifier = requireIdentifier(patient.resource, patient.index);

  const existingPatient = await searchOne<Patient>(deps.store, 'Patient', {
    identifier: token(nhsIdentifier.system ?? '', nhsIdentifier.value ?? ''),
  });
  // An existing Patient gains the new organisations' access; the carried one is stored only if new.
  // Each copy is built from a carried entry validated on arrival (copiedEntries), or from this store's own
  // Patient, with this region's labels and references: marked so, unless its source changed since.
  const patientEntry: BundleEntry = existingPatient
    ? {
        resource: builtFromValidated(withAccess(existingPatient, organisations)),
        request: {
          method: 'PUT',
          url: `Patient/${existingPatient.id}`,
          ifMatch: `W/"${existingPatient.meta?.versionId}"`,
        },
      }
    : {
        fullUrl: patient.fullUrl,
        // Who named its GP practice is for this region's registrants to say, never for a message.
        resource: builtFromValidated(labelledAs(withoutNamers(patient.resource), organisations), [patient.resource]),
        request: { method: 'POST', url: 'Patient', ifNoneExist: identifierQuery(nhsIdentifier) },
      };
  const patientRef = existingPatient ? `Patient/${existingPatient.id}` : patient.fullUrl;
  const retarget = <T extends Resource>(r: T): T =>
    JSON.parse(JSON.stringify(r).replaceAll(patient.fullUrl, patientRef)) as T;
  const localOrder = builtFromValidated(share(retarget(order.resource)), [order.resource]);
  const localTask = builtFromValidated(share(retarget(task.resource)), [task.resource]);
  // The case is the Task's (its requester's: the authority rule refused one held for another requester).
  const caseId = caseOfTask(task.resource) ?? (orderIdentifier.value as string);
  const watches = testWatchEntries(deps, {
    order: localOrder,
    orderUrl: order.fullUrl,
    patient: { reference: patientRef },
    correlationId: caseId,
    organisations: organisations.filter((o): o is string => !!o),
  });
  const entries: BundleEntry[] = [
    patientEntry,
    {
      fullUrl: order.fullUrl,
      resource: localOrder,
      request: { method: 'POST', url: 'ServiceRequest', ifNoneExist: identifierQuery(orderIdentifier) },
    },
    {
      fullUrl: task.fullUrl,
      resource: localTask,
      request: { method: 'POST', url: 'Task', ifNoneExist: identifierQuery(taskIdentifier) },
    },
    // This region serves the performer: it watches the order's turnaround from here. The watch holds the
    // order's identifiers, performer and times, the case id and this region's own schedule.
    ...watches.map((entry) =>
      entry.resource ? { ...entry, resource: builtFromValidated(entry.resource, [localOrder, task.resource]) } : entry,
    ),
  ];
  return { entries, caseId };
}

/** A status change made in the other region, applied to this region's copy of the Task. */
async function taskUpdateFrom(deps: GatewayDeps, message: ParsedMessage): Promise<MessageChanges> {
  const incoming = message.focus.resource as Task;
  const identifier = requireIdentifier(incoming, message.focus.index);
  const local = await searchOne<Task>(deps.store, 'Task', {
    identifier: token(identifier.system ?? '', identifier.value ?? ''),
  });
  // The order goes before any update to the same region, so a Task that is not here never will be:
  // the sender parks the update (409) rather than retrying it.
  if (!local)
    throw new OutcomeError(
      conflict(`No Task ${identifier.value} here`, `Bundle.entry[${message.focus.index}].resource.identifier`),
    );
  const from = await authorise(deps, message, {
    requester: odsOf(local.requester),
    performer: odsOf(local.owner),
    peer: peerOf(local),
    // What a requester's cancel is checked against: the stored Task's state, not the message's claim.
    status: local.status,
  });
  // An alert changes only through its own events (alert-acknowledged, alert-action-recorded).
  if (taskCodeOf(local) !== 'fulfil')
    throw new OutcomeError(
      unprocessable(
        `Task ${identifier.value} is not a fulfilment Task: task-update does not apply to it`,
        `Bundle.entry[${message.focus.index}].resource.identifier`,
      ),
    );
  const resolved = await resolveLogicalReferences(deps.store, incoming);
  // Its results as this region holds them: another order's report here is not this Task's to name.
  const outputs = await outputProblems(deps.store, orderReference(local.focus), resolved.output, {
    issuedReports: resolved.status === 'completed',
  });
  if (outputs.length)
    refuse(
      deps,
      message,
      outputs.map((p) => ({
        text: p.text,
        expression: `Bundle.entry[${message.focus.index}].resource.output[${p.index}].valueReference`,
      })),
    );
  const updated = applyTaskUpdate(local, resolved, deps.clock.now(), from);
  const caseId = caseOfTask(local);
  if (!updated) return { entries: [], ...(caseId ? { caseId } : {}) };
  return {
    entries: [
      {
        resource: updated,
        request: { method: 'PUT', url: `Task/${local.id}`, ifMatch: `W/"${local.meta?.versionId}"` },
      },
    ],
    ...(caseId ? { caseId } : {}),
  };
}

/**
 * A report (and its studies) issued in the other region, for the referrer here; its alert, if it has one,
 * is raised here in the same transaction, its windows running from when the performer's gateway issued it.
 */
async function reportFrom(deps: GatewayDeps, message: ParsedMessage): Promise<MessageChanges> {
  const report = message.focus as { resource: DiagnosticReport; fullUrl: string; index: number };
  const basedOn = await resolveLogicalReferences(deps.store, report.resource);
  // One order, as for a report a provider issues here (results.ts): a region cannot send what a RIS cannot write.
  const [first, second] = orderEntries(basedOn.basedOn);
  if (second)
    refuse(deps, message, [
      {
        text: 'A report is based on exactly one order',
        expression: `Bundle.entry[${report.index}].resource.basedOn[${second.index}]`,
      },
    ]);
  const orderRef = orderReference(first?.ref);
  // Reports go back to the region that placed the order: one that knows no such order never will.
  if (!orderRef) {
    throw new OutcomeError(
      conflict('The report is based on no order known here', `Bundle.entry[${report.index}].resource.basedOn`),
    );
  }
  const order = await deps.store.read<ServiceRequest>('ServiceRequest', orderRef.split('/')[1] as string);
  await authorise(deps, message, {
    requester: odsOf(order.requester),
    performer: odsOf(order.performer?.[0]),
    peer: peerOf(order),
  });
  const organisations = accessOrganisations(order);
  const entries: BundleEntry[] = [];
  for (const carried of [
    ...entriesOf<ImagingStudy>(message, 'ImagingStudy'),
    ...entriesOf(message, 'Endpoint'),
    report,
  ]) {
    const resolved = carried === report ? basedOn : await resolveLogicalReferences(deps.store, carried.resource);
    // Never filed against another patient, or another order, whatever the performer's region sent.
    if (resolved.resourceType === 'ImagingStudy' || resolved.resourceType === 'DiagnosticReport') {
      checkSameSubject(order, resolved.subject, `Bundle.entry[${carried.index}].resource.subject`);
      if (orderOfResult(resolved) !== orderRef)
        refuse(deps, message, [
          {
            text: `A ${resolved.resourceType} sent with a report is based on the report's order alone`,
            expression: `Bundle.entry[${carried.index}].resource.basedOn`,
          },
        ]);
    }
    if (resolved.resourceType === 'ImagingStudy') await assertSendersEndpoints(deps, message, carried.index, resolved);
    const identifier = businessIdentifier(resolved);
    if (identifier) await assertSendersCopy(deps, message, carried.index, resolved, identifier, orderRef);
    entries.push({
      fullUrl: carried.fullUrl,
      resource: labelledAs(resolved, organisations, message.sourceService),
      request: {
        method: 'POST',
        url: resolved.resourceType,
        ...(identifier ? { ifNoneExist: identifierQuery(identifier) } : {}),
      },
    });
  }
  // The studies it cites are its order's: one held here for another order is not this report's to cite.
  const cited = await citedStudyProblems(deps.store, basedOn, orderRef);
  if (cited.length)
    refuse(
      deps,
      message,
      cited.map((p) => ({
        text: p.text,
        expression: `Bundle.entry[${report.index}].resource.imagingStudy[${p.index}]`,
      })),
    );
  const sentAt = new Date(message.bundle.timestamp ?? '');
  const now = deps.clock.now();
  const caseId = await caseOf(deps, order, businessIdentifier(report.resource)?.value ?? orderRef);
  const alert = await raiseAlert(deps, {
    report: basedOn,
    reportUrl: report.fullUrl,
    order,
    issuedAt: Number.isNaN(sentAt.getTime()) || sentAt > now ? now : sentAt,
    correlationId: caseId,
  });
  const changes = [
    ...entries,
    ...(await tasksCitingReport(deps, orderRef, businessIdentifier(report.resource), report.fullUrl)),
    ...alert,
  ];
  return { entries: changes, caseId };
}

/**
 * A carried study, endpoint or report is stored with a conditional create on its business identifier (the
 * one it may carry: the authority rule refused a second). One already here under that identifier is what
 * this message then points at, so it must be the sender's own copy: one it sent before, for this order (a
 * study or report), a copy it shares. Another region's, or this region's own, is not its to match: a Study
 * Instance UID or endpoint identifier is not namespaced, so a sender could otherwise file a later result
 * against the record it planted. Refused as the authority rule refuses, and nothing is written.
 */
async function assertSendersCopy(
  deps: GatewayDeps,
  message: ParsedMessage,
  index: number,
  resource: Resource,
  identifier: Identifier,
  orderRef: string,
): Promise<void> {
  const existing = await searchOne<Resource>(deps.store, resource.resourceType, {
    identifier: token(identifier.system ?? '', identifier.value ?? ''),
  });
  if (!existing) return;
  const basedOn = (existing as { basedOn?: Reference[] }).basedOn;
  const sameOrder = resource.resourceType === 'Endpoint' || !!basedOn?.some((b) => b.reference === orderRef);
  if (peerOf(existing) === message.sourceService && sameOrder) return;
  const position = (resource as { identifier?: Identifier[] }).identifier?.findIndex(
    (i) => i.system === identifier.system && i.value === identifier.value,
  );
  refuse(deps, message, [
    {
      text: `${identifier.system}|${identifier.value} identifies a ${resource.resourceType} here that is not ${message.sourceService}'s for this order`,
      expression: `Bundle.entry[${index}].resource.identifier[${position ?? 0}]`,
    },
  ]);
}

/**
 * A carried study's endpoints are the sender's: ones it carries (each checked as its own copy), or ones it
 * sent before. One named by identifier that resolves to another's Endpoint here (this region's own PACS, or
 * another region's) is not where the study's images are, and the referrer's viewer would fetch from it.
 */
async function assertSendersEndpoints(
  deps: GatewayDeps,
  message: ParsedMessage,
  index: number,
  study: ImagingStudy,
): Promise<void> {
  const cited = [
    ...(study.endpoint ?? []).map((ref, i) => ({ ref, at: `endpoint[${i}]` })),
    ...(study.series ?? []).flatMap((series, j) =>
      (series.endpoint ?? []).map((ref, i) => ({ ref, at: `series[${j}].endpoint[${i}]` })),
    ),
  ];
  const problems: { text: string; expression: string }[] = [];
  for (const { ref, at } of cited) {
    const endpoint = await readLocal<Endpoint>(deps.store, ref.reference, ['Endpoint']);
    if (endpoint && peerOf(endpoint) !== message.sourceService)
      problems.push({
        text: `${ref.reference} is an Endpoint here that ${message.sourceService} did not send`,
        expression: `Bundle.entry[${index}].resource.${at}`,
      });
  }
  if (problems.length) refuse(deps, message, problems);
}

/** A refusal of what a message carries: a 403 that writes nothing, logged here, parked by the sender. */
function refuse(deps: GatewayDeps, message: ParsedMessage, problems: { text: string; expression: string }[]): never {
  const error = new OutcomeError(messageRefusal(problems));
  deps.logger.warn('message refused: it breaks a rule of the pathway', {
    event: message.event.code,
    from: message.sourceService,
    reason: error.message,
  });
  throw error;
}

/**
 * A Task update that names this report may have arrived first (its output still a logical reference):
 * point it at the report now.
 */
async function tasksCitingReport(
  deps: GatewayDeps,
  orderRef: string,
  identifier: Identifier | undefined,
  reportUrl: string,
): Promise<BundleEntry[]> {
  if (!identifier) return [];
  const cites = (ref: Reference | undefined): boolean =>
    !!ref &&
    !ref.reference &&
    ref.identifier?.system === identifier.system &&
    ref.identifier?.value === identifier.value;
  const tasks = await searchAll<Task>(deps.store, 'Task', { focus: orderRef });
  return tasks
    .filter((t) => t.output?.some((o) => cites(o.valueReference)))
    .map((t) => ({
      resource: {
        ...t,
        output: t.output?.map((o) =>
          cites(o.valueReference) ? { ...o, valueReference: { ...o.valueReference, reference: reportUrl } } : o,
        ),
      },
      request: { method: 'PUT' as const, url: `Task/${t.id}`, ifMatch: `W/"${t.meta?.versionId}"` },
    }));
}

function requireIdentifier(resource: Resource, index: number): NonNullable<ReturnType<typeof businessIdentifier>> {
  const identifier = businessIdentifier(resource);
  if (!identifier) {
    throw new OutcomeError(
      unprocessable(
        `The ${resource.resourceType} carries no business identifier`,
        `Bundle.entry[${index}].resource.identifier`,
      ),
    );
  }
  return identifier;
}
