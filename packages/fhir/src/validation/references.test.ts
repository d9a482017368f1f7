import { describe, expect, it } from 'vitest';
import { NHS_NUMBER_SYSTEM, ODS_SYSTEM, SYSTEMS } from '../systems.ts';
import { odsReferenceIssues, patientReferenceIssues, referenceIssues, referenceTarget } from './references.ts';

const exprs = (issues: { expression?: string[] }[]) => issues.map((i) => i.expression?.[0]);

describe('referenceTarget', () => {
  it.each([
    ['Patient/123', 'Patient'],
    ['Patient/123/_history/2', 'Patient'],
    ['https://north.example/fhir/ServiceRequest/abc-1', 'ServiceRequest'],
  ])('reads the type of %s', (reference, type) => {
    expect(referenceTarget({ reference })).toEqual({ type });
  });

  it('types a logical reference by its type, or by a known business identifier system', () => {
    expect(referenceTarget({ type: 'Endpoint', identifier: { system: 'x', value: 'y' } }).type).toBe('Endpoint');
    expect(referenceTarget({ identifier: { system: NHS_NUMBER_SYSTEM, value: '9990000018' } }).type).toBe('Patient');
    expect(referenceTarget({ identifier: { system: ODS_SYSTEM, value: 'RN1' } }).type).toBe('Organization');
    expect(referenceTarget({ identifier: { system: SYSTEMS.placerOrder, value: 'N81001-1' } }).type).toBe(
      'ServiceRequest',
    );
    expect(referenceTarget({ identifier: { system: 'https://unknown.example', value: '1' } }).problem?.at).toBe('type');
  });

  it('resolves urn:uuid references only inside a transaction', () => {
    expect(referenceTarget({ reference: 'urn:uuid:1' }).problem?.text).toMatch(/transaction/);
    const urnTypes = new Map([['urn:uuid:1', 'ServiceRequest']]);
    expect(referenceTarget({ reference: 'urn:uuid:1' }, { urnTypes })).toEqual({ type: 'ServiceRequest' });
    // Not an entry of this transaction: left to the store, which resolves or rejects it.
    expect(referenceTarget({ reference: 'urn:uuid:2' }, { urnTypes })).toEqual({});
  });

  it('resolves #id against contained resources', () => {
    const resource = {
      resourceType: 'Task' as const,
      status: 'requested' as const,
      intent: 'order' as const,
      contained: [{ resourceType: 'Patient' as const, id: 'p' }],
    };
    expect(referenceTarget({ reference: '#p' }, { resource }).type).toBe('Patient');
    expect(referenceTarget({ reference: '#q' }, { resource }).problem?.at).toBe('reference');
  });

  it('flags a type that contradicts the literal reference, and references with nothing to resolve', () => {
    expect(referenceTarget({ reference: 'Patient/1', type: 'Organization' }).problem?.at).toBe('type');
    expect(referenceTarget({ reference: 'not a reference' }).problem?.at).toBe('reference');
    expect(referenceTarget({ display: 'Dr Who' }).problem?.at).toBe('');
  });
});

describe('reference rules', () => {
  it('referenceIssues: required, wrong type, fine', () => {
    expect(exprs(referenceIssues(undefined, ['Endpoint'], 'X.endpoint', {}))).toEqual(['X.endpoint']);
    expect(referenceIssues(undefined, ['Endpoint'], 'X.endpoint', {}, false)).toEqual([]);
    expect(referenceIssues({ reference: 'Patient/1' }, ['Endpoint'], 'X.endpoint', {})[0]?.details?.text).toBe(
      'Must reference Endpoint, not Patient',
    );
    expect(referenceIssues({ reference: 'Endpoint/1' }, ['Endpoint'], 'X.endpoint', {})).toEqual([]);
    expect(exprs(referenceIssues({ reference: 'junk' }, ['Endpoint'], 'X.endpoint', {}))).toEqual([
      'X.endpoint.reference',
    ]);
  });

  it('patientReferenceIssues: literal, or NHS number passing Modulus 11', () => {
    expect(patientReferenceIssues({ reference: 'Patient/1' }, 'S.subject', {})).toEqual([]);
    expect(
      patientReferenceIssues({ identifier: { system: NHS_NUMBER_SYSTEM, value: '9434765919' } }, 'S.subject', {}),
    ).toEqual([]);
    const bad = patientReferenceIssues(
      { identifier: { system: NHS_NUMBER_SYSTEM, value: '9434765918' } },
      'S.subject',
      {},
    );
    expect(bad.map((i) => [i.code, i.expression?.[0]])).toEqual([['business-rule', 'S.subject.identifier.value']]);
    const otherSystem = patientReferenceIssues(
      { type: 'Patient', identifier: { system: 'https://hospital.example/mrn', value: '1' } },
      'S.subject',
      {},
    );
    expect(exprs(otherSystem)).toEqual(['S.subject.identifier.system']);
    expect(exprs(patientReferenceIssues({ reference: 'Group/1' }, 'S.subject', {}))).toEqual(['S.subject']);
  });

  it('odsReferenceIssues: an Organization with a well-formed ODS code', () => {
    expect(odsReferenceIssues({ identifier: { system: ODS_SYSTEM, value: 'RN1' } }, 'S.requester', {})).toEqual([]);
    expect(
      odsReferenceIssues(
        { reference: 'Organization/9', identifier: { system: ODS_SYSTEM, value: 'RN1' } },
        'S.requester',
        {},
      ),
    ).toEqual([]);
    const noOds = odsReferenceIssues({ reference: 'Organization/9' }, 'S.requester', {});
    expect(noOds.map((i) => [i.code, i.expression?.[0]])).toEqual([['business-rule', 'S.requester']]);
    expect(exprs(odsReferenceIssues({ identifier: { system: ODS_SYSTEM, value: 'rn1' } }, 'S.requester', {}))).toEqual([
      'S.requester.identifier.value',
    ]);
    expect(
      exprs(
        odsReferenceIssues(
          { reference: 'Practitioner/1', identifier: { system: ODS_SYSTEM, value: 'RN1' } },
          'S.requester',
          {},
        ),
      ),
    ).toEqual(['S.requester']);
  });
});
