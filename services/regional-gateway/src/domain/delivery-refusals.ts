import type { Annotation, Bundle, DiagnosticReport, ImagingStudy, Resource, Task } from '@medplum/fhirtypes';
import { CODE_SYSTEMS, retryOnConflict, searchOne, token } from '@imaging/fhir';
import type { WithId } from '@imaging/fhir';
import { MESSAGE_HEADERS } from '@imaging/messaging';
import { refusalNotedAudit } from './change-audits.ts';
import { businessIdentifier } from './identifiers.ts';
import { runTransaction } from './transactions.ts';
import type { Delivery } from './outbox.ts';
import type { GatewayDeps } from './ports.ts';

/**
 * A delivery refused for good must not end where only an operator searching the outbox sees it: the
 * case it is about (the order's fulfilment Task) gets a note saying what was refused, by whom and why,
 * so the referrer or provider reading the Task sees it too.
 *
 * A note rather than `businessStatus` or `statusReason`: those are the Task's progress, set by its
 * owner and copied between regions with every update, so writing there would misstate where the work
 * is and be overwritten by the next update. A note is additive, stays in this region's copy, and
 * carries its own time and author.
 */
export async function noteRefusalOnCase(deps: GatewayDeps, delivery: Delivery, reason: string): Promise<boolean> {
  const carried = delivery.kind === 'deliver-message' ? await carriedResources(deps, delivery.messageId) : [];
  const found = await caseTaskOf(deps, delivery, carried);
  if (!found) return false;
  const note: Annotation = {
    authorString: `${deps.region.serviceId} gateway`,
    time: deps.clock.now().toISOString(),
    text: `Delivery of ${whatWasSent(delivery, carried)} to ${delivery.destination} was refused and will not be retried: ${reason} (${MESSAGE_HEADERS.requestId} ${delivery.requestId})`,
  };
  await retryOnConflict(async () => {
    const task = await deps.store.read<Task>('Task', found.id);
    await runTransaction(deps.store, [
      {
        resource: { ...task, note: [...(task.note ?? []), note] },
        request: { method: 'PUT', url: `Task/${task.id}`, ifMatch: `W/"${task.meta?.versionId}"` },
      },
      refusalNotedAudit(deps, task, delivery),
    ]);
  });
  return true;
}

/** The fulfilment Task of the order a delivery is about, in this region. */
async function caseTaskOf(
  deps: GatewayDeps,
  delivery: Delivery,
  carried: Resource[],
): Promise<WithId<Task> | undefined> {
  if (delivery.kind === 'register-pointer') {
    const { type, id } = delivery.pointerTo;
    const result = await deps.store.read<ImagingStudy | DiagnosticReport>(type, id);
    return fulfilmentOf(deps, result.basedOn?.find((b) => b.reference?.startsWith('ServiceRequest/'))?.reference);
  }
  // An order or a Task update carries the Task itself; a report names its order by placer order number.
  const task = carried.find((r): r is Task => r.resourceType === 'Task');
  const taskIdentifier = task && businessIdentifier(task);
  if (taskIdentifier?.system && taskIdentifier.value)
    return searchOne<Task>(deps.store, 'Task', { identifier: token(taskIdentifier.system, taskIdentifier.value) });
  const report = carried.find((r): r is DiagnosticReport => r.resourceType === 'DiagnosticReport');
  const placer = report?.basedOn?.find((b) => b.type === 'ServiceRequest')?.identifier;
  if (!placer?.system || !placer.value) return undefined;
  const order = await searchOne(deps.store, 'ServiceRequest', { identifier: token(placer.system, placer.value) });
  return order && fulfilmentOf(deps, `ServiceRequest/${order.id}`);
}

function fulfilmentOf(deps: GatewayDeps, orderReference: string | undefined): Promise<WithId<Task> | undefined> {
  if (!orderReference) return Promise.resolve(undefined);
  return searchOne<Task>(deps.store, 'Task', { focus: orderReference, code: `${CODE_SYSTEMS.taskCode}|fulfil` });
}

async function carriedResources(deps: GatewayDeps, messageId: string): Promise<Resource[]> {
  const message = await deps.store.read<Bundle>('Bundle', messageId);
  return (message.entry ?? []).flatMap((e) => (e.resource ? [e.resource] : []));
}

/** The message's event (e.g. `task-update`), or the locator pointer, in words for the note. */
function whatWasSent(delivery: Delivery, carried: Resource[]): string {
  if (delivery.kind === 'register-pointer') return `the locator pointer to the ${delivery.pointerTo.type}`;
  const [header] = carried;
  const code = header?.resourceType === 'MessageHeader' ? header.eventCoding?.code : undefined;
  return code ? `the ${code} message` : 'the message';
}
