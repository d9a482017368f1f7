import { describe, expect, it } from 'vitest';
import { expansionOf } from '../validation/required-bindings.ts';
import {
  ENDPOINT_CONNECTION_TYPE_SYSTEM,
  ENDPOINT_CONNECTION_TYPES,
  isOneOf,
  R4_CODE_LISTS,
  TASK_STATUSES,
} from './r4-codes.ts';

describe('R4 code lists', () => {
  it.each(R4_CODE_LISTS.map((l) => [l.valueSet, l.codes] as const))(
    '%s matches the R4 value set',
    (valueSet, codes) => {
      const expansion = expansionOf(valueSet);
      expect(expansion).toBeDefined();
      expect([...(expansion?.codes ?? [])].sort()).toEqual([...codes].sort());
    },
  );

  it('endpoint connection types are in their code system', () => {
    const expansion = expansionOf('http://hl7.org/fhir/ValueSet/endpoint-connection-type');
    for (const code of ENDPOINT_CONNECTION_TYPES)
      expect(expansion?.codings.has(`${ENDPOINT_CONNECTION_TYPE_SYSTEM}|${code}`)).toBe(true);
  });

  it('isOneOf narrows to a list', () => {
    expect(isOneOf(TASK_STATUSES, 'accepted')).toBe(true);
    expect(isOneOf(TASK_STATUSES, 'Accepted')).toBe(false);
    expect(isOneOf(TASK_STATUSES, 3)).toBe(false);
  });
});
