import type { Clock } from '../../ports/clock.ts';
import { systemClock } from '../../ports/clock.ts';
import type { Bundle, Resource, ResourceType } from '@medplum/fhirtypes';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { loadFhirDefinitions } from '../../definitions.ts';
import { badRequest, OutcomeError } from '../../outcomes.ts';
import type {
  CreateOptions,
  CreateResult,
  FhirStore,
  SearchPage,
  SearchQuery,
  UpdateOptions,
  WithId,
} from '../port.ts';
import { toSearchParams } from '../port.ts';
import { applySchema } from './schema.ts';
import type { IndexPolicy } from './index-policy.ts';
import { applyIndexPolicy, PROJECT_INDEX_POLICY } from './index-policy.ts';
import type { SearchExplanation } from './sync-store.ts';
import { SyncStore } from './sync-store.ts';
import { runTransaction } from './transaction.ts';

export interface SqliteStoreOptions {
  /** A file path, or `:memory:` for a throwaway store (tests). */
  path: string;
  /** `FULL` (default) syncs every commit to disk; `NORMAL` survives a process crash but not a power cut. */
  synchronous?: 'FULL' | 'NORMAL';
  /** The time stamped on `meta.lastUpdated`. Default: the system clock. */
  clock?: Clock;
  /**
   * The search parameters indexed, per type (index-policy.ts). Default: the project's. A file indexed under
   * another policy is re-indexed as it opens, for the types whose parameters changed.
   */
  indexPolicy?: IndexPolicy;
}

/**
 * The page cache per connection, in KiB (SQLite's default is 2,000). A write inserts into some eighty
 * B-trees (each index row goes into its table and three or four indexes), many of them at positions spread
 * over the file (ids, identifiers, references are uuids). With the default cache, the pages a write needs
 * have mostly been evicted since a write last touched them, and each is read back from the file. Larger is
 * not free either: at the end of every write transaction SQLite walks the whole cache's hash table
 * (`pcache1TruncateUnsafe`), so a commit's CPU grows with the cache. 16 MiB delivered 1.05x the orders of
 * 64 MiB in the design-day replay, for 0.95x the CPU (docs/performance.md).
 */
const CACHE_KIB = 16_384;

/**
 * How many pages the write-ahead log holds before a commit copies them into the database file (SQLite's
 * default is 1,000, about 4 MB). Many commits change the same pages (the end of an index, its inner
 * pages), and a checkpoint copies only each page's latest version: a longer log copies fewer pages in all.
 * It changes nothing in durability: every commit is still synced to the log before it is answered, and a
 * log left by a crash is replayed when the file is next opened. The log file grows to about 32 MB.
 */
const CHECKPOINT_PAGES = 8_000;

/**
 * The embedded default store: durable on disk with `node:sqlite`, zero set-up, and indexed, so the
 * workflow's searches never scan every resource. WAL mode lets several processes share one file.
 *
 * It opens the database and runs each write in its own SQLite transaction; the operations themselves
 * are SyncStore's, which a transaction Bundle shares.
 */
export class SqliteStore implements FhirStore {
  readonly description: string;
  private readonly db: DatabaseSync;
  private readonly sync: SyncStore;
  /** The types this store re-indexed as it opened (the file had been indexed under another policy). */
  readonly reindexed: string[];

  constructor(options: SqliteStoreOptions) {
    loadFhirDefinitions();
    if (options.path !== ':memory:') mkdirSync(dirname(options.path), { recursive: true });
    this.description = `sqlite:${options.path}`;
    this.db = new DatabaseSync(options.path);
    // busy_timeout first: switching to WAL needs a lock, and another replica may hold one (or be
    // checkpointing as it closes); without it, opening fails at once with "database is locked".
    this.db.exec(
      `PRAGMA busy_timeout = 5000; PRAGMA journal_mode = WAL; PRAGMA synchronous = ${options.synchronous ?? 'FULL'};`,
    );
    this.db.exec(`PRAGMA cache_size = -${CACHE_KIB}; PRAGMA wal_autocheckpoint = ${CHECKPOINT_PAGES};`);
    const policy = options.indexPolicy ?? PROJECT_INDEX_POLICY;
    this.sync = new SyncStore(this.db, options.clock ?? systemClock, policy);
    // One write transaction brings the file up to date, its layout and then its index rows.
    this.reindexed = this.inTransaction(() => {
      applySchema(this.db);
      return applyIndexPolicy(this.db, policy, (type) => this.sync.reindexType(type));
    });
  }

  async read<T extends Resource>(type: T['resourceType'], id: string): Promise<WithId<T>> {
    return this.sync.read<T>(type, id);
  }

  async create<T extends Resource>(resource: T, options: CreateOptions = {}): Promise<CreateResult<WithId<T>>> {
    return this.inTransaction(() => this.sync.create(resource, options));
  }

  async update<T extends Resource>(resource: WithId<T>, options: UpdateOptions = {}): Promise<WithId<T>> {
    return this.inTransaction(() => this.sync.update(resource, options));
  }

  async delete(type: ResourceType, id: string): Promise<void> {
    this.inTransaction(() => this.sync.delete(type, id));
  }

  async search<T extends Resource>(type: T['resourceType'], query?: SearchQuery): Promise<SearchPage<WithId<T>>> {
    return this.sync.search<T>(type, toSearchParams(query));
  }

  async nextPage<T extends Resource>(next: string): Promise<SearchPage<WithId<T>>> {
    const q = next.indexOf('?');
    if (q < 0) throw new OutcomeError(badRequest(`Not a continuation of this store: ${next}`));
    return this.sync.search<T>(next.slice(0, q) as T['resourceType'], new URLSearchParams(next.slice(q + 1)));
  }

  async history<T extends Resource>(type: T['resourceType'], id: string): Promise<WithId<T>[]> {
    return this.sync.history<T>(type, id);
  }

  async transaction(bundle: Bundle): Promise<Bundle> {
    return this.inTransaction(() => runTransaction(this.sync, bundle));
  }

  async close(): Promise<void> {
    if (this.db.isOpen) this.db.close();
  }

  /**
   * How a search runs (SQLite's plan for each way of listing its matches, and which one answered): for
   * checking that a search is driven by an index and stops at the end of its page.
   */
  explainSearch(type: string, query: SearchQuery): SearchExplanation {
    return this.sync.explainSearch(type, toSearchParams(query));
  }

  /** Runs `work` in one write transaction; `BEGIN IMMEDIATE` takes the write lock up front. */
  private inTransaction<R>(work: () => R): R {
    this.db.exec('BEGIN IMMEDIATE');
    try {
      const result = work();
      this.db.exec('COMMIT');
      return result;
    } catch (err) {
      this.db.exec('ROLLBACK');
      throw err;
    }
  }
}
