import type {
  Bundle,
  DocumentReference,
  ImagingStudy,
  DiagnosticReport,
  MessageHeader,
  Patient,
  Task,
} from '@medplum/fhirtypes';
import {
  CODE_SYSTEMS,
  NHS_NUMBER_SYSTEM,
  nhsNumberOf,
  OutcomeError,
  SYSTEMS,
  toOutcomeError,
  unavailable,
  unprocessable,
} from '@imaging/fhir';
import type { WithId } from '@imaging/fhir';
import type { GatewayDeps } from './ports.ts';
import { noteRefusalOnCase } from './delivery-refusals.ts';
import type { Delivery } from './outbox.ts';
import {
  backoffMs,
  deliveryOf,
  deliveryOrder,
  LOCATOR_DESTINATION,
  outboxTask,
  pendingDeliveriesQuery,
  setAsideTask,
} from './outbox.ts';

export interface DeliveryPass {
  delivered: number;
  retried: number;
  /** Refused by the hub or the receiver (parked), or not a delivery at all (a malformed outbox Task, set aside). */
  failed: number;
  /** Not attempted: not due yet, claimed by another replica, or queued behind an undelivered one. */
  waiting: number;
}

/**
 * One pass over the pending deliveries, oldest first. Each is claimed with a versioned update, so two
 * replicas never send the same one at once; a claim that is not released in time (the replica died)
 * lapses and is taken over. Deliveries to one destination go in order: once one has to wait, every
 * later one to the same destination waits too, so a status update never overtakes its order.
 *
 * No answer or a 5xx means "try again later" (with backoff, for ever: a region that is down delays
 * delivery, it never loses it), as do HTTP's own "not now" answers, 408, 425 and 429. Any other 4xx
 * means the message was refused (by the hub or the receiver) and sending it again would only be
 * refused again: the delivery is parked as failed after that one attempt, with the reason, and a note
 * on the case's Task says so.
 */
export async function deliverDue(deps: GatewayDeps): Promise<DeliveryPass> {
  const { store, clock, delivery: settings } = deps;
  const pass: DeliveryPass = { delivered: 0, retried: 0, failed: 0, waiting: 0 };
  const page = await store.search<Task>('Task', pendingDeliveriesQuery(settings.batchSize));
  const pending: Delivery[] = [];
  for (const task of page.resources) {
    try {
      pending.push(deliveryOf(task));
    } catch (err) {
      if (!(err instanceof OutcomeError)) throw err;
      await setAside(deps, task, err.message);
      pass.failed++;
    }
  }
  const blocked = new Set<string>();
  for (const item of pending.sort(deliveryOrder)) {
    const now = clock.now();
    if (blocked.has(item.destination) || !isDue(item, now, settings.leaseMs)) {
      blocked.add(item.destination);
      pass.waiting++;
      continue;
    }
    const claimed = await claim(deps, item, now);
    if (!claimed) {
      blocked.add(item.destination);
      pass.waiting++;
      continue;
    }
    const outcome = await attempt(deps, claimed);
    if (outcome === 'delivered') pass.delivered++;
    else if (outcome === 'retry') {
      pass.retried++;
      blocked.add(item.destination);
    } else pass.failed++;
  }
  return pass;
}

function isDue(delivery: Delivery, now: Date, leaseMs: number): boolean {
  if (delivery.status === 'claimed') {
    return !delivery.claimedAt || delivery.claimedAt.getTime() + leaseMs <= now.getTime();
  }
  return !delivery.nextAttemptAt || delivery.nextAttemptAt.getTime() <= now.getTime();
}

/** Claims a due delivery for this replica. Undefined when another replica changed it first (412): it has it. */
async function claim(deps: GatewayDeps, delivery: Delivery, now: Date): Promise<Delivery | undefined> {
  const stored = await ifStillCurrent(
    update(deps, { ...delivery, status: 'claimed', claimedAt: now, lastModified: now }),
  );
  return stored && deliveryOf(stored);
}

/** Stores a changed delivery with a versioned update, so two replicas never both change one version. */
function update(deps: GatewayDeps, changed: Delivery): Promise<WithId<Task>> {
  return deps.store.update<Task>(outboxTask(changed), { ifMatch: changed.versionId });
}

async function ifStillCurrent<T>(write: Promise<T>): Promise<T | undefined> {
  try {
    return await write;
  } catch (err) {
    if (err instanceof OutcomeError && err.status === 412) return undefined;
    throw err;
  }
}

/** Parks an outbox Task that holds no valid delivery where an operator sees it, instead of retrying it for ever. */
async function setAside(deps: GatewayDeps, task: WithId<Task>, problem: string): Promise<void> {
  const now = deps.clock.now();
  await ifStillCurrent(deps.store.update<Task>(setAsideTask(task, problem, now), { ifMatch: task.meta?.versionId }));
  deps.logger.error('malformed delivery set aside', { task: `Task/${task.id}`, problem });
}

async function attempt(deps: GatewayDeps, delivery: Delivery): Promise<'delivered' | 'retry' | 'failed'> {
  const { clock, delivery: settings, logger } = deps;
  const { requestId, correlationId, destination, kind } = delivery;
  const attempts = delivery.attempts + 1;
  const log = { requestId, correlationId, destination, attempt: attempts, kind };
  try {
    await perform(deps, delivery);
    const now = clock.now();
    await update(deps, {
      ...delivery,
      attempts,
      status: 'delivered',
      progress: 'delivered',
      deliveredAt: now,
      lastModified: now,
    });
    logger.info('delivered', log);
    return 'delivered';
  } catch (err) {
    const error = toOutcomeError(err);
    const reason = `${error.status} ${error.message}`;
    const now = clock.now();
    if (isTransient(error.status)) {
      const next = new Date(now.getTime() + backoffMs(attempts, settings.baseBackoffMs, settings.maxBackoffMs));
      await update(deps, {
        ...delivery,
        attempts,
        status: 'pending',
        progress: `attempt ${attempts} failed: ${reason}; next attempt at ${next.toISOString()}`,
        nextAttemptAt: next,
        lastModified: now,
      });
      logger.warn('delivery will be retried', { ...log, reason, nextAttempt: next.toISOString() });
      return 'retry';
    }
    await update(deps, {
      ...delivery,
      attempts,
      status: 'failed',
      failure: reason,
      progress: `refused: ${reason}`,
      lastModified: now,
    });
    logger.error('delivery refused: parked, not retried', { ...log, reason });
    await noteOnCase(deps, delivery, reason, log);
    return 'failed';
  }
}

/**
 * The delivery is parked already (its record holds the reason), so a case that cannot be found or
 * written to is logged, and the pass goes on.
 */
async function noteOnCase(deps: GatewayDeps, delivery: Delivery, reason: string, log: Record<string, unknown>) {
  try {
    if (!(await noteRefusalOnCase(deps, delivery, reason)))
      deps.logger.warn('refused delivery: no case here to note it on', log);
  } catch (err) {
    deps.logger.error('refused delivery: could not note it on the case', {
      ...log,
      problem: toOutcomeError(err).message,
    });
  }
}

/** Worth trying again later: no answer, a server-side failure, or HTTP's own "not now". */
export function isTransient(status: number): boolean {
  return status >= 500 || status === 408 || status === 425 || status === 429;
}

async function perform(deps: GatewayDeps, delivery: Delivery): Promise<void> {
  const ids = { requestId: delivery.requestId, correlationId: delivery.correlationId };
  if (delivery.kind === 'deliver-message') {
    const message = await deps.store.read<Bundle>('Bundle', delivery.messageId);
    const response = await deps.hub.routeMessage(message, { target: delivery.destination, ...ids });
    const header = response.entry?.[0]?.resource as MessageHeader | undefined;
    if (header?.response?.code === 'transient-error')
      throw new OutcomeError(unavailable('the receiver answered transient-error'));
    if (header?.response?.code === 'fatal-error') throw new OutcomeError(refused('the receiver answered fatal-error'));
    return;
  }
  const pointer = await buildPointer(deps, delivery.pointerTo.type, delivery.pointerTo.id);
  if (delivery.destination !== LOCATOR_DESTINATION)
    throw new OutcomeError(refused(`unknown pointer destination ${delivery.destination}`));
  await deps.hub.registerPointer(pointer, ids);
}

const refused = (text: string) => unprocessable(text, undefined, 'processing');

/** A locator pointer (after NRL/NIR): who holds what for which NHS number; the content stays here. */
export async function buildPointer(
  deps: GatewayDeps,
  type: 'ImagingStudy' | 'DiagnosticReport',
  id: string,
): Promise<DocumentReference> {
  const resource = await deps.store.read<ImagingStudy | DiagnosticReport>(type, id);
  const patientRef = resource.subject?.reference;
  const patient = patientRef
    ? await deps.store.read<Patient>('Patient', patientRef.split('/')[1] as string)
    : undefined;
  const nhsNumber = nhsNumberOf(patient);
  if (!nhsNumber) throw new OutcomeError(refused(`${type}/${id} has no patient with an NHS number`));
  const sourceUrl = `${deps.region.fhirBaseUrl}/${type}/${id}`;
  const started =
    resource.resourceType === 'ImagingStudy' ? resource.started : (resource.effectiveDateTime ?? resource.issued);
  const pointer: DocumentReference = {
    resourceType: 'DocumentReference',
    masterIdentifier: { system: SYSTEMS.pointerSource, value: sourceUrl },
    status: 'current',
    type: { coding: [{ system: CODE_SYSTEMS.pointerKind, code: type }] },
    subject: { type: 'Patient', identifier: { system: NHS_NUMBER_SYSTEM, value: nhsNumber } },
    date: deps.clock.now().toISOString(),
    custodian: { identifier: { system: SYSTEMS.region, value: deps.region.regionId } },
    description:
      resource.resourceType === 'ImagingStudy'
        ? resource.description
        : (resource.code?.text ?? resource.code?.coding?.[0]?.display),
    content: [{ attachment: { contentType: 'application/fhir+json', url: sourceUrl } }],
  };
  const identifiers = resource.identifier?.filter((i) => i.system && i.value) ?? [];
  if (identifiers.length || started) {
    pointer.context = {};
    if (identifiers.length) pointer.context.related = identifiers.map((identifier) => ({ identifier }));
    if (started) pointer.context.period = { start: started };
  }
  return pointer;
}
