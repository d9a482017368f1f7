import type { OperationOutcomeIssue } from '@medplum/fhirtypes';
import { describe, expect, it } from 'vitest';
import {
  allOk,
  badRequest,
  forbidden,
  invalid,
  issue,
  multipleMatches,
  OutcomeError,
  outcomeOf,
  Problems,
  toOutcomeError,
  unavailable,
  unprocessable,
  unprocessableIssues,
} from './outcomes.ts';

describe('every issue carries its text in details.text and in diagnostics', () => {
  it.each([
    ['issue', () => [issue({ text: 'Bad thing', expression: 'Patient.x' })]],
    ['badRequest', () => badRequest('Bad thing').issue],
    ['unprocessable', () => unprocessable('Bad thing', 'Patient.x').issue],
    ['multipleMatches', () => multipleMatches('Bad thing').issue],
    ['forbidden', () => forbidden('Bad thing').issue],
    ['unavailable', () => unavailable('Bad thing').issue],
    ['allOk', () => allOk('Bad thing').issue],
  ])('%s', (_name, build) => {
    const [only] = build() as OperationOutcomeIssue[];
    expect(only).toMatchObject({ details: { text: 'Bad thing' }, diagnostics: 'Bad thing' });
  });

  it('fills in the missing one on issues built elsewhere (a validator, another server)', () => {
    const foreign: OperationOutcomeIssue[] = [
      { severity: 'error', code: 'structure', details: { text: 'From Medplum' }, expression: ['Patient.x'] },
      { severity: 'error', code: 'processing', diagnostics: 'From HAPI' },
      { severity: 'error', code: 'exception' },
    ];
    for (const outcome of [invalid(foreign), unprocessableIssues(foreign), outcomeOf('x', foreign)]) {
      expect(outcome.issue.map((i) => [i.details?.text, i.diagnostics])).toEqual([
        ['From Medplum', 'From Medplum'],
        ['From HAPI', 'From HAPI'],
        [undefined, undefined],
      ]);
      expect(outcome.issue[0]?.expression).toEqual(['Patient.x']);
    }
  });

  it("and on a Medplum error's outcome", () => {
    const err = Object.assign(new Error('x'), {
      outcome: {
        resourceType: 'OperationOutcome',
        issue: [{ severity: 'error', code: 'invalid', details: { text: 'No' } }],
      },
    });
    expect(toOutcomeError(err).outcome.issue[0]).toMatchObject({ details: { text: 'No' }, diagnostics: 'No' });
  });
});

describe('Problems: every problem of a request in one response', () => {
  const at = (err: unknown) => ((err as OutcomeError).outcome.issue ?? []).map((i) => i.expression?.[0]);

  it('collects the 422s of each check and throws one 422 with an issue per problem', async () => {
    const problems = new Problems();
    problems.add(issue({ code: 'business-rule', text: 'one', expression: 'X.a' }));
    const value = await problems.check(() => {
      throw new OutcomeError(
        unprocessableIssues([issue({ text: 'two', expression: 'X.b' }), issue({ text: 'three', expression: 'X.c' })]),
      );
    });
    expect(value).toBeUndefined();
    expect(await problems.check(async () => 42)).toBe(42);
    const thrown = (() => {
      try {
        problems.throwIfAny();
      } catch (err) {
        return err;
      }
    })();
    expect((thrown as OutcomeError).status).toBe(422);
    expect(at(thrown)).toEqual(['X.a', 'X.b', 'X.c']);
  });

  it('reports a place once: the first words about it win', () => {
    const problems = new Problems();
    problems.add(issue({ text: 'the domain says', expression: 'X.a' }), issue({ text: 'no place' }));
    problems.addFindings({
      structure: [],
      rules: [issue({ text: 'the profile says', expression: 'X.a' }), issue({ text: 'no place' })],
    });
    expect(() => problems.throwIfAny()).toThrow(OutcomeError);
    try {
      problems.throwIfAny();
    } catch (err) {
      expect((err as OutcomeError).outcome.issue.map((i) => i.details?.text)).toEqual([
        'the domain says',
        'no place',
        'no place',
      ]);
    }
  });

  it('lets anything but a 422 end the request at once', async () => {
    const problems = new Problems();
    await expect(problems.check(() => Promise.reject(new OutcomeError(forbidden('no'))))).rejects.toMatchObject({
      status: 403,
    });
    await expect(problems.check(() => Promise.reject(new TypeError('bug')))).rejects.toBeInstanceOf(TypeError);
    expect(() => problems.throwIfAny()).not.toThrow();
  });

  it('is a 400 when the structure is broken, with the other problems listed too', () => {
    const problems = new Problems();
    problems.add(issue({ code: 'business-rule', text: 'rule', expression: 'X.a' }));
    problems.addFindings({ structure: [issue({ code: 'structure', text: 'shape', expression: 'X.b' })], rules: [] });
    expect(problems.hasStructureErrors).toBe(true);
    try {
      problems.throwIfAny();
      expect.unreachable();
    } catch (err) {
      expect((err as OutcomeError).status).toBe(400);
      expect(at(err)).toEqual(['X.b', 'X.a']);
    }
  });

  it('passes warnings alone', () => {
    const problems = new Problems();
    problems.add(issue({ severity: 'warning', text: 'meh', expression: 'X.a' }));
    expect(() => problems.throwIfAny()).not.toThrow();
  });
});
