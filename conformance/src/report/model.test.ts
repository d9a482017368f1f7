import { describe, expect, it } from 'vitest';
import { model, test } from './fixtures.ts';
import { groupOf, outcomeOf, runPassed } from './model.ts';

describe('report model', () => {
  it('groups by the file or folder under src/groups', () => {
    expect(groupOf('src/groups/1-store-contract.test.ts')).toEqual({
      key: '1-store-contract',
      title: '1. Store contract',
    });
    expect(groupOf('src/groups/5-actor/referrer.test.ts')).toEqual({ key: '5-actor', title: '5. Actor tests' });
  });

  it('a pass with a recorded deviation counts as a deviation', () => {
    const recorded = { key: 'hapi:stale-if-match-409', description: 'listed' };
    expect(outcomeOf('passed', 'x', recorded)).toEqual({ outcome: 'deviation', deviation: recorded });
  });

  it('a store contract test named after a listed deviation is a deviation; one naming an unlisted deviation fails', () => {
    expect(
      outcomeOf('passed', 'ifMatch on a missing id [known deviation hapi:if-match-on-missing-creates]').outcome,
    ).toBe('deviation');
    expect(outcomeOf('passed', 'sneaky [known deviation hapi:made-up]').outcome).toBe('failed');
  });

  it('failed, skipped and pending states are kept', () => {
    expect(outcomeOf('failed', '[known deviation hapi:if-match-on-missing-creates]').outcome).toBe('failed');
    expect(outcomeOf('skipped', 'x').outcome).toBe('skipped');
    expect(outcomeOf('pending', 'x').outcome).toBe('skipped');
  });

  it('a run passes only when every test passed or met a recorded deviation, and something ran', () => {
    expect(runPassed(model([test(), test({ outcome: 'deviation' })]))).toBe(true);
    expect(runPassed(model([test(), test({ outcome: 'failed' })]))).toBe(false);
    expect(runPassed(model([test(), test({ outcome: 'skipped' })]))).toBe(false);
    expect(runPassed(model([]))).toBe(false);
    expect(runPassed(model([test()], { unhandledErrors: ['global setup failed'] }))).toBe(false);
  });
});
