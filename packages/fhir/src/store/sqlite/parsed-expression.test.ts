import { getSearchParameterDetails, globalSchema } from '@medplum/core';
import { describe, expect, it } from 'vitest';
import { loadFhirDefinitions } from '../../definitions.ts';
import { searchParametersOf } from './indexer.ts';
import { expressionForResourceType } from './parsed-expression.ts';

loadFhirDefinitions();

const typesWithSearchParameters = () =>
  Object.keys(globalSchema.types).filter((type) => Object.keys(globalSchema.types[type]?.searchParams ?? {}).length);

describe('expressionForResourceType', () => {
  it('gives every parameter of every loaded type the expression Medplum parses for that type', () => {
    const types = typesWithSearchParameters();
    expect(types.length).toBeGreaterThan(20);
    let compared = 0;
    for (const type of types) {
      // Resource's and DomainResource's `_content`, `_query` and `_text` have no expression: no resource is of those types.
      for (const param of searchParametersOf(type).filter((p) => p.expression !== undefined)) {
        const ours = expressionForResourceType(type, param).toString();
        expect({ type, code: param.code, expression: ours }).toEqual({
          type,
          code: param.code,
          expression: getSearchParameterDetails(type, param).parsedExpression.toString(),
        });
        compared++;
      }
    }
    expect(compared).toBeGreaterThan(300);
  });

  it('parses an expression text once, and keeps for each type the branches naming it', () => {
    const name = searchParametersOf('Organization').find((p) => p.code === 'name') ?? expect.unreachable();
    const union = { ...name, expression: 'Organization.name | Practitioner.name | Organization.alias' };
    expect(expressionForResourceType('Organization', union).toString()).toBe(
      '(Organization.name | Organization.alias)',
    );
    const practitioner = expressionForResourceType('Practitioner', union);
    expect(practitioner.toString()).toBe('Practitioner.name');
    // Another parameter with the same text gets the same atoms: it was not parsed again.
    expect(expressionForResourceType('Practitioner', { ...union, code: 'other' }).child).toBe(practitioner.child);
    // An expression naming none of the type's properties is kept whole.
    expect(expressionForResourceType('Organization', { ...name, expression: 'Resource.id' }).toString()).toBe(
      'Resource.id',
    );
  });
});
