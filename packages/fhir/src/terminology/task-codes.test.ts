import { describe, expect, it } from 'vitest';
import { CODE_SYSTEMS } from '../systems.ts';
import { isTaskCode, TASK_CODES, taskCodeConcept, taskCodeOf } from './task-codes.ts';

describe('Task codes', () => {
  it('round-trip through a CodeableConcept', () => {
    for (const code of TASK_CODES) {
      const concept = taskCodeConcept(code);
      expect(concept.coding?.[0]?.system).toBe(CODE_SYSTEMS.taskCode);
      expect(taskCodeOf({ code: concept })).toBe(code);
    }
  });

  it('ignore codes from other systems and unknown codes', () => {
    expect(
      taskCodeOf({ code: { coding: [{ system: 'http://hl7.org/fhir/CodeSystem/task-code', code: 'fulfill' }] } }),
    ).toBeUndefined();
    expect(taskCodeOf({ code: { coding: [{ system: CODE_SYSTEMS.taskCode, code: 'bake' }] } })).toBeUndefined();
    expect(taskCodeOf({})).toBeUndefined();
    expect(isTaskCode('fulfil')).toBe(true);
    expect(isTaskCode('fulfill')).toBe(false);
  });
});
