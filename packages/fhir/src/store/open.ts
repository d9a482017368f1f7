import type { FhirStore } from './port.ts';
import { groupCommitStore } from './group-commit.ts';
import { HttpStore } from './http/http-store.ts';
import { SqliteStore } from './sqlite/sqlite-store.ts';

export interface OpenStoreOptions {
  /**
   * Group the embedded store's concurrent writes into one commit each (groupCommitStore): a service
   * under load then syncs to disk once per group rather than once per write, each write as durable as
   * before. A FHIR server over HTTP already commits concurrently, so it is opened as it is.
   */
  groupCommit?: boolean;
  /** What the HTTP adapter calls the server with (a service passes fhir-http's nodeFetch); the global fetch by default. */
  fetch?: typeof fetch;
}

/**
 * A service's grouped commits are at least this far apart (groupCommitStore's `minGapMs`). Each commit
 * syncs the log to disk and writes every page it changed; under load, gathering 15 ms of writes into one
 * commit wrote 0.93 times the bytes per order and delivered 1.10 times the orders per second in the
 * 30,000-order design-day replay (docs/performance.md). After a quiet spell a write commits on the next turn.
 */
const COMMIT_GAP_MS = 15;

/**
 * Opens the store a service is configured with: an `http(s)://` FHIR base (HAPI in production) gets
 * the HTTP adapter, anything else is a file path for the embedded store.
 */
export function openStore(location: string, options: OpenStoreOptions = {}): FhirStore {
  if (/^https?:\/\//.test(location))
    return new HttpStore({ baseUrl: location, ...(options.fetch ? { fetch: options.fetch } : {}) });
  const store = new SqliteStore({ path: location });
  return options.groupCommit ? groupCommitStore(store, { minGapMs: COMMIT_GAP_MS }) : store;
}
