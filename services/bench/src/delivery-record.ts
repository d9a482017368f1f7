import type { Bundle, BundleEntry } from '@medplum/fhirtypes';
import { SYSTEMS } from '@imaging/fhir';

/**
 * The delivery's record, replayed on the direct side: after an order is delivered the gateway writes its
 * outbox Task's outcome (a versioned PUT) and the AuditEvent of the disclosure, batched in transactions.
 * HAPI does that work only on the gateway's side. Replaying those transactions against the direct side's
 * own outbox Tasks gives a second direct figure, HAPI doing every write the gateway makes it do, so the
 * gap between the two direct figures is the record's cost and the rest is the gateway's own.
 */

/** Where a replayed order's outbox Task was stored, by its request id (the outbox Task's identifier). */
export type StoredOutboxTasks = Map<string, { id: string; versionId: string }>;

/** A transaction of the delivery's record: outbox Task updates (If-Match), with AuditEvents, and no order. */
export function isRecordTransaction(bundle: Bundle): boolean {
  const entries = bundle.entry ?? [];
  return (
    entries.some(isOutboxUpdate) &&
    entries.every((e) => isOutboxUpdate(e) || (e.request?.method === 'POST' && e.request.url === 'AuditEvent'))
  );
}

/** The request ids of the outbox Tasks a record transaction updates: it can be replayed once all are stored. */
export function requestIdsOf(record: Bundle): string[] {
  return (record.entry ?? []).filter(isOutboxUpdate).map((e) => requestIdOf(e) as string);
}

/** The request ids of the outbox Tasks an order's transaction creates: the deliveries whose record to await. */
export function queuedRequestIds(order: Bundle): string[] {
  return (order.entry ?? []).flatMap((e) => queuedRequestIdOf(e) ?? []);
}

/**
 * The record transactions cut down to the deliveries in `wanted` (one round's orders): a batch may also
 * hold an earlier order's outcome. An AuditEvent goes with the outbox Task it names. Empty ones are dropped.
 */
export function recordsOf(records: Bundle[], wanted: ReadonlySet<string>): Bundle[] {
  return records.flatMap((record) => {
    const kept = new Set<string>(); // the gateway's ids of the outbox Tasks kept
    for (const entry of record.entry ?? [])
      if (isOutboxUpdate(entry) && wanted.has(requestIdOf(entry) as string)) kept.add(taskIdOf(entry));
    const entry = (record.entry ?? []).filter((e) =>
      isOutboxUpdate(e) ? kept.has(taskIdOf(e)) : kept.has(auditedTaskOf(e) ?? ''),
    );
    return kept.size ? [{ ...record, entry }] : [];
  });
}

/**
 * Notes in `stored` where a transaction stored its outbox Tasks (an order's creates them, a record's updates
 * them), by request id, from the transaction as sent and HAPI's answer, entry by entry:
 * `Task/<id>/_history/<version>`.
 */
export function noteStoredOutboxTasks(stored: StoredOutboxTasks, sent: Bundle, answer: Bundle): void {
  (sent.entry ?? []).forEach((entry, i) => {
    const requestId = queuedRequestIdOf(entry) ?? (isOutboxUpdate(entry) ? requestIdOf(entry) : undefined);
    const location = answer.entry?.[i]?.response?.location?.match(/^(?:.*\/)?Task\/([^/]+)\/_history\/([^/]+)$/);
    if (requestId && location) stored.set(requestId, { id: location[1] as string, versionId: location[2] as string });
  });
}

/**
 * A record transaction made to apply to the direct side's outbox Tasks: each PUT names the direct side's
 * Task and its stored version, and every reference to the gateway's Task (the AuditEvent's entity) is
 * pointed at it. Throws when one of its Tasks was not stored on the direct side.
 */
export function recordForDirect(record: Bundle, stored: StoredOutboxTasks): Bundle {
  const renamed = new Map<string, string>();
  for (const entry of record.entry ?? []) {
    if (!isOutboxUpdate(entry)) continue;
    const requestId = requestIdOf(entry) as string;
    const target = stored.get(requestId);
    if (!target) throw new Error(`the record names an outbox Task the direct side did not store (${requestId})`);
    renamed.set(taskIdOf(entry), target.id);
  }
  // Each whole id after "Task/ (up to a quote or a slash), so that renaming Task/12 never touches Task/123.
  const json = JSON.stringify(record).replaceAll(/"Task\/([^"/]+)/g, (whole, id: string) =>
    renamed.has(id) ? `"Task/${renamed.get(id)}` : whole,
  );
  const direct = JSON.parse(json) as Bundle;
  for (const entry of direct.entry ?? []) {
    if (!isOutboxUpdate(entry) || !entry.resource || !entry.request) continue;
    const target = stored.get(requestIdOf(entry) as string) as { id: string; versionId: string };
    entry.resource.id = target.id;
    entry.request.ifMatch = `W/"${target.versionId}"`;
  }
  return direct;
}

function isOutboxUpdate(entry: BundleEntry): boolean {
  return (
    entry.request?.method === 'PUT' &&
    entry.request.url?.startsWith('Task/') === true &&
    entry.request.ifMatch !== undefined &&
    requestIdOf(entry) !== undefined
  );
}

/** The request id of the outbox Task an entry creates, if it creates one. */
function queuedRequestIdOf(entry: BundleEntry): string | undefined {
  return entry.request?.method === 'POST' && entry.request.url === 'Task' ? requestIdOf(entry) : undefined;
}

/** The gateway's id of the outbox Task an update names (`Task/<id>`). */
function taskIdOf(entry: BundleEntry): string {
  return (entry.request?.url ?? '').slice('Task/'.length);
}

/** The id of the Task an AuditEvent entry is about, if any. */
function auditedTaskOf(entry: BundleEntry): string | undefined {
  if (entry.resource?.resourceType !== 'AuditEvent') return undefined;
  const reference = entry.resource.entity?.find((e) => e.what?.reference?.startsWith('Task/'))?.what?.reference;
  return reference?.slice('Task/'.length);
}

function requestIdOf(entry: BundleEntry): string | undefined {
  const resource = entry.resource;
  if (resource?.resourceType !== 'Task') return undefined;
  return resource.identifier?.find((i) => i.system === SYSTEMS.messageRequest)?.value;
}
