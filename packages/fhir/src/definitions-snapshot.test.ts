import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { getAllDataTypes, globalSchema } from '@medplum/core';
import { deserialize, serialize } from 'node:v8';
import { isDeepStrictEqual } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fhirDefinitionsSnapshot, loadedFhirDefinitions } from './definitions.ts';
import { DEFINITIONS_SNAPSHOT_FILE, readDefinitionsSnapshot } from './definitions-snapshot.ts';
import { readDefinitionsSubset } from './definitions-subset.ts';

/**
 * What a process that read the snapshot holds, and what it finds in the cases: run in a fresh process,
 * since Medplum's schema is global to one. Prints JSON: the V8 serialisation of its schema, in base64,
 * and the findings of every case (and of elements named like Object.prototype's members, which a schema
 * whose objects had another prototype would take for elements).
 */
const CHILD = `
  import { getAllDataTypes, globalSchema } from '@medplum/core';
  import { serialize } from 'node:v8';
  import { installDefinitionsSnapshot, readDefinitionsSnapshot } from './definitions-snapshot.ts';
  import { casesWithPrototypeNames } from './definitions-test-cases.ts';
  import { baseFindings } from './validation/base.ts';
  const snapshot = readDefinitionsSnapshot(process.argv[1]);
  if (!snapshot) throw new Error('no snapshot read');
  installDefinitionsSnapshot(snapshot);
  console.log(JSON.stringify({
    schema: serialize({ dataTypes: getAllDataTypes(), searchTypes: globalSchema.types }).toString('base64'),
    findings: casesWithPrototypeNames().map(([name, resource]) => [name, baseFindings(resource)]),
  }));`;

/**
 * What a process that installed the snapshot has read of it, before and after it looks types up, and
 * what a type Medplum sets meanwhile holds. Prints JSON.
 */
const LAZY_CHILD = `
  import { getAllDataTypes, globalSchema } from '@medplum/core';
  import { installDefinitionsSnapshot, readDefinitionsSnapshot } from './definitions-snapshot.ts';
  installDefinitionsSnapshot(readDefinitionsSnapshot(process.argv[1]));
  const dataTypes = getAllDataTypes();
  const waiting = (target, name) => typeof Object.getOwnPropertyDescriptor(target, name)?.get === 'function';
  const out = { installed: { Task: waiting(dataTypes, 'Task'), TaskInput: waiting(dataTypes, 'TaskInput'), Patient: waiting(dataTypes, 'Patient'), searchTask: waiting(globalSchema.types, 'Task') } };
  const task = dataTypes.Task;
  out.afterTask = { name: task.name, innerIsShared: task.innerTypes.includes(dataTypes.TaskInput), Task: waiting(dataTypes, 'Task'), TaskInput: waiting(dataTypes, 'TaskInput'), Patient: waiting(dataTypes, 'Patient') };
  // A type Medplum sets before its group is read keeps what was set, and the rest of its group is read.
  const mine = { name: 'Mine' };
  dataTypes.Patient = mine;
  out.afterSet = { kept: dataTypes.Patient === mine, contact: dataTypes.PatientContact?.name, keptAfterRead: dataTypes.Patient === mine };
  const search = globalSchema.types;
  const searchWaiting = () => Object.fromEntries(['Task', 'Organization', 'Endpoint', 'Practitioner', 'PractitionerRole', 'Patient', 'ValueSet'].map((type) => [type, waiting(search, type)]));
  out.searchInstalled = searchWaiting();
  out.search = { task: Object.keys(search.Task.searchParams).includes('status'), waiting: searchWaiting() };
  // A type that shares a SearchParameter with others is read with them, the same object for each.
  out.practitioner = { email: search.Practitioner.searchParams.email.code, sharedWithPatient: search.Practitioner.searchParams.email === search.Patient.searchParams.email, search: searchWaiting() };
  search.Organization; search.Endpoint;
  out.directoryTypes = searchWaiting();
  console.log(JSON.stringify(out));`;

/** The schema Medplum holds: its data types and its search parameters by resource type. */
const medplumSchema = () => ({ dataTypes: getAllDataTypes(), searchTypes: globalSchema.types });

/** How many distinct objects a value reaches: two graphs that are deep-equal share alike when this is equal. */
function objectCount(value: unknown, seen = new Set<object>()): number {
  if (value === null || typeof value !== 'object' || seen.has(value)) return seen.size;
  seen.add(value);
  for (const item of value instanceof Set ? value : Object.values(value)) objectCount(item, seen);
  return seen.size;
}

let dir: string;
let parsed: { schema: Buffer; findings: unknown[] };
let fromSnapshot: { schema: string; findings: unknown[] };

beforeAll(async () => {
  if (loadedFhirDefinitions() !== 'none') throw new Error('this file needs a process with no definitions loaded');
  dir = mkdtempSync(join(tmpdir(), 'definitions-snapshot-'));
  const file = join(dir, 'fhir-definitions.v8');
  writeFileSync(file, fhirDefinitionsSnapshot());
  const { casesWithPrototypeNames } = await import('./definitions-test-cases.ts');
  const { baseFindings } = await import('./validation/base.ts');
  parsed = {
    // Before validating anything: validation adds look-ups of its own to the schema.
    schema: serialize(medplumSchema()),
    findings: JSON.parse(
      JSON.stringify(casesWithPrototypeNames().map(([name, resource]) => [name, baseFindings(resource)])),
    ),
  };
  const out = execFileSync(process.execPath, ['--input-type=module', '-e', CHILD, file], {
    cwd: import.meta.dirname,
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  fromSnapshot = JSON.parse(out);
}, 60_000);

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('the definitions snapshot', () => {
  it('gives a process that reads it the schema parsing the subset gives, objects shared alike', () => {
    // Both as V8 reads them back (a number or a string may be held another way, with the same value).
    const read = deserialize(Buffer.from(fromSnapshot.schema, 'base64'));
    const parsedSchema = deserialize(parsed.schema);
    // Compared here, not by toEqual's report: a difference would print megabytes.
    expect(isDeepStrictEqual(read, parsedSchema)).toBe(true);
    expect(objectCount(parsedSchema)).toBeGreaterThan(10_000);
    expect(objectCount(read)).toBe(objectCount(parsedSchema));
    // And the comparison can fail: one changed element is a difference.
    read.dataTypes.Task.elements.status.min = 0;
    expect(isDeepStrictEqual(read, parsedSchema)).toBe(false);
  });

  it('gives the same findings for every case', () => {
    // The cases do find problems: the comparison is not between empty lists.
    const withFindings = (findings: unknown[]) =>
      findings.filter((f) => JSON.stringify((f as [string, { structure: unknown[] }])[1].structure) !== '[]');
    expect(withFindings(parsed.findings).length).toBeGreaterThan(20);
    expect(fromSnapshot.findings).toEqual(parsed.findings);
  });

  it('is read part by part: a data type with its inner types, a type’s search parameters with those of the types it shares some with', () => {
    /** Which of these types' search parameters are still waiting to be read, all but those read. */
    const waitingSearch = (read: string[]) =>
      Object.fromEntries(
        ['Task', 'Organization', 'Endpoint', 'Practitioner', 'PractitionerRole', 'Patient', 'ValueSet'].map((type) => [
          type,
          !read.includes(type),
        ]),
      );
    const out = JSON.parse(
      execFileSync(process.execPath, ['--input-type=module', '-e', LAZY_CHILD, join(dir, 'fhir-definitions.v8')], {
        cwd: import.meta.dirname,
        encoding: 'utf8',
      }),
    );
    expect(out).toEqual({
      installed: { Task: true, TaskInput: true, Patient: true, searchTask: true },
      afterTask: { name: 'Task', innerIsShared: true, Task: false, TaskInput: false, Patient: true },
      afterSet: { kept: true, contact: 'PatientContact', keptAfterRead: true },
      searchInstalled: waitingSearch([]),
      search: { task: true, waiting: waitingSearch(['Task']) },
      practitioner: {
        email: 'email',
        sharedWithPatient: true,
        search: waitingSearch(['Task', 'Practitioner', 'PractitionerRole', 'Patient']),
      },
      // What the hub's directory seeding reads: not the search parameters of the other types (ValueSet…).
      directoryTypes: waitingSearch([
        'Task',
        'Practitioner',
        'PractitionerRole',
        'Patient',
        'Organization',
        'Endpoint',
      ]),
    });
  });

  it('holds the subset’s look-ups', () => {
    const snapshot = readDefinitionsSnapshot(join(dir, 'fhir-definitions.v8'));
    const subset = readDefinitionsSubset();
    expect(snapshot?.otherResourceTypes).toEqual(subset.otherResourceTypes);
    expect(snapshot?.terminology).toEqual(subset.terminology);
    expect(snapshot?.terminologyAbsent).toEqual(subset.terminologyAbsent);
  });

  it('is not used when another V8 wrote it, nor when there is none', () => {
    const file = join(dir, 'other-v8.v8');
    writeFileSync(
      file,
      serialize({ v8: '0.0.0', dataTypeGroups: [], searchTypeGroups: [{ names: [], data: serialize({}) }] }),
    );
    expect(readDefinitionsSnapshot(file)).toBeUndefined();
    // Nor one with the search parameters in one group, the form before them.
    writeFileSync(
      file,
      serialize({ v8: process.versions.v8, dataTypeGroups: [], searchTypes: { names: [], data: serialize({}) } }),
    );
    expect(readDefinitionsSnapshot(file)).toBeUndefined();
    // Nor one in the earlier form, the schema in one piece.
    writeFileSync(file, serialize({ v8: process.versions.v8, dataTypes: {}, searchTypes: {} }));
    expect(readDefinitionsSnapshot(file)).toBeUndefined();
    expect(readDefinitionsSnapshot(join(dir, 'none.v8'))).toBeUndefined();
  });

  it('is not in the sources: a run from source parses the subset', () => {
    expect(readDefinitionsSnapshot(DEFINITIONS_SNAPSHOT_FILE)).toBeUndefined();
  });
});
