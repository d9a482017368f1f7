import { getAllDataTypes, globalSchema } from '@medplum/core';
import type { InternalTypeSchema } from '@medplum/core';
import { existsSync, readFileSync } from 'node:fs';
import { deserialize, serialize } from 'node:v8';
import type { TerminologyResource } from './definitions-subset.ts';

/**
 * The services' definitions as Medplum holds them once parsed, serialised with `node:v8`. Parsing the
 * subset's StructureDefinitions is most of `loadFhirDefinitions()` (~90 ms); reading them back from this
 * form takes ~20 ms, and is done part by part, when a part is first used: each data type with its inner
 * types, the search parameters of each resource type with those of the types it shares some with (no
 * object is shared between two of these groups), the value sets. A service that validates nothing while
 * starting (the gateway) then reads almost none of it before it is ready, and the hub reads the search
 * parameters of the types its directory holds only.
 * The production bundle (infra/topology/bundle/bundle-services.ts) writes it beside each service's
 * script, from the same sources and the same @medplum/core, in the same build; a run from source has
 * none and parses, as before. `definitions-snapshot.test.ts` checks a process that reads it ends up with
 * byte for byte the same schema, and validates alike.
 */
export interface DefinitionsSnapshot {
  /** The V8 that wrote it: another V8 may not read its format, so the snapshot is then not used. */
  v8: string;
  /** Medplum's data types by name (`getAllDataTypes()`), a group per type and its inner types. */
  dataTypeGroups: SerialisedGroup[];
  /**
   * Medplum's search parameters by resource type (`globalSchema.types`), a group per type and the types it
   * shares a SearchParameter with (the conformance resources share `url`, `status`…; Patient and
   * Practitioner share `address`…).
   */
  searchTypeGroups: SerialisedGroup[];
  otherResourceTypes: string[];
  /** The subset's value sets and code systems (read on first use). */
  readonly terminology: TerminologyResource[];
  terminologyAbsent: string[];
}

/** Entries of one of Medplum's look-up objects, serialised together: the objects they share stay shared. */
interface SerialisedGroup {
  names: string[];
  data: Uint8Array;
}

/** The snapshot file's form: the terminology serialised too. */
type SnapshotFile = Omit<DefinitionsSnapshot, 'terminology'> & { terminology: Uint8Array };

/** Where a service looks for it: beside the module (in a bundle, beside `main.mjs`; in the sources, nowhere). */
export const DEFINITIONS_SNAPSHOT_FILE = new URL('./fhir-definitions.v8', import.meta.url);

function serialisedGroup(from: Record<string, unknown>, names: string[]): SerialisedGroup {
  return { names, data: serialize(Object.fromEntries(names.map((name) => [name, from[name]]))) };
}

/** The data types' names, by the type each belongs to (itself, or the type it is an inner type of). */
function dataTypeGroups(dataTypes: Record<string, InternalTypeSchema>): string[][] {
  const groups = new Map<InternalTypeSchema, string[]>();
  for (const [name, schema] of Object.entries(dataTypes)) {
    let root = schema;
    while (root.parentType) root = root.parentType;
    groups.set(root, [...(groups.get(root) ?? []), name]);
  }
  return [...groups.values()];
}

/**
 * Names of a look-up in groups such that no object one name's value reaches is reached from another
 * group's: each group then deserialises alone, and objects shared stay shared. Found by walking every
 * value once, joining the groups of two names that reach one object.
 */
function sharingGroups(lookup: Record<string, unknown>): string[][] {
  const leader = new Map<string, string>();
  const find = (name: string): string => {
    let root = name;
    while (leader.get(root) !== root) root = leader.get(root) as string;
    leader.set(name, root);
    return root;
  };
  const reachedBy = new Map<object, string>();
  for (const name of Object.keys(lookup)) {
    leader.set(name, name);
    const pending: unknown[] = [lookup[name]];
    while (pending.length > 0) {
      const value = pending.pop();
      if (value === null || typeof value !== 'object') continue;
      const other = reachedBy.get(value);
      if (other !== undefined) {
        leader.set(find(other), find(name));
        continue; // what it reaches was walked when first met
      }
      reachedBy.set(value, name);
      if (value instanceof Map) pending.push(...value.keys(), ...value.values());
      else pending.push(...(value instanceof Set ? value.values() : Object.values(value)));
    }
  }
  const groups = new Map<string, string[]>();
  for (const name of Object.keys(lookup)) groups.set(find(name), [...(groups.get(find(name)) ?? []), name]);
  return [...groups.values()];
}

/** Medplum's schema as it stands, with the subset's look-ups: call after `loadFhirDefinitions()`. */
export function takeDefinitionsSnapshot(
  lookups: Pick<DefinitionsSnapshot, 'otherResourceTypes' | 'terminology' | 'terminologyAbsent'>,
): Buffer {
  const dataTypes = getAllDataTypes();
  const snapshot: SnapshotFile = {
    v8: process.versions.v8,
    dataTypeGroups: dataTypeGroups(dataTypes).map((names) => serialisedGroup(dataTypes, names)),
    searchTypeGroups: sharingGroups(globalSchema.types).map((names) => serialisedGroup(globalSchema.types, names)),
    otherResourceTypes: lookups.otherResourceTypes,
    terminology: serialize(lookups.terminology),
    terminologyAbsent: lookups.terminologyAbsent,
  };
  return serialize(snapshot);
}

/** The snapshot in `file`, or undefined when there is none or this V8 did not write it. */
export function readDefinitionsSnapshot(
  file: URL | string = DEFINITIONS_SNAPSHOT_FILE,
): DefinitionsSnapshot | undefined {
  if (!existsSync(file)) return undefined;
  const stored = deserialize(readFileSync(file)) as Partial<SnapshotFile>;
  if (stored.v8 !== process.versions.v8 || !stored.dataTypeGroups || !stored.searchTypeGroups) return undefined;
  const { terminology, ...rest } = stored as SnapshotFile;
  let read: TerminologyResource[] | undefined;
  return Object.defineProperty(rest, 'terminology', {
    get: () => (read ??= deserialize(terminology) as TerminologyResource[]),
    enumerable: true,
  }) as DefinitionsSnapshot;
}

/**
 * Puts the snapshot's schema into Medplum, as `indexStructureDefinitionBundle` and `indexSearchParameter`
 * would have left it. Each group is read when one of its names is first looked up (Medplum looks a type
 * up by name, `dataTypes[name]`), and its names then become plain properties; one Medplum sets (when it
 * loads all of R4) is replaced. (Medplum's by-URL index of profiles is not filled: only the parser and
 * code generation read it, and `loadAllFhirDefinitions()` parses all of R4 again anyway.)
 */
export function installDefinitionsSnapshot(snapshot: DefinitionsSnapshot): void {
  const dataTypes = getAllDataTypes();
  for (const group of snapshot.dataTypeGroups) installLazily(dataTypes, group);
  for (const group of snapshot.searchTypeGroups) installLazily(globalSchema.types as Record<string, unknown>, group);
}

function installLazily(target: Record<string, unknown>, group: SerialisedGroup): void {
  const settle = (name: string, value: unknown) =>
    Object.defineProperty(target, name, { value, writable: true, enumerable: true, configurable: true });
  let read: Record<string, unknown> | undefined;
  const readAll = (): Record<string, unknown> => {
    if (!read) {
      read = deserialize(group.data) as Record<string, unknown>;
      // Only the names still waiting: one Medplum has set since keeps its value.
      for (const name of group.names) if (Object.getOwnPropertyDescriptor(target, name)?.get) settle(name, read[name]);
    }
    return read;
  };
  for (const name of group.names) {
    Object.defineProperty(target, name, {
      get: () => readAll()[name],
      set: (value: unknown) => settle(name, value),
      enumerable: true,
      configurable: true,
    });
  }
}
