import { describe, expect, it } from 'vitest';
import { badRequest, OutcomeError, preconditionFailed } from '../outcomes.ts';
import { outcomeErrorOf } from '../testing.ts';
import type { Patient } from '@medplum/fhirtypes';
import { readIfPresent, retryOnConflict } from './helpers.ts';
import type { FhirStore } from './port.ts';
import { SqliteStore } from './sqlite/sqlite-store.ts';

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

describe('readIfPresent', () => {
  const failingWith = (status: number): FhirStore =>
    ({ read: () => Promise.reject(new OutcomeError(badRequest('refused'), status)) }) as unknown as FhirStore;

  it('reads a stored resource, and answers undefined for one not stored or deleted', async () => {
    const store = new SqliteStore({ path: ':memory:' });
    const { resource } = await store.create<Patient>({ resourceType: 'Patient', active: true });
    expect(await readIfPresent<Patient>(store, 'Patient', resource.id)).toMatchObject({ id: resource.id });
    expect(await readIfPresent<Patient>(store, 'Patient', 'not-stored')).toBeUndefined();
    await store.delete('Patient', resource.id);
    expect(await readIfPresent<Patient>(store, 'Patient', resource.id)).toBeUndefined();
  });

  it.each([400, 401, 500, 502, 503])(
    'throws a store failure (%i): it is no answer about the resource',
    async (status) => {
      expect((await outcomeErrorOf(readIfPresent(failingWith(status), 'Patient', 'p1'))).status).toBe(status);
    },
  );
});
