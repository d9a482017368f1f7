import type {
  Bundle,
  BundleEntry,
  DocumentReference,
  ImagingStudy,
  DiagnosticReport,
  MessageHeader,
  Task,
} from '@medplum/fhirtypes';
import {
  CODE_SYSTEMS,
  NHS_NUMBER_SYSTEM,
  OutcomeError,
  SYSTEMS,
  toOutcomeError,
  unavailable,
  unprocessable,
} from '@imaging/fhir';
import type { WithId } from '@imaging/fhir';
import { deliveryOutcomeAudit } from './change-audits.ts';
import type { GatewayDeps } from './ports.ts';
import { noteRefusalOnCase } from './delivery-refusals.ts';
import { holdOutboxLease } from './outbox-lease.ts';
import type { Delivery } from './outbox.ts';
import {
  backoffMs,
  DELIVERED,
  deliveryOf,
  deliveryOrder,
  deliveryQueueOf,
  LOCATOR_DESTINATION,
  outboxTask,
  pendingDeliveriesQuery,
  setAsideTask,
  unmarkedDeliveriesQuery,
} from './outbox.ts';
import { entryResource, ifStillCurrent, runTransaction } from './transactions.ts';
import { caseOfTask } from './identifiers.ts';
import { nhsNumberOfSubject } from './patients.ts';

export interface DeliveryPass {
  delivered: number;
  retried: number;
  /** Refused by the hub or the receiver (parked), or not a delivery at all (a malformed outbox Task, set aside). */
  failed: number;
  /**
   * Not attempted: not due yet, the outbox lease held by another replica (or a delivery claimed by an
   * earlier version's replica), or queued behind an undelivered one.
   */
  waiting: number;
}

/**
 * One pass over the open deliveries, oldest first. Only the replica that holds the outbox lease sends
 * (outbox-lease.ts: taken with a versioned update, so two replicas never send at once); a lease that is
 * not renewed in time (the replica died) lapses and is taken over, and what it had in flight is sent
 * again, to be dropped by the receiver as a repeat. Each delivery is written once, when it is settled.
 *
 * Deliveries go out in queues (deliveryQueueOf: one destination, one patient or case), in order within
 * a queue: once one has to wait, every later one in its queue waits too, so a status update never
 * overtakes its order. Queues go out side by side, up to `concurrency` sends at once, and the outcomes
 * of a pass's sends are stored in one transaction per batch (one commit for many).
 *
 * No answer or a 5xx means "try again later" (with backoff, for ever: a region that is down delays
 * delivery, it never loses it), as do HTTP's own "not now" answers, 408, 425 and 429. Any other 4xx
 * means the message was refused (by the hub or the receiver) and sending it again would only be
 * refused again: the delivery is parked as failed after that one attempt, with the reason, and a note
 * on the case's Task says so.
 */
export async function deliverDue(deps: GatewayDeps): Promise<DeliveryPass> {
  const { clock, delivery: settings } = deps;
  const pass: DeliveryPass = { delivered: 0, retried: 0, failed: 0, waiting: 0 };
  const now = clock.now();
  const due: Delivery[][] = [];
  const { open, messages } = await openDeliveries(deps, pass, now, !heldBack.has(deps));
  let backingOff = false;
  for (const queue of queuesOf(open)) {
    const waits = queue.findIndex((item) => !isDue(item, now, settings.leaseMs));
    if (waits >= 0) backingOff = true;
    const ready = waits < 0 ? queue : queue.slice(0, waits);
    pass.waiting += queue.length - ready.length;
    if (ready.length) due.push(ready);
  }
  const lease = due.length ? await holdOutboxLease(deps, now) : undefined;
  if (!lease) pass.waiting += due.flat().length;
  const outcomes = outcomeWriter(deps);
  // A queue stops halfway through the lease (what is left stays pending, unattempted), so no other
  // replica can take the lease over while this one is still sending.
  const sendUntil = lease?.sendUntil.getTime() ?? 0;
  await inParallel(lease ? due : [], settings.concurrency, async (queue) => {
    for (const [i, item] of queue.entries()) {
      if (clock.now().getTime() >= sendUntil) {
        pass.waiting += queue.length - i;
        return;
      }
      const outcome = await attempt(deps, item, outcomes, messages);
      if (outcome === 'delivered') pass.delivered++;
      else if (outcome === 'failed') pass.failed++;
      else {
        pass.retried++;
        // The rest of the queue stays unattempted, behind the one that will be retried.
        pass.waiting += queue.length - i - 1;
        return;
      }
    }
  });
  await outcomes.flush();
  // While deliveries back off (a region down), the next polls leave their messages out: they would be
  // read again on every poll and not sent. They are read one by one when due. (Deliveries left at half
  // the lease are due at once: they do not count.) Nor do they while another replica holds the lease.
  if (backingOff || pass.retried || (due.length && !lease)) heldBack.add(deps);
  else heldBack.delete(deps);
  return pass;
}

/**
 * Gives open deliveries queued by an earlier version of the gateway (before the poll had its own index
 * key) that key, so the poll finds them: run once as a gateway starts. Returns how many it marked.
 */
export async function markUnmarkedDeliveries(deps: GatewayDeps): Promise<number> {
  let marked = 0;
  for (;;) {
    const page = await deps.store.search<Task>('Task', unmarkedDeliveriesQuery(deps.delivery.batchSize));
    if (page.resources.length === 0) return marked;
    for (const task of page.resources) {
      try {
        const delivery = deliveryOf(task);
        await ifStillCurrent(update(deps, delivery));
      } catch (err) {
        if (!(err instanceof OutcomeError)) throw err;
        await setAside(deps, task, err.message);
      }
      marked++;
    }
  }
}

/** At most this many pages of open deliveries are read in one pass while none of them is due. */
const MAX_PAGES = 10;

/** Gateways whose last pass left deliveries waiting: their polls do not bring the messages along. */
const heldBack = new WeakSet<GatewayDeps>();

/** The stored messages a poll brought along, by id. */
type Messages = Map<string, Bundle>;

/**
 * The open deliveries, oldest first, decoded, with the messages they send when `includeMessages`;
 * malformed outbox Tasks are set aside. One page, unless nothing on it is due (a region that is down,
 * with more waiting for it than a page holds): then the next, so deliveries elsewhere are not held up.
 */
async function openDeliveries(
  deps: GatewayDeps,
  pass: DeliveryPass,
  now: Date,
  includeMessages: boolean,
): Promise<{ open: Delivery[]; messages: Messages }> {
  const open: Delivery[] = [];
  const messages: Messages = new Map();
  let page = await deps.store.search<Task>(
    'Task',
    pendingDeliveriesQuery(deps.delivery.batchSize, { includeMessages }),
  );
  for (let pages = 1; ; pages++) {
    for (const resource of page.included)
      if (resource.resourceType === 'Bundle' && resource.id) messages.set(resource.id, resource);
    for (const task of page.resources) {
      try {
        open.push(deliveryOf(task));
      } catch (err) {
        if (!(err instanceof OutcomeError)) throw err;
        await setAside(deps, task, err.message);
        pass.failed++;
      }
    }
    if (!page.next || pages >= MAX_PAGES || open.some((d) => isDue(d, now, deps.delivery.leaseMs)))
      return { open, messages };
    page = await deps.store.nextPage<Task>(page.next);
  }
}

/** The deliveries by queue, each queue in delivery order. */
function queuesOf(deliveries: Delivery[]): Delivery[][] {
  const queues = new Map<string, Delivery[]>();
  for (const item of deliveries.sort(deliveryOrder)) {
    const key = deliveryQueueOf(item);
    const queue = queues.get(key);
    if (queue) queue.push(item);
    else queues.set(key, [item]);
  }
  return [...queues.values()];
}

function isDue(delivery: Delivery, now: Date, leaseMs: number): boolean {
  // Only an earlier version of the gateway claimed deliveries one by one: such a claim holds its delivery
  // (and its queue) until it lapses, and the delivery is then sent like a pending one.
  if (delivery.status === 'claimed') {
    return !delivery.claimedAt || delivery.claimedAt.getTime() + leaseMs <= now.getTime();
  }
  return !delivery.nextAttemptAt || delivery.nextAttemptAt.getTime() <= now.getTime();
}

/** Stores a changed delivery with a versioned update, so two replicas never both change one version. */
function update(deps: GatewayDeps, changed: Delivery): Promise<WithId<Task>> {
  return deps.store.update<Task>(outboxTask(changed), { ifMatch: changed.versionId });
}

/**
 * Stores changed deliveries, each with a versioned update, all in one transaction with the AuditEvents of
 * those that came to an end (change-audits.ts); the stored deliveries.
 */
async function updateAll(deps: GatewayDeps, changed: Delivery[], audits: BundleEntry[] = []): Promise<Delivery[]> {
  if (changed.length === 1 && audits.length === 0) return [deliveryOf(await update(deps, changed[0] as Delivery))];
  const response = await runTransaction(deps.store, [
    ...changed.map(
      (item): BundleEntry => ({
        resource: outboxTask(item),
        request: { method: 'PUT', url: `Task/${item.id}`, ifMatch: `W/"${item.versionId}"` },
      }),
    ),
    ...audits,
  ]);
  return changed.map((_, i) => deliveryOf(entryResource<Task>(response, i)));
}

/**
 * Where a pass's outcomes go: delivered deliveries are stored together, in one transaction per
 * `OUTCOMES_PER_COMMIT`, and at the end of the pass. A crash before that only means a resend after the
 * lease, which the receiver recognises by its X-Request-ID and drops.
 */
interface OutcomeWriter {
  /**
   * Queues a changed delivery to store, with the AuditEvent of its outcome when it came to an end; unless
   * `later`, it is stored (with whatever is queued) at once.
   */
  store(changed: Delivery, later?: boolean, audit?: BundleEntry): void;
  /** Stores what is queued, and waits for every write so far. */
  flush(): Promise<void>;
}

const OUTCOMES_PER_COMMIT = 64;

function outcomeWriter(deps: GatewayDeps): OutcomeWriter {
  let queued: { item: Delivery; audit?: BundleEntry }[] = [];
  let writing: Promise<void> = Promise.resolve();
  let failure: { error: unknown } | undefined;
  const write = () => {
    const batch = queued;
    queued = [];
    // Batches go one after another; one that lost a delivery to another replica (412) is stored item by
    // item, each as far as it is still this replica's. A failed write fails the pass, at its end.
    writing = writing.then(async () => {
      if (batch.length === 0 || failure) return;
      const auditsOf = (outcomes: typeof batch) => outcomes.flatMap((o) => (o.audit ? [o.audit] : []));
      try {
        if (
          await ifStillCurrent(
            updateAll(
              deps,
              batch.map((o) => o.item),
              auditsOf(batch),
            ),
          )
        )
          return;
        for (const outcome of batch) await ifStillCurrent(updateAll(deps, [outcome.item], auditsOf([outcome])));
      } catch (error) {
        failure = { error };
      }
    });
  };
  return {
    store(changed, later = false, audit) {
      queued.push({ item: changed, ...(audit ? { audit } : {}) });
      if (!later || queued.length >= OUTCOMES_PER_COMMIT) write();
    },
    async flush() {
      write();
      await writing;
      if (failure) throw failure.error;
    },
  };
}

/** Runs `work` on each item, at most `limit` at once. */
async function inParallel<T>(items: T[], limit: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await work(items[next++] as T);
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
}

/** Parks an outbox Task that holds no valid delivery where an operator sees it, instead of retrying it for ever. */
async function setAside(deps: GatewayDeps, task: WithId<Task>, problem: string): Promise<void> {
  const now = deps.clock.now();
  const correlationId = caseOfTask(task);
  await ifStillCurrent(
    runTransaction(deps.store, [
      {
        resource: setAsideTask(task, problem, now),
        request: { method: 'PUT', url: `Task/${task.id}`, ifMatch: `W/"${task.meta?.versionId}"` },
      },
      deliveryOutcomeAudit(
        deps,
        'delivery-set-aside',
        { id: task.id, ...(correlationId ? { correlationId } : {}) },
        {
          status: 422,
          text: problem,
        },
      ),
    ]),
  );
  deps.logger.error('malformed delivery set aside', { task: `Task/${task.id}`, problem });
}

async function attempt(
  deps: GatewayDeps,
  delivery: Delivery,
  outcomes: OutcomeWriter,
  messages: Messages,
): Promise<'delivered' | 'retry' | 'failed'> {
  const { clock, delivery: settings, logger } = deps;
  const { requestId, correlationId, destination, kind } = delivery;
  const attempts = delivery.attempts + 1;
  const log = { requestId, correlationId, destination, attempt: attempts, kind };
  try {
    await perform(deps, delivery, messages);
  } catch (err) {
    const error = toOutcomeError(err);
    const reason = `${error.status} ${error.message}`;
    const now = clock.now();
    if (isTransient(error.status)) {
      const next = new Date(now.getTime() + backoffMs(attempts, settings.baseBackoffMs, settings.maxBackoffMs));
      outcomes.store({
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
    outcomes.store(
      { ...delivery, attempts, status: 'failed', failure: reason, progress: `refused: ${reason}`, lastModified: now },
      false,
      deliveryOutcomeAudit(deps, 'delivery-refused', delivery, { status: error.status, text: reason }),
    );
    logger.error('delivery refused: parked, not retried', { ...log, reason });
    await noteOnCase(deps, delivery, reason, log);
    return 'failed';
  }
  const now = clock.now();
  outcomes.store(
    { ...delivery, attempts, status: 'delivered', progress: DELIVERED, deliveredAt: now, lastModified: now },
    true,
    deliveryOutcomeAudit(deps, 'delivery-completed', delivery),
  );
  logger.info('delivered', log);
  return 'delivered';
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

async function perform(deps: GatewayDeps, delivery: Delivery, messages: Messages): Promise<void> {
  const ids = { requestId: delivery.requestId, correlationId: delivery.correlationId };
  if (delivery.kind === 'deliver-message') {
    // A stored message never changes, so the copy the poll brought is the one to send.
    const message = messages.get(delivery.messageId) ?? (await deps.store.read<Bundle>('Bundle', delivery.messageId));
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
  const nhsNumber = await nhsNumberOfSubject(deps, resource);
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
