import { validateResource } from '@medplum/core';
import { loadAllFhirDefinitions } from '@imaging/fhir';
import { beforeAll, describe, expect, it } from 'vitest';
import { exchange, model, test } from './fixtures.ts';
import { MAX_OPERATIONS_PER_TEST, toTestReport } from './testreport.ts';

describe('toTestReport', () => {
  beforeAll(() => {
    loadAllFhirDefinitions(); // TestReport is none of the services' types
  });

  const mixed = model([
    test({ name: 'passes' }),
    test({
      name: 'meets a deviation',
      outcome: 'deviation',
      reason: 'Recorded deviation hapi:stale-if-match-409: 409 for 412',
    }),
    test({
      name: 'fails',
      outcome: 'failed',
      reason: 'expected 412, got 500',
      exchanges: [exchange({ response: undefined, error: 'TypeError: fetch failed' })],
    }),
    test({ name: 'is skipped', outcome: 'skipped', reason: 'no partitions', exchanges: [] }),
  ]);

  it('is a valid R4 TestReport (validateResource)', () => {
    const report = toTestReport(mixed);
    expect(() => validateResource(report)).not.toThrow();
    // ...and the validator would notice a broken one
    const { testScript: _dropped, ...withoutScript } = report;
    expect(() => validateResource(withoutScript as typeof report)).toThrow();
  });

  it('has one test per test, named by group and path, with one assert carrying the outcome', () => {
    const report = toTestReport(mixed);
    expect(report.test?.map((t) => t.name)).toEqual([
      '2. Server capability › conditional create › passes',
      '2. Server capability › conditional create › meets a deviation',
      '2. Server capability › conditional create › fails',
      '2. Server capability › conditional create › is skipped',
    ]);
    const asserts = report.test?.map((t) => t.action.at(-1)?.assert);
    expect(asserts?.map((a) => a?.result)).toEqual(['pass', 'warning', 'fail', 'skip']);
    expect(asserts?.[2]?.message).toContain('expected 412, got 500');
    expect(asserts?.[1]?.message).toContain('hapi:stale-if-match-409');
  });

  it('records each exchange as an operation, an unanswered one as an error', () => {
    const report = toTestReport(mixed);
    expect(report.test?.[0]?.action[0]?.operation).toEqual({
      result: 'pass',
      message: 'suite → server: POST http://127.0.0.1:8080/fhir/conformance/Task → 201',
    });
    expect(report.test?.[2]?.action[0]?.operation?.result).toBe('error');
    expect(report.test?.[2]?.action[0]?.operation?.message).toContain('no answer (TypeError: fetch failed)');
  });

  it('keeps at most MAX_OPERATIONS_PER_TEST operations per test', () => {
    const many = model([test({ exchanges: Array.from({ length: MAX_OPERATIONS_PER_TEST + 5 }, () => exchange()) })]);
    const actions = toTestReport(many).test?.[0]?.action ?? [];
    expect(actions.filter((a) => a.operation)).toHaveLength(MAX_OPERATIONS_PER_TEST);
    expect(() => validateResource(toTestReport(many))).not.toThrow();
  });

  it('result: fail with a failure or a skip, pass with only passes and deviations, pending when nothing ran', () => {
    expect(toTestReport(mixed).result).toBe('fail');
    expect(toTestReport(model([test({ outcome: 'skipped', reason: 'x' })])).result).toBe('fail');
    const clean = toTestReport(model([test(), test({ outcome: 'deviation', reason: 'r' })]));
    expect(clean.result).toBe('pass');
    expect(clean.score).toBe(100);
    const empty = toTestReport(model([]));
    expect(empty.result).toBe('pending');
    expect(() => validateResource(empty)).not.toThrow();
  });

  it('names the server under test as a participant', () => {
    const report = toTestReport(mixed);
    expect(report.participant).toContainEqual({
      type: 'server',
      uri: 'http://127.0.0.1:32771/fhir/conformance',
      display: 'HAPI FHIR Server 8.8.0 on in-memory H2',
    });
  });
});
