import { describe, expect, it } from 'vitest';
import { ifNoneExistSearch } from './conditional.ts';

const BASES = ['http://gw.example:4101/fhir', 'http://localhost/fhir'];
const search = (header: string | undefined) => ifNoneExistSearch(header, 'Patient', BASES)?.toString();
const NHS = 'https://fhir.nhs.uk/Id/nhs-number|9000000009';
const wanted = new URLSearchParams({ identifier: NHS }).toString();

describe('If-None-Exist', () => {
  it('is nothing to do when absent', () => {
    expect(search(undefined)).toBeUndefined();
  });

  it.each([
    ['relative, as the spec writes it', `identifier=${NHS}`],
    ['relative, encoded', `identifier=${encodeURIComponent(NHS)}`],
    ['with a leading ?', `?identifier=${NHS}`],
    ['with the type', `Patient?identifier=${NHS}`],
    ["absolute, as HAPI's client sends it", `http://gw.example:4101/fhir/Patient?_format=json&identifier=${NHS}`],
    [
      'absolute, on the base the request came in on, pretty',
      `http://localhost/fhir/Patient?identifier=${NHS}&_pretty=true`,
    ],
  ])('is read %s', (_name, header) => {
    expect(search(header)).toBe(wanted);
  });

  it.each([
    ['another server', `http://elsewhere.example/fhir/Patient?identifier=${NHS}`],
    ['another base path on this host', `http://gw.example:4101/other/Patient?identifier=${NHS}`],
    ['another type, absolute', `http://gw.example:4101/fhir/Task?identifier=${NHS}`],
    ['another type, relative', `Task?identifier=${NHS}`],
    ['no criterion', '_format=json'],
    ['an empty header', ''],
    ['a result parameter', `identifier=${NHS}&_count=1`],
    ['an include', `identifier=${NHS}&_include=Patient:link`],
    ['a summary', `identifier=${NHS}&_summary=count`],
  ])('is a 400 for %s', (_name, header) => {
    expect(() => search(header)).toThrow(
      expect.objectContaining({
        status: 400,
        outcome: expect.objectContaining({ issue: [expect.objectContaining({ expression: ['http.If-None-Exist'] })] }),
      }),
    );
  });
});
