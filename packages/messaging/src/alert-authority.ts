import type { Communication, Identifier, Reference, Task } from '@medplum/fhirtypes';
import { odsOf, SYSTEMS, taskCodeOf } from '@imaging/fhir';
import { ALERT_ACKNOWLEDGED, ALERT_ACTION_RECORDED, ALERT_COPIED } from './events.ts';
import { acknowledgementTaskIdentifier, PRACTICE_COPY_KEY } from './headers.ts';
import type { MessageEntry, ParsedMessage } from './parse.ts';

/**
 * Who may tell a performing region what became of an alert on its report (alert-acknowledged,
 * alert-action-recorded): only the region serving the requester of the order the alert is on, the one
 * that holds the acknowledgement Task, and only to the region serving the performer. Authority comes
 * from the directory and the receiver's stored watch on the alert, never from the message's say-so: the
 * hub, which stores no cases, checks the parties the message names (the order's placer namespace is its
 * requester's ODS code, the Task's requester the performer); the receiver checks its stored watch too.
 */

/** The receiver's watch on the alert: the order's parties, and the region holding its acknowledgement Task. */
export interface StoredAlert {
  requester: string | undefined;
  performer: string | undefined;
  /** The service id of the region holding the acknowledgement Task (the watch's peer tag). */
  peer: string | undefined;
}

export interface AlertAuthorityFacts {
  /** The sending region's service id, as its credentials establish it. */
  sender: string;
  /** The receiving region's service id. */
  receiver: string;
  /** The service id of the region serving an ODS code, from the directory; undefined when it knows none. */
  serviceOf(ods: string): Promise<string | undefined>;
  /** The receiver's watch; absent at the hub. */
  stored?: StoredAlert;
}

/** Why the sender may not say this, one problem per element; empty when it may. */
export interface AlertRefusal {
  text: string;
  expression: string;
}

export function isAlertMessage(message: ParsedMessage): boolean {
  return (
    message.event === ALERT_ACKNOWLEDGED || message.event === ALERT_ACTION_RECORDED || message.event === ALERT_COPIED
  );
}

/** Checks an alert message against the rule above. */
export async function alertMessageRefusals(
  message: ParsedMessage,
  facts: AlertAuthorityFacts,
): Promise<AlertRefusal[]> {
  const refusals: AlertRefusal[] = [];
  const refuse = (text: string, expression: string) => refusals.push({ text, expression });
  const task = message.focus as MessageEntry<Task>;
  const at = (path: string) => `Bundle.entry[${task.index}].resource.${path}`;
  const serves = async (service: string, ods: string | undefined) => !!ods && (await facts.serviceOf(ods)) === service;

  if (taskCodeOf(task.resource) !== 'acknowledge-result')
    refuse(`${message.event.code} is about an acknowledgement Task (code acknowledge-result)`, at('code'));
  const orders = (task.resource.basedOn ?? []).filter((r) => r.type === 'ServiceRequest' && r.identifier);
  const claimedRequester = orders.length === 1 ? namespaceOf(orders[0]?.identifier) : undefined;
  if (orders.length !== 1) refuse('An alert is on exactly one order (basedOn, by placer order number)', at('basedOn'));
  const claimedPerformer = odsOf(task.resource.requester);
  const report = reportOf(task.resource.focus);
  if (!report || namespaceOf(report) !== claimedPerformer)
    refuse("The alert's focus is a report in its performer's namespace (the Task's requester)", at('focus'));

  const { stored } = facts;
  if (stored) {
    if (stored.peer !== facts.sender) {
      refuse(`This alert is shared with ${stored.peer ?? 'no other region'}, not ${facts.sender}`, at('basedOn'));
      return refusals;
    }
    if (claimedRequester !== stored.requester)
      refuse(`The order here was requested by ${stored.requester ?? '(none)'}, not ${claimedRequester}`, at('basedOn'));
    if (claimedPerformer !== stored.performer)
      refuse(
        `The order here is performed by ${stored.performer ?? '(none)'}, not ${claimedPerformer}`,
        at('requester'),
      );
  }
  const requester = stored?.requester ?? claimedRequester;
  const performer = stored?.performer ?? claimedPerformer;
  if (!(await serves(facts.sender, requester)))
    refuse(`The requester ${requester ?? '(none)'} is not served by ${facts.sender}`, at('basedOn'));
  if (!(await serves(facts.receiver, performer)))
    refuse(`The performer ${performer ?? '(none)'} is not served by ${facts.receiver}`, at('requester'));
  return refusals;
}

/**
 * Who may copy an alert to a discharged patient's registered GP practice (alert-copied): only the region
 * serving the requester of the order the alert is on (the placer order number's namespace), the one that
 * raised it, and only to the region serving the practice, the copy's one recipient. The receiver holds no
 * case for it, so it checks what the hub checks. The copy is the one the requester's gateway builds
 * (alertCopyEntries): it names the acknowledgement Task on the report it is about (`<report>-acknowledge`)
 * and is identified as that Task's copy (`<Task>-gp-copy`), and the sender it names is an organisation the
 * sending region serves.
 */
export async function alertCopyRefusals(message: ParsedMessage, facts: AlertAuthorityFacts): Promise<AlertRefusal[]> {
  const refusals: AlertRefusal[] = [];
  const refuse = (text: string, expression: string) => refusals.push({ text, expression });
  const copy = message.focus as MessageEntry<Communication>;
  const at = (path: string) => `Bundle.entry[${copy.index}].resource.${path}`;
  const serves = async (service: string, ods: string | undefined) => !!ods && (await facts.serviceOf(ods)) === service;

  const orders = (copy.resource.basedOn ?? []).filter((r) => r.type === 'ServiceRequest' && r.identifier);
  const requester = orders.length === 1 ? namespaceOf(orders[0]?.identifier) : undefined;
  if (orders.length !== 1) refuse('An alert is on exactly one order (basedOn, by placer order number)', at('basedOn'));
  const alerts = (copy.resource.basedOn ?? []).filter(
    (r) => r.type === 'Task' && r.identifier?.system === SYSTEMS.task,
  );
  if (alerts.length !== 1) refuse('A copy names the alert it copies (basedOn, a Task by identifier)', at('basedOn'));
  const reports = (copy.resource.about ?? []).map(reportOf);
  if (reports.length !== 1 || !reports[0]) refuse('A copy is about one report, by its identifier', at('about'));
  const recipients = copy.resource.recipient ?? [];
  const practice = recipients.length === 1 ? odsOf(recipients[0]) : undefined;
  if (!practice) refuse('A copy goes to one GP practice, by its ODS code', at('recipient'));
  // What it is built from, so it can claim no identifier of anything else (a receiver's own Communications).
  const report = reports.length === 1 ? reports[0]?.value : undefined;
  const alert = alerts.length === 1 ? alerts[0]?.identifier?.value : undefined;
  if (report && alerts.length === 1 && alert !== acknowledgementTaskIdentifier(report))
    refuse(`A copy names the alert on its report (${acknowledgementTaskIdentifier(report)})`, at('basedOn'));
  const identifiers = (copy.resource.identifier ?? []).filter((i) => i.system === SYSTEMS.communication);
  const copyIdentifier = `${alert}-${PRACTICE_COPY_KEY}`;
  if (alert && (identifiers.length !== 1 || identifiers[0]?.value !== copyIdentifier))
    refuse(`A copy's identifier is its alert's with -${PRACTICE_COPY_KEY} (${copyIdentifier})`, at('identifier'));

  if (!(await serves(facts.sender, requester)))
    refuse(`The requester ${requester ?? '(none)'} is not served by ${facts.sender}`, at('basedOn'));
  if (practice && !(await serves(facts.receiver, practice)))
    refuse(`The practice ${practice} is not served by ${facts.receiver}`, at('recipient'));
  if (copy.resource.sender) {
    const sender = odsOf(copy.resource.sender);
    if (!(await serves(facts.sender, sender)))
      refuse(`The sender ${sender ?? '(no ODS code)'} is not served by ${facts.sender}`, at('sender'));
  }
  return refusals;
}

function reportOf(ref: Reference | undefined): Identifier | undefined {
  return ref?.identifier?.system === SYSTEMS.report ? ref.identifier : undefined;
}

/** The ODS code a business identifier is namespaced by (`N81001-000123` is N81001's); ODS codes have no '-'. */
function namespaceOf(identifier: Identifier | undefined): string | undefined {
  const [namespace, rest] = (identifier?.value ?? '').split(/-(.*)/s);
  return rest ? namespace : undefined;
}
