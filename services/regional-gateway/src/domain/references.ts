import type { Identifier, Reference, Resource } from '@medplum/fhirtypes';
import { searchOne } from '@imaging/fhir';
import type { FhirStore } from '@imaging/fhir';
import { mapReferences } from '@imaging/messaging';

/**
 * Turns the logical references a message carries (type + business identifier) into literal references
 * to this region's copies, where it has one. A reference it cannot resolve stays logical: still valid
 * FHIR, and still meaningful to a reader.
 */
export async function resolveLogicalReferences<T extends Resource>(store: FhirStore, resource: T): Promise<T> {
  const wanted: Reference[] = [];
  mapReferences(resource, (ref) => {
    if (!ref.reference && ref.type && ref.identifier?.system && ref.identifier.value && ref.type !== 'Organization')
      wanted.push(ref);
    return ref;
  });
  const resolved = new Map<string, string>();
  for (const ref of wanted) {
    const key = keyOf(ref);
    if (resolved.has(key)) continue;
    const found = await searchOne(store, ref.type as Resource['resourceType'], {
      identifier: `${ref.identifier?.system}|${ref.identifier?.value}`,
    });
    if (found) resolved.set(key, `${found.resourceType}/${found.id}`);
  }
  if (resolved.size === 0) return resource;
  return mapReferences(resource, (ref) => {
    const literal = !ref.reference ? resolved.get(keyOf(ref)) : undefined;
    return literal ? { ...ref, reference: literal } : ref;
  });
}

function keyOf(ref: Reference): string {
  return `${ref.type}|${ref.identifier?.system}|${ref.identifier?.value}`;
}

/**
 * For building a message: reads each resource a resource refers to and returns a lookup from its
 * `Type/id` to its business identifier (what the other region will know it by).
 */
export async function identifierLookup(
  store: FhirStore,
  resources: Resource[],
  identifierOf: (r: Resource) => Identifier | undefined,
): Promise<(reference: string) => Identifier | undefined> {
  const literals = new Set<string>();
  for (const resource of resources) {
    mapReferences(resource, (ref) => {
      if (ref.reference && /^[A-Z][A-Za-z]+\/[A-Za-z0-9\-.]+$/.test(ref.reference)) literals.add(ref.reference);
      return ref;
    });
  }
  const found = new Map<string, Identifier>();
  for (const literal of literals) {
    const [type, id] = literal.split('/') as [Resource['resourceType'], string];
    try {
      const identifier = identifierOf(await store.read(type, id));
      if (identifier) found.set(literal, identifier);
    } catch {
      // A reference to something gone is left out of the message rather than failing it.
    }
  }
  return (reference) => found.get(reference);
}
