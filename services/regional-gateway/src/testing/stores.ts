import type { FhirStore } from '@imaging/fhir';
import { toSearchParams } from '@imaging/fhir';

/** Resolves once `parties` callers are waiting, all together: makes replicas meet before either writes. */
export function meetingPoint(parties: number): () => Promise<void> {
  let waiting: (() => void)[] = [];
  return () =>
    new Promise<void>((resolve) => {
      waiting.push(resolve);
      if (waiting.length === parties) {
        for (const release of waiting) release();
        waiting = [];
      }
    });
}

/** The store, recording every search made through it as `Type?query`. */
export function recordingSearches(store: FhirStore, queries: string[]): FhirStore {
  return new Proxy(store, {
    get(target, prop) {
      if (prop === 'search')
        return (type: string, query: Parameters<FhirStore['search']>[1]) => {
          queries.push(`${type}?${toSearchParams(query)}`);
          return target.search(type as never, query);
        };
      const value = Reflect.get(target, prop);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}
