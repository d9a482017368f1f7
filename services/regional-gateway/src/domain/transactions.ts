import type { Bundle, BundleEntry, Resource } from '@medplum/fhirtypes';
import { OutcomeError, serverError } from '@imaging/fhir';
import type { FhirStore, WithId } from '@imaging/fhir';

export function runTransaction(store: FhirStore, entries: BundleEntry[]): Promise<Bundle> {
  return store.transaction({ resourceType: 'Bundle', type: 'transaction', entry: entries });
}

export function entryResource<T extends Resource>(response: Bundle, index: number): WithId<T> {
  const resource = response.entry?.[index]?.resource;
  if (!resource) throw new OutcomeError(serverError(`Transaction response has no resource at entry ${index}`));
  return resource as WithId<T>;
}

/** True when the entry created something (201), false when a conditional create matched (200). */
export function isCreated(response: Bundle, index: number): boolean {
  return response.entry?.[index]?.response?.status?.startsWith('201') ?? false;
}

/** The result of a versioned write, or undefined when another writer came first (412). */
export async function ifStillCurrent<T>(write: Promise<T>): Promise<T | undefined> {
  try {
    return await write;
  } catch (err) {
    if (err instanceof OutcomeError && err.status === 412) return undefined;
    throw err;
  }
}
