import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { acceptsFhirJson } from './accept.ts';

describe('acceptsFhirJson', () => {
  it.each([
    ['no header', undefined],
    ['an empty header', ' '],
    ['FHIR JSON', 'application/fhir+json'],
    ['FHIR JSON with a version', 'application/fhir+json; fhirVersion=4.0'],
    ['plain JSON, in capitals', 'Application/JSON'],
    ['anything', '*/*'],
    ['any application type', 'application/*'],
    ["a browser's header", 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8'],
    [
      "HAPI's Java client preferring XML",
      'application/fhir+xml;q=1.0, application/fhir+json;q=1.0, application/xml+fhir;q=0.9',
    ],
    ['JSON refused, FHIR JSON not', 'application/json;q=0, application/fhir+json'],
    ["DSTU2's FHIR JSON type, which older clients send", 'application/json+fhir'],
  ])('admits %s', (_what, accept) => {
    expect(acceptsFhirJson(accept)).toBe(true);
  });

  it.each([
    ['FHIR XML only', 'application/fhir+xml'],
    ['XML and text', 'application/xml, text/plain'],
    ['JSON at q=0', 'application/fhir+json;q=0'],
    ['JSON at q=0.000', 'application/json;q=0.000'],
    [
      'everything but JSON (the specific range decides)',
      '*/*, application/fhir+json;q=0, application/json;q=0, application/json+fhir;q=0',
    ],
    ['a q that is not a number', 'application/fhir+json;q=high'],
    ['a media type without a subtype', 'json'],
    ['HTML only', 'text/html'],
  ])('refuses %s', (_what, accept) => {
    expect(acceptsFhirJson(accept)).toBe(false);
  });

  it('admits any header that lists FHIR JSON with a positive q, whatever else it lists', () => {
    const range = fc.constantFrom('application/fhir+xml', 'text/html', 'image/png', 'application/xml', 'text/*');
    const q = fc.integer({ min: 1, max: 1000 }).map((n) => (n / 1000).toFixed(3));
    fc.assert(
      fc.property(fc.array(range), fc.array(range), q, (before, after, weight) => {
        const header = [...before, `application/fhir+json;q=${weight}`, ...after].join(', ');
        expect(acceptsFhirJson(header)).toBe(true);
      }),
    );
  });
});
