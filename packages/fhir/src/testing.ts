import { OutcomeError } from './outcomes.ts';

/**
 * For tests: the OutcomeError a promise rejects with. Resolving, or rejecting with anything else,
 * fails the test, so a test written with it cannot pass by accident.
 */
export async function outcomeErrorOf(promise: Promise<unknown>): Promise<OutcomeError> {
  let settled: unknown;
  try {
    settled = await promise;
  } catch (err) {
    if (err instanceof OutcomeError) return err;
    throw err;
  }
  throw new Error(`expected an OutcomeError, but the promise resolved with ${JSON.stringify(settled)?.slice(0, 200)}`);
}
