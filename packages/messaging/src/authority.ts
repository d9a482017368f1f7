import type {
  Coding,
  DiagnosticReport,
  Endpoint,
  Identifier,
  ImagingStudy,
  OperationOutcome,
  OperationOutcomeIssue,
  Reference,
  ServiceRequest,
  Task,
} from '@medplum/fhirtypes';
import { CANONICAL_BASE, issue, odsOf, outcomeOf, SYSTEMS } from '@imaging/fhir';
import { alertCopyRefusals, alertMessageRefusals } from './alert-authority.ts';
import { businessIdentifierProblems } from './business-identifiers.ts';
import {
  ALERT_ACKNOWLEDGED,
  ALERT_ACTION_RECORDED,
  ALERT_COPIED,
  ORDER_REQUEST,
  REPORT_ISSUED,
  TASK_UPDATE,
} from './events.ts';
import type { MessageEntry, ParsedMessage } from './parse.ts';
import { entriesOf } from './parse.ts';
import { fulfilmentTaskIdentifier } from './headers.ts';

/**
 * Who may say what in a routed message: the one rule, called by the hub before it forwards and by
 * the receiving gateway before it applies. Authority never comes from the message's own say-so: the
 * sender is the region its credentials name (the hub checks MessageHeader.source against them), which
 * region serves an organisation comes from the directory, and the parties to a case come from the
 * receiver's stored copy when it has one. The hub stores no cases, so it checks the parties the
 * message names; a message that lies about them gets past the hub only to be refused by the receiver.
 *
 * - An order is sent by the region serving its requester, to the region serving its performer, under a
 *   placer order number in the requester's namespace.
 * - Progress on a Task comes from the region serving its owner (the performer); the region serving the
 *   requester may only cancel, and only a Task not yet started (REQUESTER_CANCELLABLE, by the receiver's
 *   stored copy). The receiver's copy must be shared with the sender (its peer).
 * - A report and its studies come from the region serving the performer of the one order they are for.
 * - What became of an alert (acknowledged, action recorded) comes from the region serving the requester, and
 *   so does an alert's copy for a discharged patient's GP practice, to the region serving that practice.
 * - Every resource a message carries has at most one identifier in each business system (one identifier at
 *   all, for an Endpoint), holding no search syntax (`,` `|` `$` `\`): the checks above look at one, and a
 *   second, or a value a lookup reads as several, would match another's record later
 *   (businessIdentifierProblems).
 */

/**
 * The states from which the requester may cancel a Task: before the performer has started work. The one
 * rule for a requester's own update at its gateway and for one routed from the requester's region.
 */
export const REQUESTER_CANCELLABLE: ReadonlySet<string> = new Set(['requested', 'received', 'accepted', 'on-hold']);

/** Marks an OperationOutcome issue as a refusal of the message's content, so the hub relays it as it is. */
export const MESSAGE_REFUSAL: Coding = {
  system: `${CANONICAL_BASE}/CodeSystem/message-refusal`,
  code: 'not-authorised',
  display: 'The sender has no authority over this content',
};

/** The receiver's stored copy of the case a message is about: the Task, or the order a report is for. */
export interface StoredCase {
  /** ODS codes of the requester and the performer (the Task's owner). */
  requester: string | undefined;
  performer: string | undefined;
  /** The service id of the region holding the other copy (the peer tag). */
  peer: string | undefined;
  /** The stored Task's status (a Task update): what a requester's cancel is checked against. */
  status?: string;
}

export interface AuthorityFacts {
  /** The sending region's service id, as its credentials establish it (not as the message claims it). */
  sender: string;
  /** The receiving region's service id. */
  receiver: string;
  /** The service id of the region serving an ODS code, from the directory; undefined when it knows none. */
  serviceOf(ods: string): Promise<string | undefined>;
  /** The receiver's copy of the case (a Task update, a report); absent at the hub, which stores no cases. */
  stored?: StoredCase;
  /**
   * The requesters other than `requester` of the orders the receiver holds in a case (X-Correlation-ID):
   * a case is one requester's. Absent at the hub, which stores no cases.
   */
  otherRequestersOfCase?(correlationId: string, requester: string): Promise<string[]>;
}

/** The sender's part in the case: the region serving the requester, or the one serving the performer. */
export type SenderRole = 'requester' | 'performer';

export type MessageAuthority =
  | { authorised: true; role: SenderRole }
  | { authorised: false; refusal: OperationOutcome };

/** Checks a parsed message against the rules above; a refusal is a 403 with one issue per problem. */
export async function checkMessageAuthority(message: ParsedMessage, facts: AuthorityFacts): Promise<MessageAuthority> {
  const check = checker(facts);
  let role: SenderRole;
  switch (message.event) {
    case ORDER_REQUEST:
      role = await checkOrder(message, check);
      break;
    case TASK_UPDATE:
      role = await checkTaskUpdate(message, check);
      break;
    case REPORT_ISSUED:
      role = await checkReport(message, check);
      break;
    case ALERT_ACKNOWLEDGED:
    case ALERT_ACTION_RECORDED:
      // The alert's own rule (alert-authority.ts): only the requester's region, to the performer's.
      for (const r of await alertMessageRefusals(message, facts)) check.refuse(r.text, r.expression);
      role = 'requester';
      break;
    case ALERT_COPIED:
      // A copy for the discharged patient's GP practice: from the requester's region, to the practice's.
      for (const r of await alertCopyRefusals(message, facts)) check.refuse(r.text, r.expression);
      role = 'requester';
      break;
    default:
      check.refuse(`No one may send ${message.event.code} messages`, 'Bundle.entry[0].resource.eventCoding');
      role = 'requester';
  }
  for (const entry of message.entries) {
    for (const problem of businessIdentifierProblems(entry.resource))
      check.refuse(problem.text, at(entry, `identifier[${problem.index}]`));
  }
  return check.problems.length
    ? { authorised: false, refusal: outcomeOf('forbidden', check.problems) }
    : { authorised: true, role };
}

/** True when an OperationOutcome is a refusal of a message's content by this rule. */
export function isMessageRefusal(outcome: OperationOutcome | undefined): boolean {
  return !!outcome?.issue?.some((i) =>
    i.details?.coding?.some((c) => c.system === MESSAGE_REFUSAL.system && c.code === MESSAGE_REFUSAL.code),
  );
}

/**
 * A refusal of a message's content found outside this rule (the receiver's own store, say): the same 403,
 * one issue per problem, with the message-refusal coding, so the sender parks the message.
 */
export function messageRefusal(problems: { text: string; expression: string }[]): OperationOutcome {
  return outcomeOf('forbidden', problems.map(refusalIssue));
}

function refusalIssue({ text, expression }: { text: string; expression: string }): OperationOutcomeIssue {
  const base = issue({ code: 'forbidden', text, expression });
  return { ...base, details: { coding: [MESSAGE_REFUSAL], text } };
}

type Checker = ReturnType<typeof checker>;

function checker(facts: AuthorityFacts) {
  const problems: OperationOutcomeIssue[] = [];
  const refuse = (text: string, expression: string) => {
    problems.push(refusalIssue({ text, expression }));
  };
  /** True when the directory has `ods` served by `service`. */
  const serves = async (service: string, ods: string | undefined) => !!ods && (await facts.serviceOf(ods)) === service;
  /** Refuses unless `ods` is served by `service`, saying whose it must be. */
  const requireServed = async (service: string, ods: string | undefined, whose: string, expression: string) => {
    if (!(await serves(service, ods)))
      refuse(`${whose} ${ods ?? '(no ODS code)'} is not served by ${service}`, expression);
  };
  return { facts, problems, refuse, serves, requireServed };
}

const at = (entry: MessageEntry, path: string) => `Bundle.entry[${entry.index}].resource.${path}`;

/** An order: from the requester's region, to the performer's, numbered in the requester's namespace. */
async function checkOrder(message: ParsedMessage, check: Checker): Promise<SenderRole> {
  const { sender, receiver } = check.facts;
  const order = message.focus as MessageEntry<ServiceRequest>;
  const requester = odsOf(order.resource.requester);
  await check.requireServed(sender, requester, 'The requester', at(order, 'requester'));
  for (const [i, performer] of (order.resource.performer ?? []).entries())
    await check.requireServed(receiver, odsOf(performer), 'The performer', at(order, `performer[${i}]`));
  const performers = (order.resource.performer ?? []).map(odsOf);
  const identifiers = order.resource.identifier ?? [];
  const placer = identifiers.find((i) => i.system === SYSTEMS.placerOrder);
  const taskIdentifier = placer && fulfilmentTaskIdentifier(placer).value;
  for (const task of entriesOf<Task>(message, 'Task')) {
    // The Task carries the order's parties (they label every copy): the same ones, not others.
    const taskRequester = odsOf(task.resource.requester);
    const owner = odsOf(task.resource.owner);
    if (taskRequester !== requester)
      check.refuse(`The Task's requester ${taskRequester ?? '(none)'} is not the order's`, at(task, 'requester'));
    if (!owner || !performers.includes(owner))
      check.refuse(`The Task's owner ${owner ?? '(none)'} is not the order's performer`, at(task, 'owner'));
    // Its identifier is its order's (fulfilmentTaskIdentifier): one naming another order's Task would take
    // that identifier first, and the real order would later arrive to find its Task already there.
    for (const [i, id] of (task.resource.identifier ?? []).entries()) {
      if (id.system === SYSTEMS.task && id.value !== taskIdentifier)
        check.refuse(`The Task identifier ${id.value} is not the one its order's gives`, at(task, `identifier[${i}]`));
    }
    // Its case is named by the sender; one the receiver holds for another requester is not this order's.
    const group = task.resource.groupIdentifier;
    const others =
      group?.system === SYSTEMS.correlation && group.value && requester && check.facts.otherRequestersOfCase
        ? await check.facts.otherRequestersOfCase(group.value, requester)
        : [];
    if (others.length)
      check.refuse(`The case ${group?.value} holds another requester's orders here`, at(task, 'groupIdentifier'));
  }
  for (const [i, identifier] of identifiers.entries()) {
    if (identifier.system === SYSTEMS.placerOrder && requester && namespaceOf(identifier) !== requester) {
      check.refuse(
        `The placer order number ${identifier.value} is not in the requester's namespace (${requester}-…)`,
        at(order, `identifier[${i}]`),
      );
    }
  }
  return 'requester';
}

/**
 * A Task update: progress from the owner's region, a cancel from the requester's, and only for a Task
 * the receiver shares with the sender. With a stored copy, its parties count, not the message's.
 */
async function checkTaskUpdate(message: ParsedMessage, check: Checker): Promise<SenderRole> {
  const { sender, receiver, stored } = check.facts;
  const task = message.focus as MessageEntry<Task>;
  const id = task.resource.identifier?.[0]?.value ?? '(no identifier)';
  // The stored case is named by the Task's identifier; the message's own claims by their elements.
  const where = (claim: string) => (stored ? at(task, 'identifier') : at(task, claim));
  if (stored && stored.peer !== sender) {
    check.refuse(`Task ${id} here is shared with ${stored.peer ?? 'no other region'}, not ${sender}`, where('owner'));
    return 'performer';
  }
  const performer = stored ? stored.performer : odsOf(task.resource.owner);
  const requester = stored ? stored.requester : odsOf(task.resource.requester);
  if (await check.serves(sender, performer)) {
    await check.requireServed(receiver, requester, `The requester of Task ${id}`, where('requester'));
    return 'performer';
  }
  if (await check.serves(sender, requester)) {
    if (task.resource.status !== 'cancelled') {
      check.refuse(
        `${sender} serves the requester of Task ${id}, which may only cancel it, not move it to '${task.resource.status}'`,
        at(task, 'status'),
      );
    } else if (stored?.status && stored.status !== 'cancelled' && !REQUESTER_CANCELLABLE.has(stored.status)) {
      // What the Task has reached is the stored copy's to say (the hub has none), never the message's.
      check.refuse(
        `Task ${id} here is ${stored.status}: its requester may cancel it only before work starts (${[...REQUESTER_CANCELLABLE].join(', ')})`,
        at(task, 'status'),
      );
    }
    await check.requireServed(receiver, performer, `The owner of Task ${id}`, where('owner'));
    return 'requester';
  }
  check.refuse(
    `${sender} serves neither the owner (${performer ?? 'none'}) nor the requester (${requester ?? 'none'}) of Task ${id}`,
    where('owner'),
  );
  return 'performer';
}

/**
 * A report (with its studies and their endpoints): from the region serving the performer of the one
 * order it is based on. Every organisation it names as its source must be that region's.
 */
async function checkReport(message: ParsedMessage, check: Checker): Promise<SenderRole> {
  const { sender, receiver, stored } = check.facts;
  const report = message.focus as MessageEntry<DiagnosticReport>;
  const orders = ordersOf(report.resource.basedOn);
  if (orders.length !== 1) {
    check.refuse(`A report is based on exactly one order, not ${orders.length}`, at(report, 'basedOn'));
    return 'performer';
  }
  const order = `order ${orders[0]?.value}`;
  if (stored) {
    if (stored.peer !== sender) {
      check.refuse(
        `The ${order} here is shared with ${stored.peer ?? 'no other region'}, not ${sender}`,
        at(report, 'basedOn[0]'),
      );
      return 'performer';
    }
    await check.requireServed(sender, stored.performer, `The performer of the ${order}`, at(report, 'basedOn[0]'));
    await check.requireServed(receiver, stored.requester, `The requester of the ${order}`, at(report, 'basedOn[0]'));
  }
  // Whose report it says it is: its performers and its identifier's namespace.
  const claimed = stored?.performer;
  for (const [i, performer] of (report.resource.performer ?? []).entries()) {
    const ods = odsOf(performer);
    if (!ods) continue; // a clinician named by another identifier claims no organisation
    if (!claimed) await check.requireServed(sender, ods, 'The performer', at(report, `performer[${i}]`));
    else if (ods !== claimed)
      check.refuse(`The ${order} is performed by ${claimed}, not ${ods}`, at(report, `performer[${i}]`));
  }
  const identifiers = report.resource.identifier ?? [];
  const index = identifiers.findIndex((i) => i.system === SYSTEMS.report);
  const identifier = identifiers[index];
  if (!identifier?.value) {
    check.refuse(`A report carries its identifier (${SYSTEMS.report})`, at(report, 'identifier'));
  } else {
    const namespace = namespaceOf(identifier);
    if (claimed ? namespace !== claimed : !(await check.serves(sender, namespace))) {
      check.refuse(
        `The report identifier ${identifier.value} is not in the namespace of ${claimed ?? `an organisation served by ${sender}`}`,
        at(report, `identifier[${index}]`),
      );
    }
  }
  for (const study of entriesOf<ImagingStudy>(message, 'ImagingStudy')) {
    const studyOrders = ordersOf(study.resource.basedOn);
    if (studyOrders.length !== 1 || !sameIdentifier(studyOrders[0], orders[0]))
      check.refuse(`A study sent with a report is based on the report's ${order} alone`, at(study, 'basedOn'));
  }
  for (const endpoint of entriesOf<Endpoint>(message, 'Endpoint')) {
    const manager = odsOf(endpoint.resource.managingOrganization);
    if (manager)
      await check.requireServed(sender, manager, 'The endpoint manager', at(endpoint, 'managingOrganization'));
  }
  return 'performer';
}

/** The orders a resource is based on, by placer order number: how a message names them. */
function ordersOf(basedOn: Reference[] | undefined): Identifier[] {
  return (basedOn ?? []).flatMap((ref) => (ref.type === 'ServiceRequest' && ref.identifier ? [ref.identifier] : []));
}

function sameIdentifier(a: Identifier | undefined, b: Identifier | undefined): boolean {
  return !!a?.value && a.system === b?.system && a.value === b?.value;
}

/** The ODS code a business identifier is namespaced by (`N81001-000123` is N81001's); ODS codes have no '-'. */
function namespaceOf(identifier: Identifier): string | undefined {
  const [namespace, rest] = (identifier.value ?? '').split(/-(.*)/s);
  return rest ? namespace : undefined;
}
