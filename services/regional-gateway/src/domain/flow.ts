import type {
  AuditEvent,
  DiagnosticReport,
  ImagingStudy,
  MessageHeader,
  Resource,
  ServiceRequest,
  Task,
} from '@medplum/fhirtypes';
import {
  ALERT_STEP_DISPLAY,
  CODE_SYSTEMS,
  instantMicros,
  OutcomeError,
  searchAll,
  SYSTEMS,
  taskCodeOf,
  token,
} from '@imaging/fhir';
import type { FhirStore, StoreChange, WithId } from '@imaging/fhir';
import type { DeliveryEvent, OpenAlert, QueueEvent, TaskStatusEvent } from '@imaging/messaging';
import { briefDeliveryProgress } from '@imaging/messaging';
import type { Alert } from './alert-task.ts';
import { alertOf, OPEN_ALERT_TASK_STATUSES } from './alert-task.ts';
import { deliveryOf, pendingDeliveriesQuery } from './outbox.ts';
import type { RegionIdentity } from './ports.ts';
import { caseOfTask } from './identifiers.ts';

/**
 * What the gateway tells the flow view (its event feed and a case's trail), from what it stores: pending
 * deliveries, status changes and open alerts, without patient data on the feed. Read-only: nothing here
 * writes, and nothing here decides anything the workflow relies on.
 */

/** What a stored change means on the feed: a delivery, a status change, or that the open alerts changed. */
export type FlowChange =
  | { kind: 'delivery'; event: DeliveryEvent }
  | { kind: 'task-status'; event: TaskStatusEvent }
  | { kind: 'alerts-changed' };

/** The event code of a message Bundle (its MessageHeader's eventCoding), or undefined for any other resource. */
export function messageEventCode(resource: Resource): string | undefined {
  if (resource.resourceType !== 'Bundle' || resource.type !== 'message') return undefined;
  return (resource.entry?.[0]?.resource as MessageHeader | undefined)?.eventCoding?.code;
}

/**
 * What one stored change means for the flow view, if anything. `messageEvents` gives the event code of the
 * message Bundles this gateway has stored (by id), so a delivery can say what it carries.
 */
export function flowChangeOf(
  change: StoreChange,
  region: RegionIdentity,
  messageEvents: ReadonlyMap<string, string> = new Map(),
): FlowChange | undefined {
  const { resource } = change;
  if (resource.resourceType !== 'Task') return undefined;
  const at = resource.meta?.lastUpdated ?? resource.lastModified ?? new Date(0).toISOString();
  const code = taskCodeOf(resource);
  if (code === 'deliver-message' || code === 'register-pointer') {
    let delivery: ReturnType<typeof deliveryOf>;
    try {
      delivery = deliveryOf(resource);
    } catch (err) {
      // Not a valid delivery: the worker sets it aside, and the feed has nothing to say about it.
      if (err instanceof OutcomeError) return undefined;
      throw err;
    }
    const event = delivery.kind === 'deliver-message' ? messageEvents.get(delivery.messageId) : undefined;
    return {
      kind: 'delivery',
      event: {
        type: 'delivery',
        service: region.serviceId,
        at,
        requestId: delivery.requestId,
        correlationId: delivery.correlationId,
        destination: delivery.destination,
        kind: delivery.kind === 'deliver-message' ? 'message' : 'pointer',
        ...(event ? { event } : {}),
        state: delivery.status,
        attempts: delivery.attempts,
        queuedAt: delivery.queuedAt.toISOString(),
        ...(delivery.deliveredAt ? { deliveredAt: delivery.deliveredAt.toISOString() } : {}),
        ...(delivery.progress ? { progress: briefDeliveryProgress(delivery.progress).slice(0, 200) } : {}),
      },
    };
  }
  if (code === 'acknowledge-result') return { kind: 'alerts-changed' };
  const correlationId = caseOfTask(resource);
  const task = resource.identifier?.find((i) => i.system === SYSTEMS.task)?.value;
  if (code === 'fulfil' && correlationId && task) {
    return {
      kind: 'task-status',
      event: { type: 'task-status', service: region.serviceId, at, correlationId, status: resource.status, task },
    };
  }
  return undefined;
}

/** The outbox's open deliveries: how many, and when the oldest was queued. Reads two small index ranges. */
export async function queueGauge(store: FhirStore, region: RegionIdentity, now: Date): Promise<QueueEvent> {
  // The outbox's own poll filter: whatever marks a delivery open, this counts the same ones.
  const { _count: _, _total: __, ...open } = pendingDeliveriesQuery(1);
  const counted = await store.search<Task>('Task', { ...open, _summary: 'count' });
  const depth = counted.total ?? 0;
  const oldest =
    depth > 0
      ? (await store.search<Task>('Task', { ...open, _sort: 'authored-on', _count: '1', _total: 'none' })).resources[0]
      : undefined;
  return {
    type: 'queue',
    service: region.serviceId,
    at: now.toISOString(),
    depth,
    ...(oldest?.authoredOn ? { oldestQueuedAt: oldest.authoredOn } : {}),
  };
}

/**
 * The result alerts still open here: acknowledgement Tasks (`acknowledge-result`) raised or acknowledged and
 * not closed, with their category, due time and ladder step, decoded by alert-task.ts (which alone knows
 * the Task's layout). A Task that does not hold an alert is left out: the view shows only real alerts.
 */
export async function openAlerts(store: FhirStore): Promise<OpenAlert[]> {
  const tasks = await searchAll<Task>(store, 'Task', {
    code: token(CODE_SYSTEMS.taskCode, 'acknowledge-result'),
    status: OPEN_ALERT_TASK_STATUSES,
  });
  return tasks
    .flatMap((task) => openAlertOf(task) ?? [])
    .sort((a, b) => (a.dueAt ?? '9').localeCompare(b.dueAt ?? '9'));
}

/**
 * An open alert as the feed gives it, or undefined for a closed alert or a Task that holds none. Its due time:
 * the acknowledgement's while unacknowledged; once acknowledged (CRITICAL, CANCER), the action's, which is
 * the current step's.
 */
export function openAlertOf(task: Task): OpenAlert | undefined {
  let alert: Alert;
  try {
    alert = alertOf(task);
  } catch (err) {
    if (err instanceof OutcomeError) return undefined;
    throw err;
  }
  if (alert.state === 'closed') return undefined;
  const dueAt = alert.state === 'raised' ? alert.acknowledgementDueAt : alert.stepDueAt;
  return {
    task: alert.identifier,
    status: task.status,
    category: alert.category,
    ...(dueAt ? { dueAt: dueAt.toISOString() } : {}),
    step: ALERT_STEP_DISPLAY[alert.step],
    correlationId: alert.correlationId,
    since: alert.raisedAt.toISOString(),
  };
}

/**
 * Everything this gateway holds about one case (X-Correlation-ID), every version of it: the case's Tasks
 * (fulfilment, deliveries and alerts, which carry the case as their group identifier), the orders they are
 * for, the studies and reports based on those orders, and any AuditEvent about the case. Oldest first.
 */
export async function caseTrail(store: FhirStore, correlationId: string): Promise<WithId<Resource>[]> {
  const inCase = token(SYSTEMS.correlation, correlationId);
  const tasks = await searchAll<Task>(store, 'Task', { 'group-identifier': inCase });
  const orders = [
    ...new Set(
      tasks
        .filter((t) => taskCodeOf(t) === 'fulfil')
        .map((t) => t.focus?.reference)
        .filter((r): r is string => !!r?.startsWith('ServiceRequest/')),
    ),
  ];
  // Causes before effects where times tie (one transaction): orders, then Tasks, then results, then audits.
  const current: WithId<Resource>[] = [];
  const results: WithId<Resource>[] = [];
  for (const order of orders) {
    current.push(await store.read<ServiceRequest>('ServiceRequest', order.split('/')[1] as string));
    results.push(...(await searchAll<ImagingStudy>(store, 'ImagingStudy', { basedon: order })));
    results.push(...(await searchAll<DiagnosticReport>(store, 'DiagnosticReport', { 'based-on': order })));
  }
  current.push(...tasks, ...results);
  const versions: WithId<Resource>[] = [];
  for (const resource of current) versions.push(...(await store.history(resource.resourceType, resource.id)).reverse());
  // An AuditEvent is written once and never changes.
  versions.push(...(await caseAudits(store, inCase, current)));
  return versions.sort((a, b) => stampOf(a) - stampOf(b));
}

/** References searched for at a time: a case holds a handful of resources, a long one a few dozen. */
const REFERENCES_PER_SEARCH = 40;

/**
 * The AuditEvents of a case: those that name it (every state change, and a read of its trail), and the
 * disclosures of its resources (a read or a search names what it returned, not the case it was in).
 */
async function caseAudits(
  store: FhirStore,
  inCase: string,
  resources: readonly WithId<Resource>[],
): Promise<WithId<AuditEvent>[]> {
  const found = new Map<string, WithId<AuditEvent>>();
  const add = (events: WithId<AuditEvent>[]) => {
    for (const event of events) found.set(event.id, event);
  };
  add(await searchAll<AuditEvent>(store, 'AuditEvent', { 'entity:identifier': inCase }));
  const references = [...new Set(resources.map((r) => `${r.resourceType}/${r.id}`))];
  for (let i = 0; i < references.length; i += REFERENCES_PER_SEARCH)
    add(
      await searchAll<AuditEvent>(store, 'AuditEvent', {
        entity: references.slice(i, i + REFERENCES_PER_SEARCH).join(','),
      }),
    );
  return [...found.values()];
}

/** When a version was written, to the microsecond: a transaction's versions share a millisecond. */
function stampOf(resource: Resource): number {
  return instantMicros(resource.meta?.lastUpdated ?? '') || 0;
}
