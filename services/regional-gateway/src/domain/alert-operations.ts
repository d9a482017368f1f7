import type {
  BundleEntry,
  Coding,
  OperationOutcomeIssue,
  Parameters,
  ParametersParameter,
  Reference,
  Task,
} from '@medplum/fhirtypes';
import {
  alertDecisionCoding,
  assertWellFormed,
  CODE_SYSTEMS,
  conflict,
  forbidden,
  invalid,
  isAlertDecision,
  issue,
  OutcomeError,
  preconditionFailed,
  retryOnConflict,
  SYSTEMS,
  taskCodeOf,
  unprocessable,
  unprocessableIssues,
} from '@imaging/fhir';
import type { Caller, WithId } from '@imaging/fhir';
import type { MessageEventDefinition } from '@imaging/messaging';
import { ALERT_ACKNOWLEDGED, ALERT_ACTION_RECORDED } from '@imaging/messaging';
import { alertMessageEntries } from './alert-messages.ts';
import type { ActionKind, ActorReference, Alert, AlertAction } from './alert-task.ts';
import { alertOf, alertTask, closesOnAcknowledgement, withNextCheck } from './alert-task.ts';
import type { AlertAuditSubtype } from './alerts.ts';
import { ALERT_AUDIT, alertCommunication, communicationEntry } from './alerts.ts';
import { auditEntry } from './audit.ts';
import { peerOf, unlabelled } from './labels.ts';
import type { GatewayDeps } from './ports.ts';
import { readVisible } from './reads.ts';
import { admitClientResource } from './references.ts';
import { entryResource, runTransaction } from './transactions.ts';

/**
 * Acknowledgement and action are two events (requirement 13), each a FHIR operation on the alert Task:
 * `$acknowledge` and `$record-action`, Parameters in, the updated Task out. Only the organisation that
 * owns the alert (as the stored Task says, never the request) may call them. URGENT and SIGNIFICANT close
 * on acknowledgement; CRITICAL and CANCER stay open until the action taken is recorded, and a CRITICAL
 * alert also needs the record that the finding was given by voice: by whom, and when. Each is a versioned
 * update with an AuditEvent, and travels back to the performer's region when that is another.
 */

export type AlertOperation = 'acknowledge' | 'record-action';

const PARTICIPATION_MODE = 'http://terminology.hl7.org/CodeSystem/v3-ParticipationMode';

/** The parameters each operation takes. */
const PARAMETERS: Readonly<Record<AlertOperation, readonly string[]>> = {
  acknowledge: ['acknowledgedBy', 'note', 'communicatedBy', 'communicatedAt', 'communicatedTo'],
  'record-action': [
    'recordedBy',
    'followUp',
    'referral',
    'decision',
    'note',
    'communicatedBy',
    'communicatedAt',
    'communicatedTo',
  ],
};

/** The finding given by voice (CRITICAL): who gave it, when, and to whom. */
interface VerbalCommunication {
  by: ActorReference;
  at: Date;
  to?: ActorReference;
}

interface Answer {
  by: ActorReference;
  note?: string;
  verbal?: VerbalCommunication;
  action?: Pick<AlertAction, 'kind' | 'request' | 'decision'>;
}

/** `$acknowledge`: the owner has seen the alert. Closes URGENT and SIGNIFICANT alerts. */
export function acknowledgeAlert(
  deps: GatewayDeps,
  caller: Caller,
  id: string,
  parameters: Parameters,
  ifMatch: string | undefined,
): Promise<WithId<Task>> {
  return answer(deps, caller, id, parameters, ifMatch, 'acknowledge');
}

/** `$record-action`: what was done about an acknowledged CRITICAL or CANCER alert. Closes it. */
export function recordAlertAction(
  deps: GatewayDeps,
  caller: Caller,
  id: string,
  parameters: Parameters,
  ifMatch: string | undefined,
): Promise<WithId<Task>> {
  return answer(deps, caller, id, parameters, ifMatch, 'record-action');
}

function answer(
  deps: GatewayDeps,
  caller: Caller,
  id: string,
  parameters: Parameters,
  ifMatch: string | undefined,
  operation: AlertOperation,
): Promise<WithId<Task>> {
  const once = () => answerOnce(deps, caller, id, parameters, ifMatch, operation);
  // With the caller's own If-Match, a concurrent change is theirs to see (412); without, read again and retry.
  return ifMatch ? once() : retryOnConflict(once);
}

async function answerOnce(
  deps: GatewayDeps,
  caller: Caller,
  id: string,
  parameters: Parameters,
  ifMatch: string | undefined,
  operation: AlertOperation,
): Promise<WithId<Task>> {
  const task = await readVisible<Task>(deps, caller, 'Task', id);
  if (taskCodeOf(task) !== 'acknowledge-result')
    throw new OutcomeError(
      unprocessable(`Task/${id} is not a result alert: $${operation} answers alerts only`, 'Task.code'),
    );
  const alert = alertOf(task);
  if (caller.organisation !== alert.ownerOrganisation)
    throw new OutcomeError(forbidden(`Only ${alert.ownerOrganisation}, which owns this alert, may answer it`));
  const given = parseAnswer(parameters, operation);
  if (ifMatch && ifMatch !== alert.versionId)
    throw new OutcomeError(
      preconditionFailed(`Task/${id} is at version ${alert.versionId}, not ${ifMatch}: read it again`),
    );
  checkState(alert, operation);
  await admitClientResource(deps, caller, parameters);
  const now = deps.clock.now();
  checkRules(alert, given, operation, now);

  const verbalUrl = `urn:uuid:${crypto.randomUUID()}`;
  const entries: BundleEntry[] = [];
  let updated: Alert = { ...alert, lastModified: now };
  if (given.verbal) {
    const communication = alertCommunication({
      alert,
      task: { reference: `Task/${id}` },
      key: 'verbal',
      recipients: [given.verbal.to ?? given.by],
      sender: given.verbal.by,
      sent: given.verbal.at,
      text: [`The ${alert.category} finding was given by voice.`],
      medium: { coding: [{ system: PARTICIPATION_MODE, code: 'VERBAL', display: 'verbal' }], text: 'Telephone' },
    });
    entries.push({
      ...communicationEntry(communication, [alert.ownerOrganisation, alert.performer]),
      fullUrl: verbalUrl,
    });
    updated.verbalCommunication = {
      reference: verbalUrl,
      type: 'Communication',
      identifier: communication.identifier?.[0] as { system: string; value: string },
    };
  }
  let event: MessageEventDefinition;
  let subtype: AlertAuditSubtype;
  if (operation === 'acknowledge') {
    const closes = closesOnAcknowledgement(alert.category);
    updated = {
      ...updated,
      acknowledgement: { at: now, by: given.by },
      state: closes ? 'closed' : 'acknowledged',
      // Acknowledged but not yet acted on: the ladder waits one step for the action, then climbs on.
      stepDueAt: closes ? undefined : new Date(now.getTime() + deps.alerts.escalationStepsMs[alert.category]),
    };
    event = ALERT_ACKNOWLEDGED;
    subtype = 'alert-acknowledged';
  } else {
    const action = given.action as NonNullable<Answer['action']>;
    updated = {
      ...updated,
      action: { ...action, at: now, by: given.by, ...(given.note ? { note: given.note } : {}) },
      state: 'closed',
    };
    event = ALERT_ACTION_RECORDED;
    subtype = 'alert-action-recorded';
  }
  const next = withNextCheck(updated, deps.alerts.notificationLeaseMs);
  const stored = { ...alertTask(next), id } as WithId<Task>;
  entries.unshift({
    resource: stored,
    request: { method: 'PUT', url: `Task/${id}`, ifMatch: `W/"${alert.versionId}"` },
  });
  entries.push(
    auditEntry(deps.region, {
      subtype,
      description: ALERT_AUDIT[subtype],
      action: 'U',
      who: { caller },
      what: [{ reference: `Task/${id}` }, alert.report],
      ...(alert.patient ? { patient: alert.patient } : {}),
      correlationId: alert.correlationId,
      detail: {
        by: given.by.display ?? given.by.identifier?.value ?? given.by.reference ?? '',
        state: next.state,
        ...(updated.action ? { action: updated.action.kind } : {}),
        ...(given.note ? { note: given.note } : {}),
      },
      recorded: now,
    }),
  );
  const peer = peerOf(task);
  if (peer) entries.push(...(await alertMessageEntries(deps, stored, event, peer, now)));
  return entryResource<Task>(await runTransaction(deps.store, entries), 0);
}

function checkState(alert: Alert, operation: AlertOperation): void {
  if (alert.state === 'closed') throw new OutcomeError(conflict('This alert is closed: it needs nothing more'));
  if (operation === 'acknowledge' && alert.state !== 'raised')
    throw new OutcomeError(conflict('This alert is already acknowledged: record the action taken ($record-action)'));
  if (operation === 'record-action' && alert.state !== 'acknowledged')
    throw new OutcomeError(conflict('Acknowledge the alert ($acknowledge) before recording the action taken'));
}

/** The business rules, once the parameters are well-formed (422). */
function checkRules(alert: Alert, given: Answer, operation: AlertOperation, now: Date): void {
  const issues: OperationOutcomeIssue[] = [];
  if (given.verbal && given.verbal.at.getTime() > now.getTime())
    issues.push(
      issue({ code: 'business-rule', text: 'communicatedAt is in the future', expression: at('communicatedAt') }),
    );
  if (operation === 'record-action' && alert.category === 'CRITICAL' && !alert.verbalCommunication && !given.verbal) {
    issues.push(
      issue({
        code: 'business-rule',
        text: 'A CRITICAL finding must be given by voice: record who gave it and when (communicatedBy, communicatedAt)',
        expression: at('communicatedBy'),
      }),
    );
  }
  const request = given.action?.request;
  if (request && !refersToServiceRequest(request))
    issues.push(
      issue({
        code: 'business-rule',
        text: `A ${given.action?.kind} is a ServiceRequest: ServiceRequest/id, or by its placer order number`,
        expression: at(given.action?.kind === 'referral' ? 'referral' : 'followUp'),
      }),
    );
  if (issues.length) throw new OutcomeError(unprocessableIssues(issues));
}

function refersToServiceRequest(ref: Reference): boolean {
  if (ref.reference) return /^ServiceRequest\/[A-Za-z0-9\-.]{1,64}$/.test(ref.reference);
  return ref.type === 'ServiceRequest' && ref.identifier?.system === SYSTEMS.placerOrder && !!ref.identifier.value;
}

const at = (name: string) => `Parameters.parameter.where(name = '${name}')`;

/** Reads the operation's Parameters: each problem with their shape is a 400, naming the parameter. */
function parseAnswer(parameters: Parameters, operation: AlertOperation): Answer {
  // Base R4 structure first, as admitClientResource checks it later: what follows relies on each
  // element's JSON type (`parameter` a list of objects, a `coding` a list), so a wrong one is a 400.
  assertWellFormed(unlabelled(parameters));
  const issues: OperationOutcomeIssue[] = [];
  const problem = (name: string, text: string) => issues.push(issue({ code: 'invalid', text, expression: at(name) }));
  const byName = new Map<string, ParametersParameter>();
  for (const [i, p] of (parameters.parameter ?? []).entries()) {
    if (!p.name || !PARAMETERS[operation].includes(p.name)) {
      issues.push(
        issue({
          code: 'invalid',
          text: `'${p.name ?? ''}' is not a parameter of $${operation} (${PARAMETERS[operation].join(', ')})`,
          expression: `Parameters.parameter[${i}]`,
        }),
      );
    } else if (byName.has(p.name)) problem(p.name, `${p.name} is given more than once`);
    else byName.set(p.name, p);
  }
  const person = (name: string): ActorReference | undefined => {
    const p = byName.get(name);
    if (!p) return undefined;
    if (p.valueString) return { display: p.valueString };
    const ref = p.valueReference as ActorReference | undefined;
    if (ref && (ref.reference || ref.identifier?.value || ref.display)) return ref;
    problem(name, `${name} is a valueReference (a PractitionerRole or Practitioner) or a valueString (a name)`);
    return undefined;
  };
  const byParam = operation === 'acknowledge' ? 'acknowledgedBy' : 'recordedBy';
  const by = person(byParam);
  if (!by && !byName.has(byParam)) problem(byParam, `${byParam} is required: who is answering the alert`);
  const note = byName.get('note');
  if (note && typeof note.valueString !== 'string') problem('note', 'note is a valueString');

  let verbal: VerbalCommunication | undefined;
  const communicatedBy = person('communicatedBy');
  const communicatedAt = byName.get('communicatedAt');
  if (byName.has('communicatedBy') || communicatedAt) {
    const when = communicatedAt?.valueDateTime ? new Date(communicatedAt.valueDateTime) : undefined;
    if (!communicatedAt) problem('communicatedAt', 'communicatedAt is required with communicatedBy: when it was said');
    else if (!when || Number.isNaN(when.getTime()) || !/T\d{2}:\d{2}/.test(communicatedAt.valueDateTime ?? ''))
      problem('communicatedAt', 'communicatedAt is a valueDateTime with a time of day');
    if (!byName.has('communicatedBy'))
      problem('communicatedBy', 'communicatedBy is required with communicatedAt: who gave the finding by voice');
    const to = person('communicatedTo');
    if (communicatedBy && when && !Number.isNaN(when.getTime()))
      verbal = { by: communicatedBy, at: when, ...(to ? { to } : {}) };
  }

  let action: Answer['action'];
  if (operation === 'record-action') {
    const given = (['followUp', 'referral', 'decision'] as const).filter((n) => byName.has(n));
    if (given.length !== 1) {
      problem(given[1] ?? 'decision', 'Record one action: a followUp or a referral (a ServiceRequest), or a decision');
    } else if (given[0] === 'decision') {
      const p = byName.get('decision') as ParametersParameter;
      const coding: Coding | undefined = p.valueCoding ?? p.valueCodeableConcept?.coding?.find((c) => c.code);
      if (!coding?.code) problem('decision', `decision is a valueCoding from ${CODE_SYSTEMS.alertDecision}`);
      else if (coding.system !== CODE_SYSTEMS.alertDecision || !isAlertDecision(coding.code))
        issues.push(
          issue({
            code: 'code-invalid',
            text: `'${coding.code}' is not a decision of ${CODE_SYSTEMS.alertDecision}`,
            expression: at('decision'),
          }),
        );
      else action = { kind: 'decision', decision: alertDecisionCoding(coding.code) };
    } else {
      const name = given[0] as 'followUp' | 'referral';
      const ref = byName.get(name)?.valueReference;
      if (!ref) problem(name, `${name} is a valueReference to a ServiceRequest`);
      else action = { kind: (name === 'followUp' ? 'follow-up' : 'referral') as ActionKind, request: ref };
    }
  }
  if (issues.length) {
    // A decision that is well-formed but unknown is a business rule (422); anything else is the shape (400).
    throw new OutcomeError(
      issues.every((i) => i.code === 'code-invalid') ? unprocessableIssues(issues) : invalid(issues),
    );
  }
  return {
    by: by as ActorReference,
    ...(note?.valueString ? { note: note.valueString } : {}),
    ...(verbal ? { verbal } : {}),
    ...(action ? { action } : {}),
  };
}
