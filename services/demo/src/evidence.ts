import type { AuditEvent, DocumentReference, Resource, Task } from '@medplum/fhirtypes';
import { CODE_SYSTEMS, openStore, searchAll, SYSTEMS } from '@imaging/fhir';
import type { FhirStore, WithId } from '@imaging/fhir';

/**
 * What the demo checks is read from the services' own stores, not from what the services said: the
 * embedded SQLite files are opened read-side by the demo while the services run (WAL allows it), and
 * the same code reads HAPI partitions over HTTP when the services store there.
 */
export class Stores {
  readonly hub: FhirStore;
  private readonly regions: Map<string, FhirStore>;

  constructor(locations: { hub: string; regions: Record<string, string> }) {
    this.hub = openStore(locations.hub);
    this.regions = new Map(Object.entries(locations.regions).map(([id, location]) => [id, openStore(location)]));
  }

  region(id: string): FhirStore {
    const store = this.regions.get(id);
    if (!store) throw new Error(`no store for region ${id}`);
    return store;
  }

  async close(): Promise<void> {
    await Promise.all([this.hub.close(), ...[...this.regions.values()].map((s) => s.close())]);
  }
}

export function byIdentifier<T extends Resource>(
  store: FhirStore,
  type: T['resourceType'],
  system: string,
  value: string,
): Promise<WithId<T>[]> {
  return searchAll<T>(store, type, { identifier: `${system}|${value}` });
}

/** The one resource with this identifier, or undefined; more than one is a failed check (a duplicate). */
export async function theOne<T extends Resource>(
  store: FhirStore,
  type: T['resourceType'],
  system: string,
  value: string,
): Promise<WithId<T> | undefined> {
  const found = await byIdentifier<T>(store, type, system, value);
  if (found.length > 1)
    throw new Error(`${found.length} copies of ${type} ${value} in ${store.description}: expected exactly one`);
  return found[0];
}

/** The statuses a Task went through, oldest first, each once per change, with when it changed. */
export async function statusHistory(
  store: FhirStore,
  taskId: string,
): Promise<{ status: Task['status']; at: number }[]> {
  const versions = (await store.history<Task>('Task', taskId)).reverse();
  const changes: { status: Task['status']; at: number }[] = [];
  for (const v of versions) {
    if (changes.at(-1)?.status !== v.status) changes.push({ status: v.status, at: stamp(v) });
  }
  return changes;
}

/** `meta.lastUpdated` in ms since the epoch. */
export function stamp(resource: Resource): number {
  const when = resource.meta?.lastUpdated;
  if (!when) throw new Error(`${resource.resourceType}/${resource.id ?? '?'} has no meta.lastUpdated`);
  return new Date(when).getTime();
}

/** A gateway's pending-delivery Tasks (messages and locator pointers) for one case. */
export function deliveriesFor(store: FhirStore, correlationId: string): Promise<WithId<Task>[]> {
  return searchAll<Task>(store, 'Task', {
    code: `${CODE_SYSTEMS.taskCode}|deliver-message,${CODE_SYSTEMS.taskCode}|register-pointer`,
    'group-identifier': `${SYSTEMS.correlation}|${correlationId}`,
  });
}

export function attemptsOf(delivery: Task): number {
  return delivery.input?.find((i) => i.type?.text === 'attempts')?.valueInteger ?? 0;
}

export function destinationOf(delivery: Task): string | undefined {
  return delivery.input?.find((i) => i.type?.text === 'destination')?.valueString;
}

/** The hub's AuditEvents of one kind for one case (X-Correlation-ID), recorded since `since`. */
export async function auditsFor(
  hub: FhirStore,
  subtype: string,
  correlationId: string,
  since: Date,
): Promise<WithId<AuditEvent>[]> {
  const events = await searchAll<AuditEvent>(hub, 'AuditEvent', {
    subtype: `${CODE_SYSTEMS.auditSubtype}|${subtype}`,
    date: `ge${since.toISOString()}`,
  });
  return events.filter((e) =>
    e.entity?.some(
      (x) => x.what?.identifier?.system === SYSTEMS.correlation && x.what.identifier.value === correlationId,
    ),
  );
}

export function succeeded(event: AuditEvent): boolean {
  return event.outcome === '0';
}

/** Who asked, as the hub recorded it (the client id). */
export function requestorOf(event: AuditEvent): string | undefined {
  return event.agent?.find((a) => a.requestor)?.altId;
}

/** The locator's pointer to one source resource (its absolute URL is the pointer's master identifier). */
export async function pointerTo(hub: FhirStore, sourceUrl: string): Promise<WithId<DocumentReference> | undefined> {
  return theOne<DocumentReference>(hub, 'DocumentReference', SYSTEMS.pointerSource, sourceUrl);
}

export function hasAccessLabel(resource: Resource, ods: string): boolean {
  return (resource.meta?.security ?? []).some(
    (c) => c.code === ods && c.system?.endsWith('/CodeSystem/organisation-access'),
  );
}
