import { DICOM_UID_SYSTEM, SYSTEMS } from '@imaging/fhir';
import type { Endpoint, ServiceRequest } from '@medplum/fhirtypes';
import { describe, expect, it } from 'vitest';
import { businessIdentifierProblems } from './business-identifiers.ts';

const order = (...values: string[]): ServiceRequest => ({
  resourceType: 'ServiceRequest',
  status: 'active',
  intent: 'order',
  subject: { reference: 'Patient/p' },
  identifier: values.map((value) => ({ system: SYSTEMS.placerOrder, value })),
});

describe('businessIdentifierProblems', () => {
  it('takes one identifier per business system, and any identifier of another system', () => {
    expect(businessIdentifierProblems(order('N81001-000123'))).toEqual([]);
    const study = {
      resourceType: 'ImagingStudy',
      identifier: [
        { system: DICOM_UID_SYSTEM, value: 'urn:oid:2.25.1' },
        { system: SYSTEMS.accession, value: 'RM1-ACC-1' },
        { system: 'https://pacs.example/local', value: 'a,b' },
      ],
    } as const;
    expect(businessIdentifierProblems(study as never)).toEqual([]);
  });

  it.each([',', '|', '$', '\\'])('refuses a business identifier holding %s, which a search reads as syntax', (char) => {
    // `N81002-9,N81001-000123` looked up by the conditional create would also find N81001's order.
    const problems = businessIdentifierProblems(order(`N81002-9${char}N81001-000123`));
    expect(problems.map((p) => p.index)).toEqual([0]);
    expect(problems[0]?.text).toContain('a search reads them as syntax');
  });

  it('refuses a second identifier in one system once, not again for its syntax', () => {
    expect(businessIdentifierProblems(order('N81001-1', 'N81001-2,x')).map((p) => p.index)).toEqual([1]);
  });

  it('holds an Endpoint, matched on any identifier, to one identifier free of search syntax', () => {
    const endpoint = (values: string[]): Endpoint =>
      ({
        resourceType: 'Endpoint',
        identifier: values.map((value) => ({ system: 'urn:ietf:rfc:3986', value })),
      }) as Endpoint;
    expect(businessIdentifierProblems(endpoint(['https://pacs.rm1.example/dicomweb']))).toEqual([]);
    expect(businessIdentifierProblems(endpoint(['https://a.example/x,https://b.example/y'])).length).toBe(1);
  });
});
