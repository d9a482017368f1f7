import type { Task } from '@medplum/fhirtypes';
import { builtFromValidated, CODE_SYSTEMS, isAbsent, SYSTEMS, taskCodeOf, token } from '@imaging/fhir';
import type { FhirStore, WithId } from '@imaging/fhir';
import type { GatewayDeps } from './ports.ts';
import { identifierQuery } from './identifiers.ts';
import { ifStillCurrent } from './transactions.ts';

/**
 * One lease per gateway outbox: only the replica that holds it sends. It is a Task with a fixed
 * identifier per region, taken and renewed with a versioned update, so of two replicas that find it
 * free only one takes it. A delivery is then written once, when it is settled, instead of being
 * claimed first (one version of its outbox Task fewer per delivery).
 *
 * The holder writes `expires` = taken + leaseMs and sends only until taken + leaseMs/2, so a replica
 * that takes over a lapsed lease never sends beside it (with clocks up to leaseMs/2 apart). A holder
 * that died lets it lapse: another replica takes over and resends what was in flight, and the receiver
 * drops those by their X-Request-ID. A holder renews only once a quarter of the lease has gone, so a
 * busy outbox writes the lease every leaseMs/4, not every pass.
 */

/** The lease as stored: which replica holds it, until when. */
export interface OutboxLease {
  id: string;
  versionId: string;
  holder: string;
  expiresAt: Date;
}

/** What a pass may do under the lease it holds: send until then, no later. */
export interface HeldLease {
  sendUntil: Date;
}

const INPUT = { holder: 'holder', expires: 'expires' } as const;

/** This process's replica id, unless the settings name one (tests run two replicas in one process). */
const PROCESS_REPLICA = crypto.randomUUID();

export function replicaOf(deps: GatewayDeps): string {
  return deps.delivery.replicaId ?? PROCESS_REPLICA;
}

/** The lease's identifier: one per region's outbox, in a system no Task a message carries may hold. */
export function outboxLeaseIdentifier(regionId: string): { system: string; value: string } {
  return { system: SYSTEMS.outboxLease, value: regionId };
}

/** The lease this replica last wrote (and when), and the lease's id once known, by store. */
const written = new WeakMap<FhirStore, { lease: OutboxLease; takenAt: Date }>();
const leaseIds = new WeakMap<FhirStore, string>();

/**
 * Takes or renews the outbox lease for this replica at `now`; undefined while another replica holds it
 * unexpired (or won it at the same moment).
 */
export async function holdOutboxLease(deps: GatewayDeps, now: Date): Promise<HeldLease | undefined> {
  const { store } = deps;
  const { leaseMs } = deps.delivery;
  const holder = replicaOf(deps);
  const mine = written.get(store);
  const sendUntil = (takenAt: Date) => ({ sendUntil: new Date(takenAt.getTime() + leaseMs / 2) });
  if (mine?.lease.holder === holder && now.getTime() < mine.takenAt.getTime() + leaseMs / 4)
    return sendUntil(mine.takenAt);
  let seen = mine?.lease.holder === holder ? mine.lease : await currentLease(deps);
  // A 412 means another writer came first: look again, at most twice (it is a replica's, or it is free).
  for (let tries = 0; tries < 3; tries++) {
    if (seen && seen.holder !== holder && seen.expiresAt.getTime() > now.getTime()) break;
    const taken = await ifStillCurrent(
      seen
        ? store.update<Task>(leaseTask(deps, holder, now, seen.id) as WithId<Task>, { ifMatch: seen.versionId })
        : createLease(deps, holder, now),
    );
    if (taken) {
      const lease = leaseOf(taken);
      written.set(store, { lease, takenAt: now });
      leaseIds.set(store, lease.id);
      return sendUntil(now);
    }
    seen = await currentLease(deps);
  }
  written.delete(store);
  return undefined;
}

/**
 * Gives the lease up, if this replica holds it, so another (or this gateway restarted) need not wait for
 * it to lapse: called once the delivery job has stopped, with no pass running.
 */
export async function releaseOutboxLease(deps: GatewayDeps): Promise<void> {
  const mine = written.get(deps.store);
  if (!mine || mine.lease.holder !== replicaOf(deps)) return;
  written.delete(deps.store);
  const now = deps.clock.now();
  await ifStillCurrent(
    deps.store.update<Task>(leaseTask(deps, mine.lease.holder, now, mine.lease.id, now) as WithId<Task>, {
      ifMatch: mine.lease.versionId,
    }),
  );
}

/** The stored lease, read by id once known; undefined before any replica has taken it. */
export async function currentLease(deps: GatewayDeps): Promise<OutboxLease | undefined> {
  const id = leaseIds.get(deps.store);
  if (id) {
    try {
      return leaseOf(await deps.store.read<Task>('Task', id));
    } catch (err) {
      if (!isAbsent(err)) throw err;
      leaseIds.delete(deps.store);
    }
  }
  const { system, value } = outboxLeaseIdentifier(deps.region.regionId);
  const page = await deps.store.search<Task>('Task', { identifier: token(system, value), _total: 'none' });
  // Two replicas creating it at once on a server without a unique index may both succeed: every replica
  // then uses the same one, the first by id. Only this gateway's own lease counts: the validation refuses
  // the identifier on any other Task, and a lease is never labelled for access as what a message brings is.
  const [first] = page.resources.filter(isOwnLease).sort((a, b) => a.id.localeCompare(b.id));
  if (!first) return undefined;
  leaseIds.set(deps.store, first.id);
  return leaseOf(first);
}

function isOwnLease(task: WithId<Task>): boolean {
  return taskCodeOf(task) === 'outbox-lease' && !task.meta?.security?.length;
}

async function createLease(deps: GatewayDeps, holder: string, now: Date): Promise<WithId<Task> | undefined> {
  const identifier = outboxLeaseIdentifier(deps.region.regionId);
  const { resource, created } = await deps.store.create<Task>(leaseTask(deps, holder, now), {
    ifNoneExist: identifierQuery(identifier),
  });
  // Nothing this gateway accepts can hold the identifier; a Task written around it (straight into the
  // FHIR server) would stop every delivery, so it is said loudly, not waited on.
  if (!created && !isOwnLease(resource))
    throw new Error(
      `Task/${resource.id} holds this gateway's outbox lease identifier (${identifier.system}|${identifier.value}) but is not its lease: ` +
        'no delivery goes out until it is removed',
    );
  return created ? resource : undefined;
}

/** The lease Task: held by `holder` from `now` until `expiresAt` (leaseMs later unless given). */
function leaseTask(deps: GatewayDeps, holder: string, now: Date, id?: string, expiresAt?: Date): Task {
  const expires = expiresAt ?? new Date(now.getTime() + deps.delivery.leaseMs);
  const task: Task = {
    resourceType: 'Task',
    ...(id ? { id } : {}),
    identifier: [outboxLeaseIdentifier(deps.region.regionId)],
    status: 'in-progress',
    intent: 'order',
    code: { coding: [{ system: CODE_SYSTEMS.taskCode, code: 'outbox-lease' }] },
    description: "Which replica of this gateway sends its outbox's deliveries, and until when",
    lastModified: now.toISOString(),
    owner: { identifier: { system: SYSTEMS.region, value: deps.region.regionId } },
    input: [
      { type: { text: INPUT.holder }, valueString: holder },
      { type: { text: INPUT.expires }, valueDateTime: expires.toISOString() },
    ],
  };
  // Built only from this gateway's own words, so trusted as validated (the tests' stores validate it).
  return builtFromValidated(task);
}

/** Decodes a stored lease. One that does not say who holds it until when is free to take. */
export function leaseOf(task: WithId<Task>): OutboxLease {
  const input = (name: string) => task.input?.find((i) => i.type?.text === name);
  const expires = new Date(input(INPUT.expires)?.valueDateTime ?? 0);
  return {
    id: task.id,
    versionId: task.meta?.versionId ?? '',
    holder: input(INPUT.holder)?.valueString ?? '',
    expiresAt: Number.isNaN(expires.getTime()) ? new Date(0) : expires,
  };
}
