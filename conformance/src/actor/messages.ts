import type {
  Bundle,
  DiagnosticReport,
  Identifier,
  ImagingStudy,
  MessageHeader,
  OperationOutcome,
  OperationOutcomeIssue,
  Resource,
  Task,
} from '@medplum/fhirtypes';
import { canTransition, isTaskStatus, SYSTEMS, validationIssues } from '@imaging/fhir';
import type { TaskStatus } from '@imaging/fhir';
import type { HubDelivery } from './stand-in-hub.ts';

/** The resources a message carries (after its MessageHeader). */
export function carried(message: Bundle | undefined): Resource[] {
  return (message?.entry ?? [])
    .slice(1)
    .map((e) => e.resource)
    .filter((r): r is Resource => !!r);
}

export function headerOf(message: Bundle | undefined): MessageHeader | undefined {
  const first = message?.entry?.[0]?.resource;
  return first?.resourceType === 'MessageHeader' ? first : undefined;
}

export function identifierValue(resource: Resource | undefined, system: string): string | undefined {
  const ids = (resource as { identifier?: Identifier | Identifier[] } | undefined)?.identifier;
  const list = Array.isArray(ids) ? ids : ids ? [ids] : [];
  return list.find((i) => i.system === system)?.value;
}

/** Deliveries of one event to one service, about one order (by its placer order number), in order. */
export function deliveriesOf(
  deliveries: readonly HubDelivery[],
  event: string,
  destination: string,
  placer: string,
): HubDelivery[] {
  return deliveries.filter((d) => d.event === event && d.destination === destination && mentions(d.message, placer));
}

/** True when the placer order number appears anywhere in the message (as an identifier or a logical reference). */
function mentions(message: Bundle | undefined, placer: string): boolean {
  return !!message && JSON.stringify(message).includes(`"${placer}"`);
}

/** The Task statuses a run of task-update deliveries carried, in the order they were sent. */
export function statusesCarried(deliveries: readonly HubDelivery[]): TaskStatus[] {
  return deliveries
    .map((d) => carried(d.message).find((r): r is Task => r.resourceType === 'Task')?.status)
    .filter((s): s is TaskStatus => isTaskStatus(s));
}

/**
 * Problems with a sequence of Task statuses as one organisation reported them, starting from `from`:
 * each must be a legal move from the one before (FHIR Workflow's Task state machine as the product
 * uses it), ending in `to`. A repeat (a retried delivery) changes nothing. Every change is sent as its
 * own message, so a jump (requested → completed) is a jump, not two changes merged.
 */
export function lifecycleProblems(statuses: readonly TaskStatus[], from: TaskStatus, to: TaskStatus): string[] {
  const problems: string[] = [];
  let current = from;
  for (const status of statuses) {
    if (status === current) continue; // a repeat (a retried delivery) changes nothing
    if (!canTransition(current, status)) {
      problems.push(`${current} → ${status} is not a legal move`);
    }
    current = status;
  }
  if (current !== to) problems.push(`the last status reported is ${current}, not ${to}`);
  return problems;
}

/** Error-level problems of each resource a message carries (base R4, bindings, the project's profiles). */
export function messageValidationErrors(message: Bundle): string[] {
  const urnTypes = new Map(
    (message.entry ?? [])
      .filter((e) => e.fullUrl && e.resource)
      .map((e) => [e.fullUrl as string, e.resource?.resourceType as string]),
  );
  return carried(message).flatMap((resource) =>
    validationIssues(resource, { urnTypes })
      .filter(isError)
      .map((i) => `${resource.resourceType}: ${describeIssue(i)}`),
  );
}

/** Error-level problems of a stored resource. */
export function resourceValidationErrors(resource: Resource): string[] {
  return validationIssues(resource)
    .filter(isError)
    .map((i) => `${resource.resourceType}/${resource.id ?? ''}: ${describeIssue(i)}`);
}

const isError = (i: OperationOutcomeIssue) => i.severity === 'error' || i.severity === 'fatal';
const describeIssue = (i: OperationOutcomeIssue) =>
  `${i.expression?.join(', ') ?? ''} ${i.diagnostics ?? i.details?.text ?? i.code}`.trim();

/** True when a report or study names the order by its placer order number (logically) or is based on `orderRef`. */
export function citesOrder(resource: DiagnosticReport | ImagingStudy, placer: string, orderRef?: string): boolean {
  return (resource.basedOn ?? []).some(
    (b) =>
      (b.identifier?.system === SYSTEMS.placerOrder && b.identifier.value === placer) ||
      (orderRef !== undefined && b.reference === orderRef),
  );
}

/** A copy of a message whose focus has new business identifiers: were it wrongly accepted, it would store something findable. */
export function withFreshFocus(
  message: Bundle,
  suffix: string,
): { message: Bundle; focusType: string; system: string; value: string } {
  const copy = structuredClone(message);
  const focusUrl = headerOf(copy)?.focus?.[0]?.reference;
  const entry = copy.entry?.find((e) => e.fullUrl === focusUrl) ?? copy.entry?.[1];
  const resource = entry?.resource as (Resource & { identifier?: Identifier[] }) | undefined;
  const ours: string[] = [SYSTEMS.placerOrder, SYSTEMS.task, SYSTEMS.report];
  const identifier = resource?.identifier?.find((i) => i.system && ours.includes(i.system));
  if (!resource || !identifier?.system || !identifier.value)
    throw new Error('the message focus carries no business identifier of ours');
  identifier.value = `${identifier.value}-${suffix}`;
  return { message: copy, focusType: resource.resourceType, system: identifier.system, value: identifier.value };
}

/** An answer's body as an OperationOutcome with at least one error, or a description of what it is instead. */
export function outcomeProblems(body: unknown, text: string): string[] {
  const outcome = body as OperationOutcome | undefined;
  const problems: string[] = [];
  if (outcome?.resourceType !== 'OperationOutcome')
    problems.push(`the body is not an OperationOutcome: ${text.slice(0, 200)}`);
  else if (!(outcome.issue ?? []).some(isError))
    problems.push('the OperationOutcome has no issue of severity error or fatal');
  if (/\n\s+at\s|node_modules|\.ts:\d+/.test(text)) problems.push('the body shows a stack trace');
  return problems;
}
