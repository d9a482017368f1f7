import { getSearchParameterDetails, isPrimitiveType, tryGetDataType } from '@medplum/core';
import type { Resource } from '@medplum/fhirtypes';
import fc from 'fast-check';
import { searchParametersOf } from './indexer.ts';

/** The types the pathway writes, and a few more whose parameters navigate references. */
export const PATHWAY_TYPES = [
  'Task',
  'ServiceRequest',
  'Patient',
  'AuditEvent',
  'Bundle',
  'DiagnosticReport',
  'ImagingStudy',
  'Organization',
  'Endpoint',
  'Communication',
  'Provenance',
  'PractitionerRole',
];

/**
 * Resources for the indexer's property tests (not a production module): of a type, with the properties its
 * search parameters navigate, well-formed or not. Values come from small pools, so a union meets equal
 * values; primitives sometimes carry `_p` extensions (well-formed or not); references are literal,
 * absolute, conditional, logical, contained or ill-typed; arrays are empty, single, repeated or hold null.
 */
export function resourceArbitrary(resourceType: string): fc.Arbitrary<Resource> {
  const tree = navigatedProperties(resourceType);
  return fc
    .tuple(propertiesArbitrary(resourceType, tree, 0), fc.constantFrom(undefined, undefined, undefined, 1))
    .map(([properties, value]) => ({
      ...properties,
      resourceType,
      ...(value === undefined ? {} : { value, unit: 'mg' }), // shaped like a Quantity: FHIRPath types it so
    })) as fc.Arbitrary<Resource>;
}

/** The property names the type's search parameters navigate, as a tree: `{ agent: { who: {} } }`. */
interface PropertyTree {
  [name: string]: PropertyTree;
}

function navigatedProperties(resourceType: string): PropertyTree {
  const tree: PropertyTree = {};
  for (const param of searchParametersOf(resourceType)) {
    const text = getSearchParameterDetails(resourceType, param).parsedExpression.toString();
    for (const match of text.matchAll(new RegExp(`${resourceType}((?:\\.[a-z][A-Za-z0-9]*)+)`, 'g'))) {
      let node = tree;
      for (const name of (match[1] as string).split('.').slice(1)) {
        node[name] ??= {};
        node = node[name] as PropertyTree;
      }
    }
  }
  return tree;
}

const STRINGS = [
  'a',
  'a',
  'A',
  '',
  'Patient/p1',
  'Organization/o1',
  '2026-01-05',
  '2026-01-05T09:30:00Z',
  'urn:x',
  'http://x/Patient/1',
];
const odd = fc.constantFrom<unknown>(true, false, 0, 1, 1.5, null, {}, [], [null], { resourceType: 'Patient' });
const primitive = fc.oneof(
  { weight: 8, arbitrary: fc.constantFrom<unknown>(...STRINGS) },
  { weight: 1, arbitrary: odd },
);

const extension = fc.constantFrom<unknown>(
  undefined,
  undefined,
  undefined,
  undefined,
  undefined,
  { extension: [{ url: 'urn:e', valueString: 'e' }] },
  { id: 'x' },
  {},
  null,
  'not an object',
  [{ id: 'x' }, null],
);

const reference = fc.oneof(
  {
    weight: 8,
    arbitrary: fc.record(
      {
        reference: fc.constantFrom<unknown>(
          'Patient/p1',
          'Patient/p1',
          'Organization/o1',
          'http://x/fhir/Patient/p2',
          'Patient?identifier=x|1',
          'Patient/p1/_history/2',
          'urn:uuid:0b4e1e4e-0000-4000-8000-000000000000',
          '#c1',
          '',
          5,
        ),
        type: fc.constantFrom<unknown>('Patient', 'Organization', ''),
        identifier: fc.constantFrom<unknown>({ system: 'urn:s', value: 'v' }, { value: 'v' }, 'x'),
        display: fc.constant('d'),
        resource: fc.constantFrom<unknown>({ resourceType: 'Patient', id: 'c1' }, {}),
      },
      { requiredKeys: [] },
    ),
  },
  { weight: 1, arbitrary: primitive },
);

function propertiesArbitrary(type: string, tree: PropertyTree, depth: number): fc.Arbitrary<Record<string, unknown>> {
  const elements = tryGetDataType(type)?.elements ?? {};
  const model: Record<string, fc.Arbitrary<unknown>> = {};
  for (const [name, children] of Object.entries(tree)) {
    const element = elements[name];
    if (element?.type.length !== 1) continue;
    const code = (element.type[0] as { code: string }).code;
    const one = valueArbitrary(code, children, depth + 1);
    model[name] = fc.oneof(
      { weight: 4, arbitrary: element.isArray || element.max > 1 ? fc.array(one, { maxLength: 3 }) : one },
      { weight: 1, arbitrary: element.isArray || element.max > 1 ? one : fc.array(one, { maxLength: 2 }) },
    );
    if (isPrimitiveType(code) || code.startsWith('http://')) model[`_${name}`] = extension;
  }
  const properties = fc.record(model, { requiredKeys: [] });
  // Now and then a property FHIRPath would take for a resource's type, or one no parameter navigates.
  return fc
    .tuple(properties, fc.constantFrom<Record<string, unknown>>({}, {}, {}, {}, { resourceType: 'who' }, { other: 1 }))
    .map(([p, extra]) => ({ ...p, ...extra }));
}

function valueArbitrary(code: string, tree: PropertyTree, depth: number): fc.Arbitrary<unknown> {
  if (code === 'Reference') return reference;
  if (isPrimitiveType(code) || code.startsWith('http://') || depth > 4) return primitive;
  const schema = tryGetDataType(code);
  if (!schema) return primitive;
  // A data type with no navigated children (Identifier, CodeableConcept…): its own primitive properties.
  const children: PropertyTree =
    Object.keys(tree).length > 0
      ? tree
      : Object.fromEntries(Object.keys(schema.elements).map((name): [string, PropertyTree] => [name, {}]));
  return fc.oneof({ weight: 9, arbitrary: propertiesArbitrary(code, children, depth) }, { weight: 1, arbitrary: odd });
}
