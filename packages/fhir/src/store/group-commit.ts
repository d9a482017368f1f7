import type { Bundle, BundleEntry, Resource } from '@medplum/fhirtypes';
import { OutcomeError, serverError } from '../outcomes.ts';
import type { CreateOptions, CreateResult, FhirStore, UpdateOptions, WithId } from './port.ts';

export interface GroupCommitOptions {
  /** The most entries one grouped transaction holds. */
  maxEntries?: number;
  /**
   * The least time from the end of one group's commit to the start of the next, in ms (default 0: the next
   * turn of the event loop). Under load, the writes made meanwhile join one group, so each commit (and its
   * sync to disk) serves more of them; a write after a quiet spell still commits on the next turn.
   */
  minGapMs?: number;
}

/** One caller's write, waiting for the next group. */
interface Pending {
  entries: BundleEntry[];
  /** What the write touches: two writes that share a key never go in one group. */
  keys: string[];
  /** Answers the caller from its own slice of the grouped transaction's response. */
  settle(response: BundleEntry[]): void;
  /** Runs the write on its own (when its group failed), answering the caller either way. */
  alone(): Promise<void>;
}

/**
 * Group commit: the writes callers make while the process is busy (creates, updates and transaction
 * Bundles) are stored together, as one transaction of the store below, and each caller is answered
 * once that transaction has committed. Every write is as durable when its caller hears of it as
 * before; the store just commits (and, for the embedded store, syncs to disk) once per group instead
 * of once per write. Under load, the writes that arrive during one commit, and during the gap after it
 * (`minGapMs`), make the next group.
 *
 * Each caller's write stays atomic and sees the same outcome as on its own: writes that could see each
 * other (the same resource, the same conditional query, the same `urn:uuid`) never share a group, and
 * when a group's transaction fails, each of its writes is run again on its own, so only the write at
 * fault fails, with its own error. Reads and searches go straight to the store.
 */
export function groupCommitStore(store: FhirStore, options: GroupCommitOptions = {}): FhirStore {
  const maxEntries = options.maxEntries ?? 500;
  const minGapMs = options.minGapMs ?? 0;
  let queue: Pending[] = [];
  let scheduled = false;
  let lastCommitEnd = Number.NEGATIVE_INFINITY;

  const flush = async (): Promise<void> => {
    scheduled = false;
    const batch = queue;
    queue = [];
    for (const group of groupsOf(batch, maxEntries)) await commit(group);
  };
  // Stamped before any caller hears: a write its answer prompts falls within the gap.
  const committed = (): void => {
    lastCommitEnd = performance.now();
  };

  /** The next flush: after the current turn of the event loop, and no sooner than the gap allows. */
  const scheduleFlush = (): void => {
    const wait = lastCommitEnd + minGapMs - performance.now();
    if (wait > 0) setTimeout(() => void flush(), wait);
    // After the current turn of the event loop: whatever else it brings joins the group.
    else setImmediate(() => void flush());
  };

  const commit = async (group: Pending[]): Promise<void> => {
    if (group.length === 1) return (group[0] as Pending).alone();
    let response: Bundle;
    try {
      response = await store.transaction({
        resourceType: 'Bundle',
        type: 'transaction',
        entry: group.flatMap((p) => p.entries),
      });
    } catch {
      for (const pending of group) await pending.alone();
      return;
    }
    committed();
    const entries = response.entry ?? [];
    let at = 0;
    for (const pending of group) {
      pending.settle(entries.slice(at, at + pending.entries.length));
      at += pending.entries.length;
    }
  };

  const enqueue = <T>(
    entries: BundleEntry[],
    fromResponse: (entries: BundleEntry[]) => T,
    alone: () => Promise<T>,
  ): Promise<T> =>
    new Promise<T>((resolve, reject) => {
      queue.push({
        entries,
        keys: keysOf(entries),
        settle: (response) => {
          try {
            resolve(fromResponse(response));
          } catch (err) {
            reject(err);
          }
        },
        alone: () => alone().finally(committed).then(resolve, reject),
      });
      if (!scheduled) {
        scheduled = true;
        scheduleFlush();
      }
    });

  return {
    get description() {
      return store.description;
    },
    read: (type, id) => store.read(type, id),
    create<T extends Resource>(resource: T, createOptions: CreateOptions = {}): Promise<CreateResult<WithId<T>>> {
      const entry: BundleEntry = {
        resource,
        request: {
          method: 'POST',
          url: resource.resourceType,
          ...(createOptions.ifNoneExist ? { ifNoneExist: createOptions.ifNoneExist } : {}),
        },
      };
      return enqueue(
        [entry],
        ([response]) => ({
          resource: resourceOf<WithId<T>>(response),
          created: response?.response?.status?.startsWith('201') ?? false,
        }),
        () => store.create(resource, createOptions),
      );
    },
    update<T extends Resource>(resource: WithId<T>, updateOptions: UpdateOptions = {}): Promise<WithId<T>> {
      const entry: BundleEntry = {
        resource,
        request: {
          method: 'PUT',
          url: `${resource.resourceType}/${resource.id}`,
          ...(updateOptions.ifMatch !== undefined ? { ifMatch: updateOptions.ifMatch } : {}),
        },
      };
      return enqueue(
        [entry],
        ([response]) => resourceOf<WithId<T>>(response),
        () => store.update(resource, updateOptions),
      );
    },
    delete: (type, id) => flushThen(() => store.delete(type, id)),
    search: (type, query) => store.search(type, query),
    nextPage: (next) => store.nextPage(next),
    history: (type, id) => store.history(type, id),
    transaction(bundle: Bundle): Promise<Bundle> {
      const entries = bundle.entry ?? [];
      // Something the store should refuse, or a transaction that reads: on its own, as given.
      if (bundle.resourceType !== 'Bundle' || bundle.type !== 'transaction' || entries.some(readsOrIsOdd))
        return flushThen(() => store.transaction(bundle));
      return enqueue(
        entries,
        (response) => ({ resourceType: 'Bundle', type: 'transaction-response', entry: response }),
        () => store.transaction(bundle),
      );
    },
    async close() {
      await flush();
      await store.close();
    },
  };

  /** Runs `work` after the writes already queued, so a caller's writes keep their order. */
  async function flushThen<T>(work: () => Promise<T>): Promise<T> {
    if (queue.length) await flush();
    return work();
  }
}

function resourceOf<T>(entry: BundleEntry | undefined): T {
  if (!entry?.resource)
    throw new OutcomeError(serverError('A grouped transaction answered an entry without its resource'));
  return entry.resource as T;
}

function readsOrIsOdd(entry: BundleEntry): boolean {
  const method = entry.request?.method;
  return (method !== 'POST' && method !== 'PUT' && method !== 'DELETE') || !entry.request?.url;
}

/**
 * What a write's entries touch: their `urn:uuid` full URLs, the resources they name, and the
 * conditional queries they match on (normalised, so one query written two ways is one key).
 */
function keysOf(entries: BundleEntry[]): string[] {
  const keys: string[] = [];
  for (const entry of entries) {
    if (entry.fullUrl) keys.push(`url ${entry.fullUrl}`);
    const request = entry.request;
    if (!request) continue;
    const [path = '', query] = request.url.split('?');
    if (query !== undefined) keys.push(`match ${path}?${normalisedQuery(query)}`);
    else if (request.method !== 'POST') keys.push(`resource ${path}`);
    if (request.ifNoneExist) keys.push(`match ${path}?${normalisedQuery(request.ifNoneExist)}`);
  }
  return keys;
}

function normalisedQuery(query: string): string {
  const params = [...new URLSearchParams(query.startsWith('?') ? query.slice(1) : query)];
  return params
    .map(([k, v]) => `${k}=${v}`)
    .sort()
    .join('&');
}

/** Splits writes into groups, in arrival order, each within `maxEntries` and with no key shared. */
function groupsOf(batch: Pending[], maxEntries: number): Pending[][] {
  const groups: Pending[][] = [];
  let group: Pending[] = [];
  let keys = new Set<string>();
  let size = 0;
  for (const pending of batch) {
    const clash = pending.keys.some((k) => keys.has(k));
    if (group.length && (clash || size + pending.entries.length > maxEntries)) {
      groups.push(group);
      group = [];
      keys = new Set();
      size = 0;
    }
    group.push(pending);
    for (const k of pending.keys) keys.add(k);
    size += pending.entries.length;
  }
  if (group.length) groups.push(group);
  return groups;
}
