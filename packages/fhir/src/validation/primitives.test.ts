import type { Resource } from '@medplum/fhirtypes';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { loadFhirDefinitions } from '../definitions.ts';
import { exampleEndpoint, exampleOrganization } from '../examples/index.ts';
import { isEndpointAddress, isFhirPrimitiveString } from './primitives.ts';
import { validationFindings } from './validate.ts';

loadFhirDefinitions();

/** True when validating the resource finds nothing wrong at `expression`. */
const validAt = (resource: Resource, expression: string) => {
  const { structure, rules } = validationFindings(resource);
  return ![...structure, ...rules].some((i) => i.expression?.includes(expression));
};

/** Strings near every edge: empty, whitespace, control characters, surrogates, URLs, and anything. */
const edgy = fc.oneof(
  fc.constantFrom(
    '',
    ' ',
    '\t',
    '\n',
    ' a ',
    'a\u0000b',
    'a\u001fb',
    '\u007f',
    '\uFFFF',
    '\uD800',
    'x'.repeat(1024 * 1024 + 1),
  ),
  fc.constantFrom(
    'http://a',
    'https://h.example/fhir',
    'http://a b/',
    'ftp://a/',
    'urn:x',
    '/fhir',
    'http:/x',
    'HTTPS://A',
  ),
  fc.string({ unit: 'binary', maxLength: 12 }),
  fc.webUrl(),
  fc.webUrl().map((url) => `${url}\t`),
);

describe('the primitive checks agree with validating the resource', () => {
  it('isFhirPrimitiveString: an Organization.name Medplum accepts, and not empty', () => {
    fc.assert(
      fc.property(edgy, (value) => {
        // Stricter on one value: Medplum takes '' for an absent element, and lets it through.
        const accepted = value !== '' && validAt(exampleOrganization({ name: value }), 'Organization.name');
        expect(isFhirPrimitiveString(value)).toBe(accepted);
      }),
      { numRuns: 300 },
    );
  });

  it('isEndpointAddress: an Endpoint.address Medplum and our profile accept', () => {
    fc.assert(
      fc.property(edgy, (value) => {
        expect(isEndpointAddress(value)).toBe(validAt(exampleEndpoint({ address: value }), 'Endpoint.address'));
      }),
      { numRuns: 300 },
    );
  });

  it('refuses what is not a JS string', () => {
    for (const value of [42, null, undefined, ['x'], { text: 'x' }]) {
      expect(isFhirPrimitiveString(value)).toBe(false);
      expect(isEndpointAddress(value)).toBe(false);
    }
  });
});
