import type { SearchParameter } from '@medplum/fhirtypes';
import type { InternalTypeSchema } from '@medplum/core';
import { getSearchParameters, tryGetDataType } from '@medplum/core';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadAllFhirDefinitions, loadedFhirDefinitions, loadFhirDefinitions, resourceTypesIn } from './definitions.ts';
import { readDefinitionsSubset } from './definitions-subset.ts';
import { cases } from './definitions-test-cases.ts';
import { exampleDiagnosticReport } from './examples/index.ts';
import { baseFindings } from './validation/base.ts';

/** Every data type and resource type the subset defines, with their backbone elements, as Medplum parsed them. */
function schemas(): Map<string, InternalTypeSchema | undefined> {
  const out = new Map<string, InternalTypeSchema | undefined>();
  for (const sd of readDefinitionsSubset().structureDefinitions) {
    const schema = tryGetDataType(sd.name);
    out.set(sd.name, schema);
    for (const inner of schema?.innerTypes ?? []) out.set(inner.name, tryGetDataType(inner.name));
  }
  return out;
}

/** The search parameters of each resource type, `base` left out (the subset narrows it to its own types). */
function searchParameters(): Map<string, Record<string, Omit<SearchParameter, 'base'>>> {
  const out = new Map<string, Record<string, Omit<SearchParameter, 'base'>>>();
  for (const type of readDefinitionsSubset().resourceTypes) {
    const params = Object.entries(getSearchParameters(type) ?? {}).map(([code, { base: _base, ...rest }]) => [
      code,
      rest,
    ]);
    out.set(type, Object.fromEntries(params));
  }
  return out;
}

// Medplum's schema is global to the process, and each test file runs in a process of its own: record
// what the subset gives, then load all of R4 over it and record again.
interface Recorded {
  loaded: string;
  schemas: Map<string, InternalTypeSchema | undefined>;
  searchParameters: Map<string, Record<string, Omit<SearchParameter, 'base'>>>;
  findings: [string, ReturnType<typeof baseFindings>][];
}
let subset: Recorded;
let all: Recorded;
let outsideSubset: { before: string; after: string; findings: ReturnType<typeof baseFindings> };

function record(): Recorded {
  const findings = cases().map(([name, resource]): [string, ReturnType<typeof baseFindings>] => [
    name,
    baseFindings(resource),
  ]);
  return { loaded: loadedFhirDefinitions(), schemas: schemas(), searchParameters: searchParameters(), findings };
}

beforeAll(() => {
  if (loadedFhirDefinitions() !== 'none') throw new Error('this file needs a process with no definitions loaded');
  loadFhirDefinitions();
  subset = record();
  const before = loadedFhirDefinitions();
  const findings = baseFindings(
    exampleDiagnosticReport({
      contained: [{ resourceType: 'Observation', id: 'o1', code: { text: 'nodule' } } as never],
      result: [{ reference: '#o1' }],
    }),
  );
  outsideSubset = { before, after: loadedFhirDefinitions(), findings };
  loadAllFhirDefinitions();
  all = record();
}, 60_000);

describe('the definitions subset', () => {
  it('is all the services’ resources need: validating them loads nothing more', () => {
    expect(subset.loaded).toBe('subset');
    expect(outsideSubset.before).toBe('subset');
  });

  it('parses each of its types to the schema all of R4 gives', () => {
    expect([...subset.schemas.values()].every((s) => s !== undefined)).toBe(true);
    expect(subset.schemas.size).toBeGreaterThan(150);
    expect(subset.schemas).toEqual(all.schemas);
  });

  it('has the search parameters all of R4 has on its types', () => {
    expect(subset.searchParameters.get('Task')?.owner?.expression).toBe('Task.owner');
    expect(subset.searchParameters).toEqual(all.searchParameters);
  });

  it('gives the findings all of R4 gives, for every case', () => {
    // The cases do find problems: the comparison is not between empty lists.
    expect(subset.findings.filter(([, f]) => f.structure.length > 0).length).toBeGreaterThan(40);
    expect(subset.findings.filter(([, f]) => f.codes.length > 0).length).toBeGreaterThan(5);
    expect(subset.findings.filter(([, f]) => f.references.length > 0).length).toBeGreaterThan(1);
    expect(subset.findings).toEqual(all.findings);
  });

  it('gives way to all of R4 for a resource holding a type outside it', () => {
    expect(outsideSubset.after).toBe('all');
    // The contained Observation is checked against its own definition: it lacks its status.
    expect(outsideSubset.findings.structure.map((i) => [i.code, i.expression?.[0]])).toEqual([
      ['structure', 'DiagnosticReport.contained[0].status'],
    ]);
  });
});

describe('resourceTypesIn', () => {
  it('names the types of a resource, its contained resources, entries and parameters', () => {
    const bundle = {
      resourceType: 'Bundle',
      entry: [
        { resource: exampleDiagnosticReport({ contained: [{ resourceType: 'Observation' } as never] }) },
        { resource: { resourceType: 'Parameters', parameter: [{ name: 'p', resource: { resourceType: 'Patient' } }] } },
      ],
    };
    expect([...resourceTypesIn(bundle)].sort()).toEqual([
      'Bundle',
      'DiagnosticReport',
      'Observation',
      'Parameters',
      'Patient',
    ]);
    expect([...resourceTypesIn('Patient')]).toEqual([]);
  });
});
