import { evalFhirPathTyped, getSearchParameterDetails, parseFhirPath, toTypedValue } from '@medplum/core';
import type { Resource } from '@medplum/fhirtypes';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { loadFhirDefinitions } from '../../definitions.ts';
import { allExamples } from '../../examples/index.ts';
import { compilePath, evaluateCompiled } from './compiled-path.ts';
import replayResources from './indexer.fixtures.json' with { type: 'json' };
import { PATHWAY_TYPES, resourceArbitrary } from './indexer-arbitraries.ts';
import { searchParametersOf } from './indexer.ts';

loadFhirDefinitions();

type Outcome = { values: { type: string; value: unknown }[] } | { threw: true };

function fhirPath(resource: Resource, code: string): Outcome {
  const param = searchParametersOf(resource.resourceType).find((p) => p.code === code);
  const expression = getSearchParameterDetails(resource.resourceType, param as never).parsedExpression;
  try {
    const values = evalFhirPathTyped(expression, [toTypedValue(structuredClone(resource))]);
    return { values: values.map((v) => ({ type: v.type, value: v.value })) };
  } catch {
    return { threw: true };
  }
}

/** The walk's outcome; undefined when it gives up (FHIRPath is asked then). */
function walked(resource: Resource, code: string): Outcome | undefined {
  const param = searchParametersOf(resource.resourceType).find((p) => p.code === code);
  const expression = getSearchParameterDetails(resource.resourceType, param as never).parsedExpression;
  const compiled = compilePath(expression, resource.resourceType);
  if (!compiled) return undefined;
  try {
    const values = evaluateCompiled(compiled, toTypedValue(structuredClone(resource)));
    return values && { values };
  } catch {
    return { threw: true };
  }
}

/** Checks every walked parameter of the resource against FHIRPath; the number of parameters the walk gave up on. */
function expectFhirPathValues(resource: Resource): number {
  let gaveUp = 0;
  for (const { code } of searchParametersOf(resource.resourceType)) {
    const walk = walked(resource, code);
    if (walk === undefined) {
      gaveUp += compiledCodes(resource.resourceType).has(code) ? 1 : 0;
      continue;
    }
    expect(walk, `${resource.resourceType} ${code}`).toStrictEqual(fhirPath(resource, code));
  }
  return gaveUp;
}

function compiledCodes(resourceType: string): Set<string> {
  return new Set(
    searchParametersOf(resourceType)
      .filter((p) => compilePath(getSearchParameterDetails(resourceType, p).parsedExpression, resourceType))
      .map((p) => p.code),
  );
}

describe('compilePath', () => {
  const compiles = (expression: string, type: string) => compilePath(parseFhirPath(expression), type) !== undefined;

  it('compiles unions of plain navigations, and a reference filtered by its type', () => {
    expect(compiles('Task.status', 'Task')).toBe(true);
    expect(compiles('Task.meta.security', 'Task')).toBe(true);
    expect(compiles('Organization.name | Organization.alias', 'Organization')).toBe(true);
    expect(compiles('Task.for.where(resolve() is Patient)', 'Task')).toBe(true);
    expect(compiles('AuditEvent.agent.who.where(resolve() is Patient) | AuditEvent.entity.what', 'AuditEvent')).toBe(
      true,
    );
  });

  it('leaves everything else to FHIRPath', () => {
    for (const [expression, type] of [
      ['ServiceRequest.occurrence', 'ServiceRequest'], // a choice
      ['Patient.deceased.ofType(dateTime)', 'Patient'],
      ['Bundle.entry[0].resource', 'Bundle'], // an indexer, and a Resource
      ['Bundle.entry.resource', 'Bundle'], // typed by the value's resourceType
      ["Patient.telecom.where(system = 'email')", 'Patient'],
      ['Patient.deceased.exists() and Patient.deceased != false', 'Patient'],
      ['Task.for.where(resolve() is Patient).display', 'Task'],
      ['Task.for.where(resolve() is FHIR.Patient)', 'Task'],
      ['Task.for.where(resolve() is Period)', 'Task'], // `is` tests a Period by its shape
      ['Task.status', 'Patient'], // another type's expression
      ['Task.nope', 'Task'], // no such element
      ['Task', 'Task'],
      ['(Task.status as code)', 'Task'],
    ]) {
      expect(compiles(expression as string, type as string), expression).toBe(false);
    }
  });

  it('compiles most parameters of the types the pathway writes', () => {
    const total = PATHWAY_TYPES.flatMap((t) => searchParametersOf(t)).length;
    const compiled = PATHWAY_TYPES.reduce((n, t) => n + compiledCodes(t).size, 0);
    expect(compiled / total).toBeGreaterThan(0.9);
  });
});

describe('evaluateCompiled', () => {
  it.each(replayResources as Resource[])('a replay $resourceType: the values of FHIRPath, never giving up', (r) => {
    expect(expectFhirPathValues(r)).toBe(0);
  });

  it.each(allExamples())('example $resourceType: the values of FHIRPath', (r) => {
    expect(expectFhirPathValues(r)).toBe(0);
  });

  it('gives up where FHIRPath merges a primitive extension or resolves a contained resource', () => {
    expect(walked({ resourceType: 'Task', _status: { id: 's' } } as never, 'status')).toBeUndefined();
    expect(walked({ resourceType: 'Task', for: { resource: { resourceType: 'Patient' } } } as never, 'patient')).toBe(
      undefined,
    );
    // Not a Task after all: FHIRPath's `Task` finds nothing in it.
    const other = compilePath(parseFhirPath('Task.status'), 'Task');
    expect(evaluateCompiled(other as never, toTypedValue({ resourceType: 'Patient', status: 'x' }))).toBeUndefined();
    expect(walked({ resourceType: 'Task', for: { reference: 'Patient/1' } } as never, 'patient')).toStrictEqual({
      values: [{ type: 'Reference', value: { reference: 'Patient/1' } }],
    });
  });

  it('drops what a union drops: equal primitives, and the same element reached twice', () => {
    const org = { resourceType: 'Organization', name: 'a', alias: ['a', 'b', 'a'] } as Resource;
    expect(walked(org, 'name')).toStrictEqual({
      values: [
        { type: 'string', value: 'a' },
        { type: 'string', value: 'b' },
      ],
    });
    expect(walked(org, 'name')).toStrictEqual(fhirPath(org, 'name'));
  });

  it.each(PATHWAY_TYPES)('generated %s resources: the values of FHIRPath', (type) => {
    fc.assert(
      fc.property(resourceArbitrary(type), (resource) => {
        expectFhirPathValues(resource);
      }),
      { numRuns: 150 },
    );
  });
});
