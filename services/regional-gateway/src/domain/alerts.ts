import type {
  BundleEntry,
  CodeableConcept,
  Communication,
  Device,
  DiagnosticReport,
  Encounter,
  Patient,
  Reference,
  ServiceRequest,
  Task,
} from '@medplum/fhirtypes';
import {
  ALERT_CATEGORY_INFO,
  alertCategoryOf,
  CODE_SYSTEMS,
  EXTENSIONS,
  isOutcomeError,
  mdtSiteOf,
  NHS_NUMBER_SYSTEM,
  nhsNumberOf,
  odsOf,
  odsReference,
  searchOne,
  suspectedPrimarySiteOf,
  SYSTEMS,
} from '@imaging/fhir';
import type { AcknowledgedAlertCategory, AlertStep, WithId } from '@imaging/fhir';
import { ALERT_COPIED, buildMessage, PRACTICE_COPY_KEY, requestIdFor } from '@imaging/messaging';
import type { ActorReference, NewAlert } from './alert-task.ts';
import { alertCategoryConcept, alertIdentifier, alertTask, LADDERS, withNextCheck } from './alert-task.ts';
import type { AlertParties, Climb, SkippedStep } from './alert-recipients.ts';
import { climbLadder, recipientAt, roleReference } from './alert-recipients.ts';
import type { AuditActor } from './audit.ts';
import { auditEntry } from './audit.ts';
import { spinalOnCallRecipients } from './ces.ts';
import { businessIdentifier, caseOfTask, identifierQuery } from './identifiers.ts';
import { accessOrganisations, labelledAs, peerOf } from './labels.ts';
import { storedPatientOf } from './patients.ts';
import { practiceNamedBy } from './registered-practice.ts';
import { deliveryEntries } from './outbox.ts';
import type { GatewayDeps, ServiceLocation } from './ports.ts';
import { safetyOn } from './ports.ts';

/**
 * Raising an alert (DOMAIN.md requirements 8-11, 14): any category but NONE creates, in the requester's
 * region and in the same transaction as the report is stored there, an acknowledgement Task for the
 * requester and a Communication to the requester and their delegate (and, after discharge, the registered
 * GP practice). When the requester is in another region, the performer's region keeps a watch Task of its
 * own, with its own timer, so that neither side alone can fail silently (docs/clinical-safety.md).
 */

/** A report being stored, with what raising its alert needs. */
export interface IssuedReport {
  /** The report as stored, with its business identifier. */
  report: DiagnosticReport;
  /** How the transaction that stores the report refers to it (`urn:uuid:`). */
  reportUrl: string;
  /** This region's copy of the order, with its access labels. */
  order: WithId<ServiceRequest>;
  /** When the performing region's gateway issued it: every window runs from here, in both regions. */
  issuedAt: Date;
  correlationId: string;
}

/** What each alert AuditEvent records (CODE_SYSTEMS.auditSubtype). */
export const ALERT_AUDIT = {
  'alert-raised': 'Result alert raised for the requester',
  'alert-watch-raised': "Performer's watch on a result alert raised",
  'alert-step-skipped': 'Escalation step passed: nobody there can receive the alert',
  'alert-escalated': 'Result alert escalated',
  'alert-acknowledged': 'Result alert acknowledged',
  'alert-action-recorded': 'Action taken on a result alert recorded',
  'alert-patient-notified': 'Patient told of an unacknowledged result alert',
  'alert-watch-updated': "Performer's watch updated from the requester's region",
  'alert-mdt-notified': 'Cancer MDT told of a CANCER alert',
  'alert-copy-sent': "Result alert copied to the discharged patient's GP practice in another region",
  'alert-copy-received': "Result alert received for a discharged patient's GP practice here",
  'alert-discharge-copied': 'Open result alert sent to the GP practice of a patient discharged after it was raised',
} as const;
export type AlertAuditSubtype = keyof typeof ALERT_AUDIT;

const COMMUNICATION_CATEGORY = 'http://terminology.hl7.org/CodeSystem/communication-category';

/** The case an order belongs to: its fulfilment Task's correlation id, shared by every message about it. */
export async function caseOf(deps: GatewayDeps, order: WithId<ServiceRequest>, fallback: string): Promise<string> {
  const fulfilment = await searchOne<Task>(deps.store, 'Task', {
    focus: `ServiceRequest/${order.id}`,
    code: `${CODE_SYSTEMS.taskCode}|fulfil`,
  });
  return (fulfilment && caseOfTask(fulfilment)) || fallback;
}

/** The category of an alert that needs an answer, or undefined for NONE (or no valid category). */
export function acknowledgedCategoryOf(report: DiagnosticReport): AcknowledgedAlertCategory | undefined {
  const category = alertCategoryOf(report);
  return category && category !== 'NONE' ? category : undefined;
}

/**
 * The entries that raise the requester's alert on a report: the acknowledgement Task, the Communication
 * that tells the requester and their delegate, and an AuditEvent for the alert and for each step passed
 * because nobody there could receive it. None for a NONE report, or when this report's alert exists.
 */
/**
 * What an acknowledgement Task and a watch have in common: one of each kind per report (none when the
 * report has no alert, or its Task exists already), due from when the performer's gateway issued it.
 */
async function newAlertOn(deps: GatewayDeps, issued: IssuedReport, kind: NewAlert['kind']) {
  if (!safetyOn(deps)) return undefined;
  const category = acknowledgedCategoryOf(issued.report);
  const reportIdentifier = businessIdentifier(issued.report)?.value;
  if (!category || !reportIdentifier) return undefined;
  const identifier = alertIdentifier(reportIdentifier, kind);
  const taskIdentifier = { system: SYSTEMS.task, value: identifier };
  if (await searchOne(deps.store, 'Task', identifierQuery(taskIdentifier))) return undefined;
  const { order } = issued;
  const now = deps.clock.now();
  const dueAt = new Date(issued.issuedAt.getTime() + deps.alerts.acknowledgementWindowsMs[category]);
  const common = {
    kind,
    identifier,
    correlationId: issued.correlationId,
    category,
    report: { reference: issued.reportUrl },
    order: { reference: `ServiceRequest/${order.id}` },
    ...(order.subject ? { patient: order.subject as Reference<Patient> } : {}),
    raisedAt: now,
    acknowledgementDueAt: dueAt,
    state: 'raised' as const,
    recipients: [],
    lastModified: now,
  };
  return { category, taskIdentifier, order, now, dueAt, common };
}

export async function raiseAlert(deps: GatewayDeps, issued: IssuedReport): Promise<BundleEntry[]> {
  const raising = await newAlertOn(deps, issued, 'acknowledge-result');
  if (!raising) return [];
  const { category, taskIdentifier, order, now, dueAt, common } = raising;
  const requester = odsOf(order.requester) as string;
  const named = order.extension?.find((e) => e.url === EXTENSIONS.requestingClinician)?.valueReference;
  const alert: NewAlert = {
    ...common,
    owner: named ? ({ ...named, type: 'PractitionerRole' } as ActorReference) : odsReference(requester),
    ownerOrganisation: requester,
    performer: odsOf(order.performer?.[0]) as string,
    step: 'requester',
    stepDueAt: dueAt,
    patientNotificationDueAt: new Date(issued.issuedAt.getTime() + deps.alerts.patientNotifyAfterMs),
  };
  const climb = await firstRecipient(deps, alert);
  const recipients = [climb.recipient.reference];
  if (climb.recipient.step === 'requester') {
    // The delegate hears of it from the start, so cover is in place before anything is overdue.
    const delegate = await recipientAt(deps, alert, 'delegate').catch(() => undefined);
    if (delegate && !delegate.cannotReceive) recipients.push(delegate.reference);
  }
  const practice = await dischargedPatientsPractice(deps, order, requester);
  if (practice) recipients.push(practice.reference);
  // A CRITICAL finding on a suspected-CES MRI also goes to the spinal on-call team (requirement 19).
  const spinal = await spinalOnCallRecipients(deps, order, category);
  const known = new Set(recipients.map(recipientKey));
  recipients.push(...spinal.filter((r) => !known.has(recipientKey(r))));
  const raised = withNextCheck({ ...alert, step: climb.recipient.step, recipients }, deps.alerts.notificationLeaseMs);
  const taskUrl = `urn:uuid:${crypto.randomUUID()}`;
  const task = labelledAs(alertTask(raised), accessOrganisations(order), peerOf(order));
  const entries: BundleEntry[] = [
    {
      fullUrl: taskUrl,
      resource: task,
      request: { method: 'POST', url: 'Task', ifNoneExist: identifierQuery(taskIdentifier) },
    },
    communicationEntry(
      alertCommunication({
        alert: raised,
        task: { reference: taskUrl },
        key: 'raised',
        recipients,
        sender: odsReference(raised.performer),
        sent: now,
        text: [
          `${ALERT_CATEGORY_INFO[category].display} alert on an imaging report: ${ALERT_CATEGORY_INFO[category].meaning}`,
          `Acknowledge by ${dueAt.toISOString()}.`,
          ...(spinal.length ? ['Suspected cauda equina syndrome: the spinal on-call team is told.'] : []),
          ...(issued.report.conclusion ? [`Conclusion: ${issued.report.conclusion}`] : []),
        ],
      }),
      accessOrganisations(order),
    ),
    ...skippedEntries(deps, raised, taskUrl, climb.skipped, now),
    ...(practice && practice.location.serviceId !== deps.region.serviceId
      ? alertCopyEntries(deps, {
          alert: raised,
          order,
          report: issued.report,
          reportRef: issued.reportUrl,
          practice,
          taskRef: taskUrl,
          now,
          discharged: 'before',
        })
      : []),
    auditEntry(deps.region, {
      subtype: 'alert-raised',
      description: ALERT_AUDIT['alert-raised'],
      action: 'C',
      who: 'system',
      what: [{ reference: taskUrl }, { reference: issued.reportUrl }],
      ...(raised.patient ? { patient: raised.patient } : {}),
      correlationId: raised.correlationId,
      detail: {
        category,
        step: raised.step,
        'acknowledgement-due': dueAt.toISOString(),
        recipients: recipients.map(recipientName).join('; '),
      },
      recorded: now,
    }),
  ];
  return entries;
}

/**
 * The performer's watch on an alert it raised for a requester in another region: silent at first, it
 * escalates to this network's fail-safe officer if no acknowledgement reaches it one step after the
 * requester's due time, even when the requester's region cannot be reached at all.
 */
export async function raiseWatch(deps: GatewayDeps, issued: IssuedReport): Promise<BundleEntry[]> {
  const raising = await newAlertOn(deps, issued, 'watch-acknowledgement');
  if (!raising) return [];
  const { category, taskIdentifier, order, now, dueAt, common } = raising;
  const performer = odsOf(order.performer?.[0]) as string;
  const watch = withNextCheck<NewAlert>(
    {
      ...common,
      owner: odsReference(performer),
      ownerOrganisation: performer,
      performer,
      step: 'watching',
      stepDueAt: new Date(dueAt.getTime() + deps.alerts.escalationStepsMs[category]),
    },
    deps.alerts.notificationLeaseMs,
  );
  const taskUrl = `urn:uuid:${crypto.randomUUID()}`;
  return [
    {
      fullUrl: taskUrl,
      resource: labelledAs(alertTask(watch), accessOrganisations(order), peerOf(order)),
      request: { method: 'POST', url: 'Task', ifNoneExist: identifierQuery(taskIdentifier) },
    },
    auditEntry(deps.region, {
      subtype: 'alert-watch-raised',
      description: ALERT_AUDIT['alert-watch-raised'],
      action: 'C',
      who: 'system',
      what: [{ reference: taskUrl }, { reference: issued.reportUrl }],
      ...(watch.patient ? { patient: watch.patient } : {}),
      correlationId: watch.correlationId,
      detail: { category, 'first-check': (watch.stepDueAt as Date).toISOString() },
      recorded: now,
    }),
  ];
}

/**
 * Where the alert starts: the first step where someone can receive it. When the directory cannot be
 * reached, the report is not held up: the alert goes to its owner as the order names them, and the
 * escalation job consults the directory at the next step.
 */
export async function firstRecipient(deps: GatewayDeps, alert: AlertParties & { identifier: string }): Promise<Climb> {
  try {
    return await climbLadder(deps, alert, 0);
  } catch (err) {
    if (!isOutcomeError(err) || err.status < 500) throw err;
    deps.logger.warn('directory unavailable while raising an alert: it goes to its owner as the order names them', {
      alert: alert.identifier,
      reason: err.message,
    });
    return { recipient: { step: LADDERS[alert.kind][0] as AlertStep, reference: alert.owner }, skipped: [] };
  }
}

/** A discharged patient's registered GP practice, where the directory says it is served. */
export interface Practice {
  reference: ActorReference;
  location: ServiceLocation;
  /** The patient's NHS number, by which the practice's region knows them. */
  nhsNumber?: string;
}

/**
 * After discharge the alert also goes to the patient's registered GP practice (requirement 14): the one the
 * requester named when it registered the patient (registered-practice.ts), never one another registrant
 * named, when that is not the requester itself and the directory knows it. The order carries its encounter,
 * contained: the patient is discharged when it is finished or has ended.
 */
export async function dischargedPatientsPractice(
  deps: GatewayDeps,
  order: ServiceRequest,
  requester: string,
): Promise<Practice | undefined> {
  const ref = order.encounter?.reference;
  const encounter = ref?.startsWith('#')
    ? (order.contained?.find((r) => r.resourceType === 'Encounter' && r.id === ref.slice(1)) as Encounter | undefined)
    : undefined;
  if (!encounter || !(encounter.status === 'finished' || encounter.period?.end)) return undefined;
  const patient = await storedPatientOf(deps.store, order.subject);
  if (!patient) return undefined;
  const practice = practiceNamedBy(patient, requester);
  if (!practice || practice === requester) return undefined;
  const location = await deps.hub.findService(practice).catch(() => undefined);
  if (!location) {
    deps.logger.warn("the discharged patient's GP practice is not in the directory", { practice });
    return undefined;
  }
  const nhsNumber = nhsNumberOf(patient);
  return { reference: odsReference(practice), location, ...(nhsNumber ? { nhsNumber } : {}) };
}

/** What a copy of an alert for a discharged patient's GP practice needs. */
export interface PracticeCopy {
  alert: NewAlert;
  /** This region's copy of the order, and the report the alert is on. */
  order: ServiceRequest;
  report: DiagnosticReport;
  /** How the transaction refers to the report and the alert Task: `urn:uuid:` when created in it. */
  reportRef: string;
  taskRef: string;
  practice: Practice;
  now: Date;
  /** Whether the patient left before the report was issued, or after (when the alert was open already). */
  discharged: 'before' | 'after';
}

/** What the practice's copy says: the alert, whose it is to answer, and the report's conclusion. */
export function practiceCopyText(copy: Pick<PracticeCopy, 'alert' | 'report' | 'discharged'>): string[] {
  const { alert, report, discharged } = copy;
  return [
    `${ALERT_CATEGORY_INFO[alert.category].display} alert on an imaging report for a patient registered with you, discharged ${discharged} the result was issued.`,
    `The requester (${alert.ownerOrganisation}) must acknowledge it by ${alert.acknowledgementDueAt.toISOString()}.`,
    ...(report.conclusion ? [`Conclusion: ${report.conclusion}`] : []),
  ];
}

/**
 * The copy of an alert for a discharged patient's GP practice served by another region: its Communication,
 * naming the alert, the order, the report and the patient by identifier (what the practice's region knows
 * them by), sent to that region through the outbox in the alert's own transaction, with an AuditEvent.
 */
export function alertCopyEntries(deps: GatewayDeps, input: PracticeCopy): BundleEntry[] {
  const { alert, practice, now } = input;
  const placer = input.order.identifier?.find((i) => i.system === SYSTEMS.placerOrder);
  const report = businessIdentifier(input.report);
  const communication = alertCommunication({
    alert,
    task: { type: 'Task', identifier: { system: SYSTEMS.task, value: alert.identifier } },
    key: PRACTICE_COPY_KEY,
    recipients: [practice.reference],
    // From the requester, whose region sends it (the performer may be another region's: alertCopyRefusals).
    sender: odsReference(alert.ownerOrganisation),
    sent: now,
    text: practiceCopyText(input),
  });
  const copy = {
    ...communication,
    basedOn: [
      ...(communication.basedOn ?? []),
      ...(placer ? [{ type: 'ServiceRequest' as const, identifier: placer }] : []),
    ],
    about: report ? [{ type: 'DiagnosticReport' as const, identifier: report }] : [],
    ...(practice.nhsNumber
      ? { subject: { type: 'Patient' as const, identifier: { system: NHS_NUMBER_SYSTEM, value: practice.nhsNumber } } }
      : { subject: undefined }),
  };
  const message = buildMessage({
    event: ALERT_COPIED,
    timestamp: now.toISOString(),
    sourceService: deps.region.serviceId,
    destinationService: practice.location.serviceId,
    focus: copy,
    resources: [],
    identifierOf: () => undefined,
  });
  return [
    ...deliveryEntries(
      {
        kind: 'deliver-message',
        requestId: requestIdFor(ALERT_COPIED.code, alert.identifier),
        correlationId: alert.correlationId,
        destination: practice.location.serviceId,
        message,
        ...(alert.patient ? { patient: alert.patient } : {}),
      },
      deps.region.regionId,
      now,
    ),
    auditEntry(deps.region, {
      subtype: 'alert-copy-sent',
      description: ALERT_AUDIT['alert-copy-sent'],
      action: 'E',
      who: 'system',
      what: [{ reference: input.taskRef }, { reference: input.reportRef }],
      ...(alert.patient ? { patient: alert.patient } : {}),
      correlationId: alert.correlationId,
      detail: { practice: recipientName(practice.reference), region: practice.location.regionId },
      recorded: now,
    }),
  ];
}

/**
 * A CANCER alert also reaches the site-specific MDT of the performing trust (requirement 11). It is told in
 * the performer's region, where the report is issued and the trust's MDT works, whatever region the
 * requester is in: the MDT for the suspected primary site (`mdt-<site>`), else the trust's cancer MDT
 * (`cancer-mdt`), else the trust itself, so nothing is dropped. A Communication and an AuditEvent, in the
 * report's transaction; when the directory cannot be reached the trust itself is told rather than wait.
 */
export async function notifyCancerMdt(deps: GatewayDeps, issued: IssuedReport): Promise<BundleEntry[]> {
  const reportIdentifier = businessIdentifier(issued.report)?.value;
  if (!safetyOn(deps) || acknowledgedCategoryOf(issued.report) !== 'CANCER' || !reportIdentifier) return [];
  const performer = odsOf(issued.order.performer?.[0]) as string;
  const site = suspectedPrimarySiteOf(issued.report);
  const key = mdtSiteOf(site);
  const roles = await deps.hub.findAlertRoles({ ods: performer }).catch((err: unknown) => {
    if (!isOutcomeError(err) || err.status < 500) throw err;
    deps.logger.warn('directory unavailable while telling the cancer MDT: the trust itself is told', {
      report: reportIdentifier,
      reason: err.message,
    });
    return undefined;
  });
  const mdt =
    (key ? roles?.find((r) => r.role === `mdt-${key}` && r.active) : undefined) ??
    roles?.find((r) => r.role === 'cancer-mdt' && r.active);
  if (!mdt) deps.logger.warn('no cancer MDT in the directory: the trust itself is told', { performer });
  const recipient = mdt ? roleReference(mdt) : odsReference(performer);
  const now = deps.clock.now();
  const siteText = site?.coding?.[0]?.display ?? site?.text ?? site?.coding?.[0]?.code ?? 'not named';
  const { order } = issued;
  const correlationId = issued.correlationId;
  const patient = order.subject as Reference<Patient> | undefined;
  const communication = alertCommunication({
    alert: {
      identifier: `${reportIdentifier}-mdt`,
      category: 'CANCER',
      report: { reference: issued.reportUrl },
      ...(patient ? { patient } : {}),
    },
    task: { reference: `ServiceRequest/${order.id}` },
    key: 'notice',
    recipients: [recipient],
    sender: odsReference(performer),
    sent: now,
    text: [
      `Cancer alert on an imaging report: suspected new primary, site ${siteText}, for the MDT's review.`,
      `Requested by ${odsOf(order.requester) ?? 'an unknown requester'}, who is alerted to acknowledge and act.`,
      ...(issued.report.conclusion ? [`Conclusion: ${issued.report.conclusion}`] : []),
    ],
  });
  const communicationUrl = `urn:uuid:${crypto.randomUUID()}`;
  return [
    { ...communicationEntry(communication, [performer]), fullUrl: communicationUrl },
    auditEntry(deps.region, {
      subtype: 'alert-mdt-notified',
      description: ALERT_AUDIT['alert-mdt-notified'],
      action: 'E',
      who: 'system',
      what: [{ reference: communicationUrl }, { reference: issued.reportUrl }],
      ...(patient ? { patient } : {}),
      correlationId,
      detail: { mdt: recipientName(recipient), site: siteText, ...(key ? { 'mdt-site': key } : {}) },
      recorded: now,
    }),
  ];
}

export interface AlertCommunicationInput {
  alert: Pick<NewAlert, 'identifier' | 'category' | 'report' | 'patient'>;
  /** The alert Task: its `urn:uuid:` in the transaction that creates it, else `Task/id`. */
  task: Reference;
  /** Makes the Communication's identifier, with the alert's: the same on a retry, another per event. */
  key: string;
  recipients: ActorReference[];
  sender: ActorReference | Reference<Device>;
  sent: Date;
  text: string[];
  /** How it was communicated (e.g. verbal); the default is an electronic alert. */
  medium?: CodeableConcept;
  /** Why it was sent (e.g. an escalation). */
  reason?: string;
}

/** A Communication about an alert's report, part of its trail (basedOn the alert Task). */
export function alertCommunication(input: AlertCommunicationInput): Communication {
  const { alert } = input;
  return {
    resourceType: 'Communication',
    identifier: [{ system: SYSTEMS.communication, value: `${alert.identifier}-${input.key}` }],
    basedOn: [input.task],
    status: 'completed',
    category: [
      { coding: [{ system: COMMUNICATION_CATEGORY, code: 'alert', display: 'Alert' }] },
      alertCategoryConcept(alert.category),
    ],
    priority: ALERT_CATEGORY_INFO[alert.category].priority,
    ...(input.medium ? { medium: [input.medium] } : {}),
    ...(alert.patient ? { subject: alert.patient } : {}),
    about: [alert.report],
    sent: input.sent.toISOString(),
    recipient: input.recipients,
    sender: input.sender,
    ...(input.reason ? { reasonCode: [{ text: input.reason }] } : {}),
    payload: input.text.map((contentString) => ({ contentString })),
  };
}

/**
 * The transaction entry for an alert's Communication, created once: visible to the organisations of its
 * order and to each organisation it is sent to (a GP practice told after discharge is a party to it too).
 */
export function communicationEntry(communication: Communication, organisations: string[]): BundleEntry {
  const identifier = communication.identifier?.[0] as { system: string; value: string };
  const recipients = (communication.recipient ?? []).map((r) => odsOf(r));
  return {
    fullUrl: `urn:uuid:${crypto.randomUUID()}`,
    resource: labelledAs(communication, [...organisations, ...recipients]),
    request: { method: 'POST', url: 'Communication', ifNoneExist: identifierQuery(identifier) },
  };
}

/** An AuditEvent for each ladder step passed because nobody there could receive the alert. */
export function skippedEntries(
  deps: GatewayDeps,
  alert: Pick<NewAlert, 'patient' | 'correlationId'>,
  task: string,
  skipped: SkippedStep[],
  now: Date,
  who: AuditActor = 'system',
): BundleEntry[] {
  return skipped.map((s) =>
    auditEntry(deps.region, {
      subtype: 'alert-step-skipped',
      description: ALERT_AUDIT['alert-step-skipped'],
      action: 'U',
      who,
      what: [{ reference: task }],
      ...(alert.patient ? { patient: alert.patient } : {}),
      correlationId: alert.correlationId,
      detail: { step: s.step, reason: s.reason },
      recorded: now,
    }),
  );
}

/** A recipient in a few words, for audit details and logs. */
export function recipientName(ref: Reference): string {
  return ref.display ?? ref.identifier?.value ?? ref.reference ?? '(unnamed)';
}

/** What makes two references the same recipient: the identifier they name, else the reference. */
export function recipientKey(ref: Reference): string {
  return ref.identifier ? `${ref.identifier.system}|${ref.identifier.value}` : (ref.reference ?? ref.display ?? '');
}
