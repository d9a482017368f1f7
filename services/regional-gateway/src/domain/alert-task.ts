import type {
  CodeableConcept,
  Coding,
  Meta,
  OperationOutcomeIssue,
  Organization,
  Patient,
  Practitioner,
  PractitionerRole,
  Reference,
  Task,
  TaskInput,
} from '@medplum/fhirtypes';
import {
  ALERT_CATEGORY_INFO,
  alertCategoryCoding,
  alertStepConcept,
  CODE_SYSTEMS,
  EXTENSIONS,
  isAlertCategory,
  isAlertStep,
  issue,
  odsOf,
  odsReference,
  OutcomeError,
  PROFILE_URLS,
  SYSTEMS,
  taskCodeConcept,
  taskCodeOf,
  unprocessableIssues,
} from '@imaging/fhir';
import { acknowledgementTaskIdentifier } from '@imaging/messaging';
import type { AcknowledgedAlertCategory, AlertStep } from '@imaging/fhir';

/**
 * An alert as its Task holds it, typed (docs/clinical-safety.md). Two kinds: the requester's
 * acknowledgement Task (code acknowledge-result), and the performer's watch on it when the requester is in
 * another region (watch-acknowledgement). `alertOf` decodes a Task once and `alertTask` encodes one back:
 * nothing outside this file knows which Task field carries what.
 */

export const ALERT_KINDS = ['acknowledge-result', 'watch-acknowledgement'] as const;
export type AlertKind = (typeof ALERT_KINDS)[number];

/** What climbs a ladder: an alert, or a turnaround breach (turnaround-task.ts), which reuses the alert's ladder. */
export type LadderKind = AlertKind | 'resolve-breach';

/** Someone an alert is for or goes to, or who answers it: a person in a role, a person, or an organisation. */
export type ActorReference = Reference<Organization | Practitioner | PractitionerRole>;

/** Raised (waiting for acknowledgement), acknowledged (CRITICAL and CANCER: waiting for the action), closed. */
export type AlertState = 'raised' | 'acknowledged' | 'closed';

const TASK_STATUS_OF: Readonly<Record<AlertState, 'requested' | 'in-progress' | 'completed'>> = {
  raised: 'requested',
  acknowledged: 'in-progress',
  closed: 'completed',
};

/** The Task statuses of an alert still open (raised or acknowledged), for a search. */
export const OPEN_ALERT_TASK_STATUSES = [TASK_STATUS_OF.raised, TASK_STATUS_OF.acknowledged].join(',');

/**
 * Each kind's escalation ladder, first step first. A step that cannot receive (someone who has left, an
 * organisation the directory does not know) is passed at once; the last step repeats until answered. A
 * turnaround breach climbs the imaging provider's own people, then the network's fail-safe officer.
 */
export const LADDERS: Readonly<Record<LadderKind, readonly AlertStep[]>> = {
  'acknowledge-result': ['requester', 'delegate', 'responsible', 'fail-safe-officer'],
  'watch-acknowledgement': ['watching', 'fail-safe-officer'],
  'resolve-breach': ['provider', 'delegate', 'responsible', 'fail-safe-officer'],
};

/** URGENT and SIGNIFICANT close on acknowledgement; CRITICAL and CANCER need the action recorded too. */
export function closesOnAcknowledgement(category: AcknowledgedAlertCategory): boolean {
  return category === 'URGENT' || category === 'SIGNIFICANT';
}

export interface AlertAcknowledgement {
  at: Date;
  by: ActorReference;
}

export type ActionKind = 'follow-up' | 'referral' | 'decision';

/** The action taken: a follow-up or referral (a ServiceRequest), or a coded decision. */
export interface AlertAction {
  kind: ActionKind;
  at: Date;
  by: ActorReference;
  /** For a follow-up or a referral. */
  request?: Reference;
  /** For a decision (CODE_SYSTEMS.alertDecision). */
  decision?: Coding;
  note?: string;
}

/** What became of an alert: the part of its Task that travels back to the performer's region. */
export interface AlertOutcome {
  acknowledgement?: AlertAcknowledgement;
  action?: AlertAction;
  /** CRITICAL: the Communication (medium verbal) recording that the finding was given by voice. */
  verbalCommunication?: Reference;
}

export interface Alert extends AlertOutcome {
  /** The Task's id and version: every change is a versioned update, so replicas never race. */
  id: string;
  versionId: string;
  /** The stored Task's meta (its access labels and peer tag), written back unchanged. */
  meta?: Meta;
  kind: AlertKind;
  /** The Task's business identifier (SYSTEMS.task). */
  identifier: string;
  correlationId: string;
  category: AcknowledgedAlertCategory;
  report: Reference;
  order: Reference;
  patient?: Reference<Patient>;
  /** Who the alert is for: the requesting clinician's PractitionerRole, or an organisation by ODS. */
  owner: ActorReference;
  /** The organisation that may answer the alert, by ODS code (the owner's). */
  ownerOrganisation: string;
  /** The performing organisation, which raised it, by ODS code. */
  performer: string;
  raisedAt: Date;
  acknowledgementDueAt: Date;
  state: AlertState;
  step: AlertStep;
  /** When the current step is overdue; absent once closed. */
  stepDueAt?: Date;
  /** Everyone the alert has gone to so far. */
  recipients: ActorReference[];
  /** When the patient is told if the alert is still unacknowledged (acknowledgement Tasks only). */
  patientNotificationDueAt?: Date;
  /** A replica claimed the notification at `claimedAt`; `sent` is the record of what was sent. */
  patientNotification?: { claimedAt: Date; sent?: Reference };
  /** When the escalation job must next look at it: the searchable next-check; absent once closed. */
  nextCheckAt?: Date;
  lastModified: Date;
}

/** An alert not stored yet. */
export type NewAlert = Omit<Alert, 'id' | 'versionId'>;

/** The Task inputs and outputs that carry an alert, by their `type.text`. */
const INPUT = {
  category: 'alert-category',
  ownerOrganisation: 'owner-organisation',
  acknowledgementDue: 'acknowledgement-due',
  patientNotificationDue: 'patient-notification-due',
} as const;
const OUTPUT = {
  acknowledgedAt: 'acknowledged-at',
  acknowledgedBy: 'acknowledged-by',
  actionRecordedAt: 'action-recorded-at',
  actionRecordedBy: 'action-recorded-by',
  actionNote: 'action-note',
  verbalCommunication: 'verbal-communication',
  patientNotificationClaimed: 'patient-notification-claimed',
  patientNotification: 'patient-notification',
} as const;
const ACTION_OUTPUT: Readonly<Record<ActionKind, string>> = {
  'follow-up': 'action-follow-up',
  referral: 'action-referral',
  decision: 'action-decision',
};

/** The business identifier of an alert's Task, from its report's: the same in every copy, every replay. */
export function alertIdentifier(reportIdentifier: string, kind: AlertKind): string {
  return kind === 'acknowledge-result' ? acknowledgementTaskIdentifier(reportIdentifier) : `${reportIdentifier}-watch`;
}

/**
 * When the escalation job must next look: the current step's due time, or the patient notification's
 * (its lease, once claimed) while an acknowledgement Task is still unacknowledged. Nothing once closed.
 */
export function withNextCheck<T extends NewAlert>(alert: T, notificationLeaseMs: number): T {
  if (alert.state === 'closed') return { ...alert, stepDueAt: undefined, nextCheckAt: undefined };
  const times = alert.stepDueAt ? [alert.stepDueAt.getTime()] : [];
  if (patientNotificationPending(alert)) {
    const claimed = alert.patientNotification?.claimedAt;
    times.push(claimed ? claimed.getTime() + notificationLeaseMs : (alert.patientNotificationDueAt as Date).getTime());
  }
  return { ...alert, nextCheckAt: times.length ? new Date(Math.min(...times)) : undefined };
}

/** An unacknowledged alert whose patient has not been told yet (and is due to be, some day). */
export function patientNotificationPending(alert: NewAlert): boolean {
  return (
    alert.kind === 'acknowledge-result' &&
    alert.state === 'raised' &&
    !!alert.patientNotificationDueAt &&
    !alert.patientNotification?.sent
  );
}

/** The Task for an alert: what to create, or to write back with a versioned update after a change. */
export function alertTask(alert: NewAlert | Alert): Task {
  const input: TaskInput[] = [
    { type: { text: INPUT.category }, valueCoding: alertCategoryCoding(alert.category) },
    { type: { text: INPUT.ownerOrganisation }, valueReference: odsReference(alert.ownerOrganisation) },
    { type: { text: INPUT.acknowledgementDue }, valueDateTime: alert.acknowledgementDueAt.toISOString() },
  ];
  if (alert.patientNotificationDueAt)
    input.push({
      type: { text: INPUT.patientNotificationDue },
      valueDateTime: alert.patientNotificationDueAt.toISOString(),
    });
  const task: Task = {
    resourceType: 'Task',
    ...('id' in alert ? { id: alert.id } : {}),
    meta: { ...alert.meta, profile: [PROFILE_URLS.Task] },
    identifier: [{ system: SYSTEMS.task, value: alert.identifier }],
    groupIdentifier: { system: SYSTEMS.correlation, value: alert.correlationId },
    basedOn: [alert.order],
    status: TASK_STATUS_OF[alert.state],
    businessStatus: alertStepConcept(alert.step),
    intent: 'order',
    priority: ALERT_CATEGORY_INFO[alert.category].priority,
    code: taskCodeConcept(alert.kind),
    focus: alert.report,
    ...(alert.patient ? { for: alert.patient } : {}),
    authoredOn: alert.raisedAt.toISOString(),
    lastModified: alert.lastModified.toISOString(),
    requester: odsReference(alert.performer),
    owner: alert.owner,
    restriction: {
      period: {
        start: alert.raisedAt.toISOString(),
        ...(alert.stepDueAt ? { end: alert.stepDueAt.toISOString() } : {}),
      },
      ...(alert.recipients.length ? { recipient: alert.recipients } : {}),
    },
    input,
  };
  if (alert.nextCheckAt)
    task.extension = [{ url: EXTENSIONS.nextCheck, valueDateTime: alert.nextCheckAt.toISOString() }];
  const output = outputsOf(alert);
  if (output.length) task.output = output;
  return task;
}

function outputsOf(alert: NewAlert): NonNullable<Task['output']> {
  const out: NonNullable<Task['output']> = [];
  const { acknowledgement, action, verbalCommunication, patientNotification } = alert;
  if (acknowledgement) {
    out.push({ type: { text: OUTPUT.acknowledgedAt }, valueDateTime: acknowledgement.at.toISOString() });
    out.push({ type: { text: OUTPUT.acknowledgedBy }, valueReference: acknowledgement.by });
  }
  if (action) {
    const type = { text: ACTION_OUTPUT[action.kind] };
    if (action.decision) out.push({ type, valueCodeableConcept: { coding: [action.decision] } });
    else if (action.request) out.push({ type, valueReference: action.request });
    out.push({ type: { text: OUTPUT.actionRecordedAt }, valueDateTime: action.at.toISOString() });
    out.push({ type: { text: OUTPUT.actionRecordedBy }, valueReference: action.by });
    if (action.note) out.push({ type: { text: OUTPUT.actionNote }, valueString: action.note });
  }
  if (verbalCommunication)
    out.push({ type: { text: OUTPUT.verbalCommunication }, valueReference: verbalCommunication });
  if (patientNotification) {
    out.push({
      type: { text: OUTPUT.patientNotificationClaimed },
      valueDateTime: patientNotification.claimedAt.toISOString(),
    });
    if (patientNotification.sent)
      out.push({ type: { text: OUTPUT.patientNotification }, valueReference: patientNotification.sent });
  }
  return out;
}

/** Collects what is wrong with a Task as an alert, one issue per problem, each at its FHIRPath. */
class Problems {
  readonly issues: OperationOutcomeIssue[] = [];
  add(expression: string, text: string): void {
    this.issues.push(issue({ code: 'invalid', expression, text }));
  }
  /** A date-time, or undefined (recording a problem when the value is there and malformed). */
  time(value: string | undefined, expression: string): Date | undefined {
    if (value === undefined) return undefined;
    const parsed = new Date(value);
    if (Number.isNaN(parsed.getTime())) this.add(expression, `'${value}' is not a date-time`);
    return parsed;
  }
  required<T>(value: T | undefined, expression: string, what: string): T {
    if (value === undefined || value === '') this.add(expression, `an alert needs ${what}`);
    return value as T;
  }
}

const inputPath = (name: string) => `Task.input.where(type.text = '${name}')`;
const outputPath = (name: string) => `Task.output.where(type.text = '${name}')`;

/**
 * What a Task says became of its alert. Used by `alertOf`, and by the performer's region on a Task
 * another region sent; a malformed part is a 422 naming it.
 */
export function alertOutcomeOf(task: Task): AlertOutcome {
  const problems = new Problems();
  const outcome = outcomeWith(task, problems);
  if (problems.issues.length) throw new OutcomeError(unprocessableIssues(problems.issues));
  return outcome;
}

function outcomeWith(task: Task, problems: Problems): AlertOutcome {
  const output = (name: string) => task.output?.find((o) => o.type?.text === name);
  const outcome: AlertOutcome = {};
  const acknowledgedAt = problems.time(output(OUTPUT.acknowledgedAt)?.valueDateTime, outputPath(OUTPUT.acknowledgedAt));
  if (acknowledgedAt) {
    outcome.acknowledgement = {
      at: acknowledgedAt,
      by: problems.required(
        output(OUTPUT.acknowledgedBy)?.valueReference as ActorReference | undefined,
        outputPath(OUTPUT.acknowledgedBy),
        'who acknowledged it',
      ),
    };
  }
  const kind = (Object.keys(ACTION_OUTPUT) as ActionKind[]).find((k) => output(ACTION_OUTPUT[k]));
  if (kind) {
    const value = output(ACTION_OUTPUT[kind]);
    const decision = value?.valueCodeableConcept?.coding?.find((c) => c.system === CODE_SYSTEMS.alertDecision);
    const action: AlertAction = {
      kind,
      at: problems.required(
        problems.time(output(OUTPUT.actionRecordedAt)?.valueDateTime, outputPath(OUTPUT.actionRecordedAt)),
        outputPath(OUTPUT.actionRecordedAt),
        'when the action was recorded',
      ),
      by: problems.required(
        output(OUTPUT.actionRecordedBy)?.valueReference as ActorReference | undefined,
        outputPath(OUTPUT.actionRecordedBy),
        'who recorded the action',
      ),
    };
    if (kind === 'decision') {
      action.decision = problems.required(decision, outputPath(ACTION_OUTPUT[kind]), 'the decision taken');
    } else {
      action.request = problems.required(value?.valueReference, outputPath(ACTION_OUTPUT[kind]), `the ${kind}`);
    }
    const note = output(OUTPUT.actionNote)?.valueString;
    if (note) action.note = note;
    outcome.action = action;
  }
  const verbal = output(OUTPUT.verbalCommunication)?.valueReference;
  if (verbal) outcome.verbalCommunication = verbal;
  return outcome;
}

/**
 * Decodes a stored alert Task, once. A Task that does not hold one (edited by hand, or written by
 * something else) is a 422 with one issue per problem, each at its FHIRPath.
 */
export function alertOf(task: Task): Alert {
  const problems = new Problems();
  const input = (name: string) => task.input?.find((i) => i.type?.text === name);
  const output = (name: string) => task.output?.find((o) => o.type?.text === name);
  const code = taskCodeOf(task);
  const kind = code === 'acknowledge-result' || code === 'watch-acknowledgement' ? code : undefined;
  if (!kind) problems.add('Task.code', 'an alert Task has the code acknowledge-result or watch-acknowledgement');
  const state = (Object.keys(TASK_STATUS_OF) as AlertState[]).find((s) => TASK_STATUS_OF[s] === task.status);
  if (!state) problems.add('Task.status', `'${task.status}' is not the status of an alert`);
  const category = input(INPUT.category)?.valueCoding;
  if (category?.system !== CODE_SYSTEMS.alertCategory || !isAlertCategory(category.code) || category.code === 'NONE')
    problems.add(inputPath(INPUT.category), 'an alert needs its category (CRITICAL, URGENT, CANCER or SIGNIFICANT)');
  const step = task.businessStatus?.coding?.find((c) => c.system === CODE_SYSTEMS.alertStep)?.code;
  if (!isAlertStep(step) || (kind && !LADDERS[kind].includes(step)))
    problems.add('Task.businessStatus', `'${step}' is not a step of this alert's ladder`);
  const claimedAt = problems.time(
    output(OUTPUT.patientNotificationClaimed)?.valueDateTime,
    outputPath(OUTPUT.patientNotificationClaimed),
  );
  const sent = output(OUTPUT.patientNotification)?.valueReference;
  const patientNotificationDueAt = problems.time(
    input(INPUT.patientNotificationDue)?.valueDateTime,
    inputPath(INPUT.patientNotificationDue),
  );
  const stepDueAt = problems.time(task.restriction?.period?.end, 'Task.restriction.period.end');
  const nextCheckAt = problems.time(
    task.extension?.find((e) => e.url === EXTENSIONS.nextCheck)?.valueDateTime,
    `Task.extension('${EXTENSIONS.nextCheck}')`,
  );
  const alert: Alert = {
    id: problems.required(task.id, 'Task.id', 'an id'),
    versionId: problems.required(task.meta?.versionId, 'Task.meta.versionId', 'a version'),
    ...(task.meta ? { meta: task.meta } : {}),
    kind: kind as AlertKind,
    identifier: problems.required(
      task.identifier?.find((i) => i.system === SYSTEMS.task)?.value,
      'Task.identifier',
      `an identifier (${SYSTEMS.task})`,
    ),
    correlationId: problems.required(
      task.groupIdentifier?.system === SYSTEMS.correlation ? task.groupIdentifier.value : undefined,
      'Task.groupIdentifier',
      `its case (${SYSTEMS.correlation})`,
    ),
    category: category?.code as AcknowledgedAlertCategory,
    report: problems.required(task.focus, 'Task.focus', 'its report'),
    order: problems.required(task.basedOn?.[0], 'Task.basedOn', 'its order'),
    ...(task.for ? { patient: task.for as Reference<Patient> } : {}),
    owner: problems.required(task.owner as ActorReference | undefined, 'Task.owner', 'an owner'),
    ownerOrganisation: problems.required(
      odsOf(input(INPUT.ownerOrganisation)?.valueReference),
      inputPath(INPUT.ownerOrganisation),
      'the organisation that may answer it, by ODS code',
    ),
    performer: problems.required(odsOf(task.requester), 'Task.requester', 'its performer, by ODS code'),
    raisedAt: problems.required(problems.time(task.authoredOn, 'Task.authoredOn'), 'Task.authoredOn', 'when raised'),
    acknowledgementDueAt: problems.required(
      problems.time(input(INPUT.acknowledgementDue)?.valueDateTime, inputPath(INPUT.acknowledgementDue)),
      inputPath(INPUT.acknowledgementDue),
      'when acknowledgement is due',
    ),
    state: state as AlertState,
    step: step as AlertStep,
    ...(stepDueAt ? { stepDueAt } : {}),
    recipients: (task.restriction?.recipient ?? []) as ActorReference[],
    ...(patientNotificationDueAt ? { patientNotificationDueAt } : {}),
    ...(claimedAt ? { patientNotification: { claimedAt, ...(sent ? { sent } : {}) } } : {}),
    ...(nextCheckAt ? { nextCheckAt } : {}),
    lastModified: problems.required(
      problems.time(task.lastModified, 'Task.lastModified'),
      'Task.lastModified',
      'a last-modified time',
    ),
    ...outcomeWith(task, problems),
  };
  if (problems.issues.length) throw new OutcomeError(unprocessableIssues(problems.issues));
  return alert;
}

/** The category of an alert as a CodeableConcept, for the Communications it sends. */
export function alertCategoryConcept(category: AcknowledgedAlertCategory): CodeableConcept {
  return { coding: [alertCategoryCoding(category)], text: `${ALERT_CATEGORY_INFO[category].display} alert` };
}

/**
 * The search that finds alert Tasks whose next check is due: through the next-check index, never a scan.
 * The turnaround watches and breaches share the index and have their own search (turnaround-task.ts).
 */
export function dueAlertsQuery(now: Date, batchSize: number): Record<string, string> {
  return {
    'next-check': `le${now.toISOString()}`,
    code: ALERT_KINDS.map((kind) => `${CODE_SYSTEMS.taskCode}|${kind}`).join(','),
    _count: String(batchSize),
    _total: 'none',
  };
}
