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
import type { GatewayDeps } from './ports.ts';
import {
  backoffMs,
  deliveryKindOf,
  deliveryOrder,
  deliveryRequestId,
  INPUT,
  inputOf,
  LOCATOR_DESTINATION,
  pendingDeliveriesQuery,
  withInput,
} from './outbox.ts';

export interface DeliveryPass {
  delivered: number;
  retried: number;
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
 * No answer, a 5xx, 408, 409 or 429 means "try again later" (with backoff, for ever: a region that is
 * down delays delivery, it never loses it). Any other 4xx means the message was refused: the delivery
 * fails, visibly, with the reason.
 */
export async function deliverDue(deps: GatewayDeps): Promise<DeliveryPass> {
  const { store, clock, delivery } = deps;
  const pass: DeliveryPass = { delivered: 0, retried: 0, failed: 0, waiting: 0 };
  const page = await store.search<Task>('Task', pendingDeliveriesQuery(delivery.batchSize));
  const pending = page.resources.sort(deliveryOrder);
  const blocked = new Set<string>();
  for (const task of pending) {
    const destination = inputOf(task, INPUT.destination)?.valueString ?? '';
    const now = clock.now();
    if (blocked.has(destination) || !isDue(task, now, delivery.leaseMs)) {
      blocked.add(destination);
      pass.waiting++;
      continue;
    }
    const claimed = await claim(deps, task, now);
    if (!claimed) {
      blocked.add(destination);
      pass.waiting++;
      continue;
    }
    const outcome = await attempt(deps, claimed);
    if (outcome === 'delivered') pass.delivered++;
    else if (outcome === 'retry') {
      pass.retried++;
      blocked.add(destination);
    } else pass.failed++;
  }
  return pass;
}

function isDue(task: Task, now: Date, leaseMs: number): boolean {
  if (task.status === 'in-progress') {
    const claimedAt = task.executionPeriod?.start;
    return !claimedAt || new Date(claimedAt).getTime() + leaseMs <= now.getTime();
  }
  const notBefore = task.restriction?.period?.start;
  return !notBefore || new Date(notBefore).getTime() <= now.getTime();
}

async function claim(
  deps: GatewayDeps,
  task: Task & { id: string },
  now: Date,
): Promise<(Task & { id: string }) | undefined> {
  try {
    return await deps.store.update<Task>(
      {
        ...task,
        status: 'in-progress',
        executionPeriod: { start: now.toISOString() },
        lastModified: now.toISOString(),
      },
      { ifMatch: task.meta?.versionId },
    );
  } catch (err) {
    if (err instanceof OutcomeError && err.status === 412) return undefined; // another replica has it
    throw err;
  }
}

async function attempt(deps: GatewayDeps, task: Task & { id: string }): Promise<'delivered' | 'retry' | 'failed'> {
  const { store, clock, delivery, logger } = deps;
  const requestId = deliveryRequestId(task);
  const correlationId = inputOf(task, INPUT.correlationId)?.valueString ?? requestId;
  const destination = inputOf(task, INPUT.destination)?.valueString ?? '';
  const attempts = (inputOf(task, INPUT.attempts)?.valueInteger ?? 0) + 1;
  const log = { requestId, correlationId, destination, attempt: attempts, kind: deliveryKindOf(task) };
  try {
    await perform(deps, task, { requestId, correlationId, destination });
    const now = clock.now().toISOString();
    await store.update<Task>(
      {
        ...withInput(task, INPUT.attempts, { valueInteger: attempts }),
        status: 'completed',
        businessStatus: { text: 'delivered' },
        executionPeriod: { ...task.executionPeriod, end: now },
        lastModified: now,
      },
      { ifMatch: task.meta?.versionId },
    );
    logger.info('delivered', log);
    return 'delivered';
  } catch (err) {
    const error = toOutcomeError(err);
    const reason = `${error.status} ${error.message}`;
    const now = clock.now();
    if (isTransient(error.status)) {
      const next = new Date(now.getTime() + backoffMs(attempts, delivery.baseBackoffMs, delivery.maxBackoffMs));
      await store.update<Task>(
        {
          ...withInput(task, INPUT.attempts, { valueInteger: attempts }),
          status: 'requested',
          businessStatus: { text: `attempt ${attempts} failed: ${reason}; next attempt at ${next.toISOString()}` },
          restriction: { period: { start: next.toISOString() } },
          lastModified: now.toISOString(),
        },
        { ifMatch: task.meta?.versionId },
      );
      logger.warn('delivery will be retried', { ...log, reason, nextAttempt: next.toISOString() });
      return 'retry';
    }
    await store.update<Task>(
      {
        ...withInput(task, INPUT.attempts, { valueInteger: attempts }),
        status: 'failed',
        statusReason: { text: reason },
        businessStatus: { text: `refused: ${reason}` },
        lastModified: now.toISOString(),
      },
      { ifMatch: task.meta?.versionId },
    );
    logger.error('delivery refused', { ...log, reason });
    return 'failed';
  }
}

export function isTransient(status: number): boolean {
  return status >= 500 || status === 408 || status === 409 || status === 425 || status === 429;
}

async function perform(
  deps: GatewayDeps,
  task: Task,
  ids: { requestId: string; correlationId: string; destination: string },
): Promise<void> {
  const focus = task.focus?.reference;
  if (!focus) throw new OutcomeError(refused('the delivery has no focus'));
  const [type, id] = focus.split('/') as [string, string];
  if (deliveryKindOf(task) === 'deliver-message') {
    const message = await deps.store.read<Bundle>('Bundle', id);
    const response = await deps.hub.routeMessage(message, {
      target: ids.destination,
      requestId: ids.requestId,
      correlationId: ids.correlationId,
    });
    const header = response.entry?.[0]?.resource as MessageHeader | undefined;
    if (header?.response?.code === 'transient-error')
      throw new OutcomeError(unavailable('the receiver answered transient-error'));
    if (header?.response?.code === 'fatal-error') throw new OutcomeError(refused('the receiver answered fatal-error'));
    return;
  }
  const pointer = await buildPointer(deps, type as 'ImagingStudy' | 'DiagnosticReport', id);
  if (ids.destination !== LOCATOR_DESTINATION)
    throw new OutcomeError(refused(`unknown pointer destination ${ids.destination}`));
  await deps.hub.registerPointer(pointer, { requestId: ids.requestId, correlationId: ids.correlationId });
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
