import type { Resource } from '@medplum/fhirtypes';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { casesWithPrototypeNames } from '../../definitions-test-cases.ts';
import { loadFhirDefinitions } from '../../definitions.ts';
import { exampleFulfilmentTask as exampleTask, exampleServiceRequest } from '../../examples/index.ts';
import { EXTENSIONS } from '../../systems.ts';
import replayResources from './indexer.fixtures.json' with { type: 'json' };
import { PATHWAY_TYPES, resourceArbitrary } from './indexer-arbitraries.ts';
import { indexResource, indexResourceEvaluatingAll } from './indexer.ts';

loadFhirDefinitions();

const NEXT_CHECK = EXTENSIONS.nextCheck;

/** Resources whose index rows depend on how a parameter's property is held: choices, primitive extensions, arrays. */
const edgeCases: [string, Resource][] = [
  [
    'a status held only as its extension (`_status`)',
    { ...exampleTask(), status: undefined, _status: {} } as unknown as Resource,
  ],
  ['a choice held as a dateTime', exampleServiceRequest({ occurrenceDateTime: '2026-01-05T09:30:00Z' })],
  ['a choice held as a Period', exampleServiceRequest({ occurrencePeriod: { start: '2026-01-05' } })],
  ['a Task with its next check', exampleTask({ extension: [{ url: NEXT_CHECK, valueDateTime: '2026-01-06' }] })],
  ['a Task with another extension', exampleTask({ extension: [{ url: 'urn:x', valueDateTime: '2026-01-06' }] })],
  [
    'labels and tags in meta',
    exampleTask({ meta: { security: [{ system: 'urn:s', code: 'a' }], tag: [{ code: 't' }], source: 'urn:src' } }),
  ],
  ['an empty meta', exampleTask({ meta: {} })],
  [
    'a message Bundle',
    {
      resourceType: 'Bundle',
      type: 'message',
      timestamp: '2026-01-05T09:30:00Z',
      identifier: { system: 'urn:m', value: 'm1' },
      entry: [{ resource: { resourceType: 'MessageHeader', eventUri: 'urn:e', source: { endpoint: 'urn:x' } } }],
    },
  ],
  ['a deceased patient (an expression that is not a path)', { resourceType: 'Patient', deceasedBoolean: true }],
  [
    'a status with extensions beside it (`_status`)',
    exampleTask({ _status: { extension: [{ url: 'urn:x', valueString: 'x' }] } } as never),
  ],
  [
    'an organization named by its alias too (a union drops the repeat)',
    { resourceType: 'Organization', name: 'North', alias: ['North', 'N', 'North'] },
  ],
  [
    'references the patient parameter takes and leaves',
    exampleTask({
      for: { reference: 'http://elsewhere/fhir/Patient/p1' },
      basedOn: [
        { type: 'ServiceRequest', identifier: { system: 'urn:s', value: '1' } },
        { reference: 'ServiceRequest/s1' },
      ],
    }),
  ],
  [
    'a contained patient as the subject',
    exampleTask({ for: { reference: '#p1', resource: { resourceType: 'Patient' } } } as never),
  ],
  ['a Task shaped like a Quantity', { ...exampleTask(), value: 1, unit: 'mg' } as unknown as Resource],
  [
    'an AuditEvent with agents and entities',
    {
      resourceType: 'AuditEvent',
      type: { system: 'urn:t', code: 'rest' },
      recorded: '2026-01-05T09:30:00Z',
      agent: [{ requestor: true, who: { reference: 'Patient/p1' }, altId: 'a', name: 'N' }],
      source: { observer: { display: 'x' } },
      entity: [{ what: { reference: 'Task/t1' } }, { what: { identifier: { system: 'urn:i', value: 'v' } } }],
    },
  ],
];

/** A resource of a type the store keeps (not the abstract Resource and DomainResource). */
const isStorable = (value: unknown): value is Resource =>
  typeof value === 'object' &&
  value !== null &&
  typeof (value as Resource).resourceType === 'string' &&
  !['Resource', 'DomainResource'].includes((value as Resource).resourceType);

/**
 * The rows, or the error indexing throws. Ill-formed values (a CodeableConcept whose coding is no array)
 * make the row builders throw, whichever way the values were found; validation refuses them before a write.
 */
function outcome(index: (r: Resource) => unknown, resource: Resource): unknown {
  try {
    return index(structuredClone(resource)); // FHIRPath merges a primitive's extensions into the value it reads
  } catch (error) {
    return { threw: String(error) };
  }
}

describe('indexResource', () => {
  // Parameters that certainly find nothing are not evaluated: the rows must be those of evaluating them all.
  const resources = [
    ...casesWithPrototypeNames().filter((c): c is [string, Resource] => isStorable(c[1])),
    ...edgeCases,
    ...(replayResources as Resource[]).map((r, i): [string, Resource] => [`a replay's ${r.resourceType} ${i}`, r]),
  ];

  it.each(resources)('%s: the rows of evaluating every parameter', (_name, resource) => {
    expect(indexResource(structuredClone(resource))).toEqual(indexResourceEvaluatingAll(structuredClone(resource)));
  });

  it.each(PATHWAY_TYPES)('generated %s resources: the rows of evaluating every parameter', (type) => {
    fc.assert(
      fc.property(resourceArbitrary(type), (resource) => {
        // Each evaluation gets its own copy: FHIRPath merges a primitive's extensions into the value it reads.
        expect(outcome(indexResource, resource)).toEqual(outcome(indexResourceEvaluatingAll, resource));
      }),
      { numRuns: 150 },
    );
  });

  it('still finds a parameter that only a choice or an extension holds', () => {
    const period = indexResource(exampleServiceRequest({ occurrencePeriod: { start: '2026-01-05' } }));
    expect(period.dates.filter((d) => d.param === 'occurrence')).toEqual([
      { param: 'occurrence', lo: '2026-01-05T00:00:00.000Z', hi: '9999-12-31T23:59:59.999Z' },
    ]);
    const checked = indexResource(exampleTask({ extension: [{ url: NEXT_CHECK, valueDateTime: '2026-01-06' }] }));
    expect(checked.dates.filter((d) => d.param === 'next-check')).toHaveLength(1);
  });
});
