import type { Parameters, Resource } from '@medplum/fhirtypes';
import { describe, expect, it } from 'vitest';
import { examplePatient, exampleServiceRequest } from '../examples/index.ts';
import { OutcomeError } from '../outcomes.ts';
import { PROFILE_URLS } from './profiles/index.ts';
import { validationIssues } from './validate.ts';
import { validateOperation } from './validate-operation.ts';

const withResource = (resource: Resource, extra: Parameters['parameter'] = []): Parameters => ({
  resourceType: 'Parameters',
  parameter: [{ name: 'resource', resource }, ...extra],
});

function refusal(run: () => unknown): { status: number; text: string | undefined; expression: string[] } {
  try {
    run();
  } catch (err) {
    if (!(err instanceof OutcomeError)) throw err;
    const [first] = err.outcome.issue;
    return { status: err.status, text: first?.details?.text, expression: first?.expression ?? [] };
  }
  throw new Error('expected a refusal');
}

describe('$validate', () => {
  const broken = exampleServiceRequest({ intent: 'plan', code: { text: 'a scan' }, authoredOn: undefined });

  it('answers exactly the issues a write is refused for, from a Parameters or the bare resource', () => {
    const expected = validationIssues(broken);
    expect(expected.length).toBeGreaterThanOrEqual(3);
    for (const body of [broken, withResource(broken, [{ name: 'mode', valueCode: 'create' }])]) {
      const outcome = validateOperation('ServiceRequest', body);
      expect(outcome.issue.map((i) => [i.severity, i.code, i.expression?.[0]])).toEqual(
        expected.map((i) => [i.severity, i.code, i.expression?.[0]]),
      );
    }
  });

  it('says when there is nothing wrong, with one informational issue', () => {
    const outcome = validateOperation(
      'Patient',
      withResource(examplePatient(), [{ name: 'profile', valueUri: PROFILE_URLS.Patient }]),
    );
    expect(outcome.issue).toEqual([
      expect.objectContaining({
        severity: 'information',
        code: 'informational',
        diagnostics: 'No issues detected during validation',
      }),
    ]);
  });

  it('refuses what is not a validation request with 400', () => {
    expect(refusal(() => validateOperation('Patient', exampleServiceRequest()))).toMatchObject({ status: 400 });
    expect(refusal(() => validateOperation('Patient', { resourceType: 'Parameters', parameter: [] }))).toMatchObject({
      status: 400,
    });
    expect(
      refusal(() =>
        validateOperation('Patient', withResource(examplePatient(), [{ name: 'mode', valueCode: 'delete' }])),
      ),
    ).toMatchObject({ status: 400, text: "mode 'delete' is not supported: use create or update" });
    expect(
      refusal(() =>
        validateOperation(
          'Patient',
          withResource(examplePatient(), [{ name: 'profile', valueUri: PROFILE_URLS.Task }]),
        ),
      ).status,
    ).toBe(400);
  });

  // Each a 400 at the Parameters' broken element, never a TypeError (a 500).
  it.each([
    ['a parameter that is an object, not a list', { name: 'resource' }, 'Parameters.parameter'],
    ['a parameter that is a string', 'x', 'Parameters.parameter'],
    ['a null parameter', [null], 'Parameters.parameter[0]'],
    ['a resource that is not an object', [{ name: 'resource', resource: 'x' }], 'Parameters.parameter[0].resource'],
    ['a mode of the wrong JSON type', [{ name: 'mode', valueCode: 3 }], 'Parameters.parameter[0].value[x]'],
  ])('refuses a Parameters with %s (400, at the element)', (_, parameter, expression) => {
    const body = { resourceType: 'Parameters', parameter } as unknown as Parameters;
    expect(refusal(() => validateOperation('Patient', body))).toMatchObject({ status: 400, expression: [expression] });
  });

  it("answers a carried resource's own structure problems, rather than refusing the Parameters", () => {
    const patient = { ...examplePatient(), gender: 3 } as unknown as Resource;
    const outcome = validateOperation('Patient', withResource(patient));
    expect(outcome.issue.map((i) => i.expression?.[0])).toContain('Patient.gender');
  });
});

// The base validator names a problem without the parameter's index when the element should have been
// a list (Parameters.parameter.resource.name): still the carried resource's problem, so still the 200
// listing it, as for the bare resource.
describe('$validate of a carried resource with a single value where R4 has a list', () => {
  it.each([
    ['name', { name: { family: 'X' } }],
    ['identifier', { identifier: { system: 'https://example.org/id', value: '1' } }],
  ])('answers the %s problem rather than refusing the Parameters', (element, fields) => {
    const patient = { resourceType: 'Patient', ...fields } as unknown as Resource;
    const carried = validateOperation('Patient', withResource(patient));
    expect(carried.issue.map((i) => i.expression?.[0])).toContain(`Patient.${element}`);
    const bare = validateOperation('Patient', patient);
    expect(carried.issue.map((i) => [i.severity, i.code, i.expression?.[0]])).toEqual(
      bare.issue.map((i) => [i.severity, i.code, i.expression?.[0]]),
    );
  });
});
