import type { Resource } from '@medplum/fhirtypes';
import { describe, expect, it } from 'vitest';
import { casesWithPrototypeNames } from '../../definitions-test-cases.ts';
import { loadFhirDefinitions } from '../../definitions.ts';
import { exampleFulfilmentTask as exampleTask, exampleServiceRequest } from '../../examples/index.ts';
import { EXTENSIONS } from '../../systems.ts';
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

describe('indexResource', () => {
  // Parameters that certainly find nothing are not evaluated: the rows must be those of evaluating them all.
  const resources = [
    ...casesWithPrototypeNames().filter((c): c is [string, Resource] => isStorable(c[1])),
    ...edgeCases,
  ];

  it.each(resources)('%s: the rows of evaluating every parameter', (_name, resource) => {
    expect(indexResource(resource)).toEqual(indexResourceEvaluatingAll(resource));
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
