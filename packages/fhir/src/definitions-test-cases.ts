import type { Bundle, Resource } from '@medplum/fhirtypes';
import { readDefinitionsSubset } from './definitions-subset.ts';
import {
  allExamples,
  exampleDiagnosticReport,
  examplePatient,
  exampleServiceRequest,
  profileDefinitions,
} from './examples/index.ts';

/**
 * Resources the services write, valid and broken in the ways base R4 validation tells apart: unknown and
 * missing elements, wrong JSON types, codes outside required bindings, invariants, reference types.
 */
export function cases(): [string, unknown][] {
  const examples = allExamples();
  const named = (r: Resource, i: number) => `${r.resourceType} ${i}`;
  return [
    ...examples.map((r, i): [string, unknown] => [named(r, i), r]),
    ...profileDefinitions().map((r, i): [string, unknown] => [`profile ${i}`, r]),
    ...examples.map((r, i): [string, unknown] => [`${named(r, i)} with an unknown element`, { ...r, colour: 'blue' }]),
    ...examples.map((r, i): [string, unknown] => [`${named(r, i)} with a bad meta`, { ...r, meta: 'x' }]),
    ...examples.map((r, i): [string, unknown] => [`${named(r, i)} with a bad status`, { ...r, status: 'nope' }]),
    ...examples.map((r, i): [string, unknown] => [
      `${named(r, i)} with an extension of every kind of value`,
      {
        ...r,
        extension: [
          { url: 'urn:x:a', valuePeriod: { start: '2026-01-02', end: '2026-01-01' } },
          { url: 'urn:x:b', valueQuantity: { value: 'one' } },
          { url: 'urn:x:c', valueCoding: { system: 'urn:x', code: 'c' }, valueString: 'two values' },
          { url: 'urn:x:d', valueDosage: { sequence: 1 } },
        ],
      },
    ]),
    [
      'a transaction of every example',
      {
        resourceType: 'Bundle',
        type: 'transaction',
        entry: examples.map((resource) => ({ resource, request: { method: 'POST', url: resource.resourceType } })),
      } satisfies Bundle,
    ],
    ['a collection with a total (bdl-1)', { resourceType: 'Bundle', type: 'collection', total: 1 }],
    ['a patient with an empty contact (pat-1)', examplePatient({ contact: [{ gender: 'other' }] })],
    [
      'a patient whose contained patient contains one (dom-2)',
      examplePatient({ contained: [{ resourceType: 'Patient', contained: [{ resourceType: 'Patient' }] }] }),
    ],
    ['an order for an Endpoint', exampleServiceRequest({ subject: { reference: 'Endpoint/1' } })],
    [
      'a report with an ill-typed result and a contained Organization',
      exampleDiagnosticReport({
        contained: [{ resourceType: 'Organization', id: 'o1', name: 'X', active: 'yes' as never }],
        result: [{ reference: 'Patient/1' }],
      }),
    ],
    ...readDefinitionsSubset().resourceTypes.map((type): [string, unknown] => [
      `a bare ${type}`,
      { resourceType: type },
    ]),
  ];
}

/** The cases, and resources with elements named like members of Object.prototype (no such element exists). */
export function casesWithPrototypeNames(): [string, unknown][] {
  const names = ['constructor', 'toString', 'hasOwnProperty', 'valueOf'];
  return [
    ...cases(),
    ...names.map((name): [string, unknown] => [
      `a patient with an element named ${name}`,
      examplePatient({ [name]: 'x' } as never),
    ]),
    ...names.map((name): [string, unknown] => [
      `a patient with a name part named ${name}`,
      examplePatient({ name: [{ family: 'X', [name]: 'x' }] } as never),
    ]),
  ];
}
