import { describe, expect, it } from 'vitest';
import { badRequest, OutcomeError, preconditionFailed } from '../outcomes.ts';
import { outcomeErrorOf } from '../testing.ts';
import { retryOnConflict } from './helpers.ts';

/** Work that fails with the given errors in turn, then succeeds; counts its runs. */
function flaky(errors: OutcomeError[]) {
  let runs = 0;
  const work = async () => {
    runs++;
    const err = errors[runs - 1];
    if (err) throw err;
    return `done after ${runs}`;
  };
  return { work, runs: () => runs };
}

const conflict = () => new OutcomeError(preconditionFailed('someone else wrote first'));

describe('retryOnConflict', () => {
  it('runs the work again after a 412 and returns its result', async () => {
    const { work, runs } = flaky([conflict(), conflict()]);
    expect(await retryOnConflict(work)).toBe('done after 3');
    expect(runs()).toBe(3);
  });

  it('gives up after the last attempt with the 412', async () => {
    const { work, runs } = flaky([conflict(), conflict(), conflict()]);
    expect((await outcomeErrorOf(retryOnConflict(work, 3))).status).toBe(412);
    expect(runs()).toBe(3);
  });

  it('does not retry any other failure', async () => {
    const { work, runs } = flaky([new OutcomeError(badRequest('no'))]);
    expect((await outcomeErrorOf(retryOnConflict(work))).status).toBe(400);
    expect(runs()).toBe(1);
  });
});
