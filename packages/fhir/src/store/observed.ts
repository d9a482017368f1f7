import type { Bundle, Resource } from '@medplum/fhirtypes';
import type { FhirStore, WithId } from './port.ts';

/** A resource a write stored: created, or a new version of it (an update that changed nothing may repeat one). */
export interface StoreChange {
  action: 'create' | 'update';
  resource: WithId<Resource>;
}

/** Told of what each write stored, once it is stored. It must not throw (the write has happened either way). */
export type StoreChangeListener = (changes: readonly StoreChange[]) => void;

/**
 * A store that tells a listener what every create, update and transaction stored, after the store has it:
 * how a service streams its own events (the flow view's feed) without its domain code knowing. It sits above
 * the port, so it behaves the same on the embedded store and on HAPI. Reads pass through; a write that fails
 * tells nothing; a conditional create that matched an existing resource stored nothing, so it tells nothing.
 */
export function observedStore(store: FhirStore, listener: StoreChangeListener): FhirStore {
  const tell = (changes: StoreChange[]) => {
    if (changes.length === 0) return;
    try {
      listener(changes);
    } catch {
      // The write is committed: a listener's failure must not turn it into an error for the caller.
    }
  };
  return {
    get description() {
      return store.description;
    },
    read: (type, id) => store.read(type, id),
    async create(resource, options) {
      const result = await store.create(resource, options);
      if (result.created) tell([{ action: 'create', resource: result.resource }]);
      return result;
    },
    async update(resource, options) {
      const updated = await store.update(resource, options);
      tell([{ action: 'update', resource: updated }]);
      return updated;
    },
    delete: (type, id) => store.delete(type, id),
    search: (type, query) => store.search(type, query),
    nextPage: (next) => store.nextPage(next),
    history: (type, id) => store.history(type, id),
    async transaction(bundle) {
      const response = await store.transaction(bundle);
      tell(transactionChanges(bundle, response));
      return response;
    },
    close: () => store.close(),
  };
}

/** What a transaction stored: its POSTs that created (201) and its PUTs, in the order of the request. */
function transactionChanges(request: Bundle, response: Bundle): StoreChange[] {
  const changes: StoreChange[] = [];
  (request.entry ?? []).forEach((entry, i) => {
    const answer = response.entry?.[i];
    const resource = answer?.resource as WithId<Resource> | undefined;
    const method = entry.request?.method;
    if (!resource?.id || (method !== 'POST' && method !== 'PUT')) return;
    const created = answer?.response?.status?.startsWith('201') ?? false;
    if (method === 'POST' && !created) return;
    changes.push({ action: created ? 'create' : 'update', resource });
  });
  return changes;
}
