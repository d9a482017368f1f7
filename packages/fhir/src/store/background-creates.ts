import type { BundleEntry, Resource } from '@medplum/fhirtypes';
import type { Logger } from '../ports/logger.ts';
import type { FhirStore } from './port.ts';

/**
 * Creates that must not slow the request that causes them (the record of a read): queued in memory and
 * stored in the background, many to one transaction, every `intervalMs` or as soon as `maxBatch` are
 * waiting. `close()` stores what is left, so a clean shutdown loses nothing; a crash loses what was
 * queued since the last write (at most `intervalMs` of them). A write that fails is kept and tried again
 * at the next tick; while the store stays unreachable, at most `maxQueued` wait, the oldest dropped
 * beyond that, each drop logged as an error.
 */
export interface BackgroundCreates {
  /** Queues a resource to create; never waits for the store. */
  add(resource: Resource): void;
  /** Stores everything queued so far; resolves once it is stored, or has failed and been logged. */
  flush(): Promise<void>;
  /** Stops the timer and stores what is left: call on shutdown, before the store is closed. */
  close(): Promise<void>;
  /** How many are queued and not yet stored. */
  readonly pending: number;
}

export interface BackgroundCreatesOptions {
  logger: Logger;
  /** What is stored, for the log (`disclosure AuditEvents`). */
  what: string;
  /** Default 1 s. 0: no timer (tests call flush). */
  intervalMs?: number;
  /** Default 200. */
  maxBatch?: number;
  /** Default 100 000. */
  maxQueued?: number;
}

export function backgroundCreates(store: FhirStore, options: BackgroundCreatesOptions): BackgroundCreates {
  const { logger, what } = options;
  const maxBatch = options.maxBatch ?? 200;
  const maxQueued = options.maxQueued ?? 100_000;
  const intervalMs = options.intervalMs ?? 1000;
  let queue: Resource[] = [];
  let writing: Promise<void> = Promise.resolve();

  // Batches go one after another; a failed one goes back to the front, to be tried at the next flush.
  const writeAll = async (): Promise<void> => {
    while (queue.length) {
      const batch = queue.slice(0, maxBatch);
      queue = queue.slice(batch.length);
      try {
        await store.transaction({
          resourceType: 'Bundle',
          type: 'transaction',
          entry: batch.map(
            (resource): BundleEntry => ({ resource, request: { method: 'POST', url: resource.resourceType } }),
          ),
        });
      } catch (err) {
        queue = [...batch, ...queue];
        logger.error(`could not store ${what}: will try again`, { queued: queue.length, problem: String(err) });
        return;
      }
    }
  };
  const flush = (): Promise<void> => {
    writing = writing.then(writeAll);
    return writing;
  };
  const timer = intervalMs > 0 ? setInterval(() => void flush(), intervalMs) : undefined;
  timer?.unref();

  return {
    add(resource) {
      queue.push(resource);
      if (queue.length > maxQueued) {
        const dropped = queue.splice(0, queue.length - maxQueued);
        logger.error(`${what} dropped: the store has not taken them for too long`, { dropped: dropped.length });
      }
      if (queue.length >= maxBatch) void flush();
    },
    flush,
    async close() {
      if (timer) clearInterval(timer);
      await flush();
      if (queue.length) logger.error(`${what} lost at shutdown: the store did not take them`, { lost: queue.length });
    },
    get pending() {
      return queue.length;
    },
  };
}
