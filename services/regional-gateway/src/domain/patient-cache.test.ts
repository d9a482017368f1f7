import type { Bundle, Patient } from '@medplum/fhirtypes';
import { describe, expect, it } from 'vitest';
import { manualClock, NHS_NUMBER_SYSTEM, ODS_SYSTEM, OutcomeError, searchAll, searchOne, SYSTEMS } from '@imaging/fhir';
import type { Caller, FhirStore, WithId } from '@imaging/fhir';
import { EXAMPLE, examplePatient, exampleServiceRequest } from '@imaging/fhir/examples';
import { GP, testRegions } from '../testing/regions.ts';
import { recordingSearches } from '../testing/stores.ts';
import { ACCESS_SYSTEM } from './labels.ts';
import { placeOrder } from './orders.ts';
import { patientCache } from './patient-cache.ts';
import type { GatewayDeps } from './ports.ts';
import { registerPatient } from './registrations.ts';

const OTHER_PRACTICE: Caller = { ...GP, clientId: 'gp-n81002', organisation: 'N81002' };
const PATIENT_SEARCH = `Patient?identifier=${encodeURIComponent(`${NHS_NUMBER_SYSTEM}|${EXAMPLE.nhsNumber}`)}&_count=2&_total=none`;

const order = (n: number) =>
  exampleServiceRequest({ identifier: [{ system: SYSTEMS.placerOrder, value: `N81001-cache-${n}` }] });

/** The north region, its searches and its transactions recorded, with a cache of its own. */
function north() {
  const regions = testRegions();
  const searches: string[] = [];
  const transactions = { tried: 0, failed: 0 };
  const recorded = recordingSearches(regions.north.store, searches);
  const store: FhirStore = new Proxy(recorded, {
    get(target, prop) {
      if (prop === 'transaction')
        return async (bundle: Bundle) => {
          transactions.tried++;
          try {
            return await target.transaction(bundle);
          } catch (err) {
            transactions.failed++;
            throw err;
          }
        };
      return Reflect.get(target, prop);
    },
  });
  const deps: GatewayDeps = { ...regions.north, store, patients: patientCache() };
  return { deps, searches, transactions, raw: regions.north.store };
}

/** Another replica of the same gateway: the same store, a cache of its own. */
const replica = (deps: GatewayDeps): GatewayDeps => ({ ...deps, patients: patientCache() });

async function theStoredPatient(store: FhirStore): Promise<WithId<Patient>> {
  const found = await searchOne<Patient>(store, 'Patient', {
    identifier: `${NHS_NUMBER_SYSTEM}|${EXAMPLE.nhsNumber}`,
  });
  if (!found) throw new Error('no patient');
  return found;
}

const access = (...codes: string[]) => codes.map((code) => ({ system: ACCESS_SYSTEM, code }));

async function orderWrites(store: FhirStore) {
  const counts = await Promise.all(
    (['ServiceRequest', 'Task', 'AuditEvent', 'Bundle'] as const).map(async (t) => (await searchAll(store, t)).length),
  );
  const versions = (await store.history('Patient', (await theStoredPatient(store)).id)).length;
  return { counts, versions };
}

async function refusal(work: Promise<unknown>): Promise<OutcomeError> {
  const err = await work.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(err instanceof OutcomeError)) throw new Error(`expected a refusal, got ${String(err)}`);
  return err;
}

describe('the patient cache', () => {
  it('keeps at most its capacity, dropping the least recently used', () => {
    const cache = patientCache({ capacity: 2 });
    const patient = (nhs: string) =>
      ({
        ...examplePatient({ identifier: [{ system: NHS_NUMBER_SYSTEM, value: nhs }] }),
        id: nhs,
        meta: { versionId: '1' },
      }) as WithId<Patient>;
    cache.remember(patient('1'));
    cache.remember(patient('2'));
    expect(cache.get('1')?.id).toBe('1'); // now the most recently used
    cache.remember(patient('3'));
    expect([cache.get('1')?.id, cache.get('2')?.id, cache.get('3')?.id]).toEqual(['1', undefined, '3']);
    expect(cache.size).toBe(2);
    cache.forget('1');
    expect(cache.get('1')).toBeUndefined();
  });

  it('uses a remembered patient for at most its maximum age', () => {
    const clock = manualClock();
    const cache = patientCache({ maxAgeMs: 30_000, clock });
    cache.remember({ ...examplePatient(), id: 'p', meta: { versionId: '1' } } as WithId<Patient>);
    clock.advance(29_999);
    expect(cache.get(EXAMPLE.nhsNumber)?.id).toBe('p');
    clock.advance(1);
    expect(cache.get(EXAMPLE.nhsNumber)).toBeUndefined();
    expect(cache.size).toBe(0);
  });

  it('remembers nothing without a version, and hands out copies', () => {
    const cache = patientCache();
    cache.remember({ ...examplePatient(), id: 'p' } as WithId<Patient>);
    expect(cache.get(EXAMPLE.nhsNumber)).toBeUndefined();
    cache.remember({ ...examplePatient(), id: 'p', meta: { versionId: '3' } } as WithId<Patient>);
    const copy = cache.get(EXAMPLE.nhsNumber) as WithId<Patient>;
    copy.meta = { versionId: '99', security: access('N81002') };
    expect(cache.get(EXAMPLE.nhsNumber)?.meta).toEqual({ versionId: '3' });
  });
});

describe('an order for a patient the gateway knows', () => {
  it('makes no search: the patient it registered is asserted in the order’s transaction instead', async () => {
    const { deps, searches, transactions } = north();
    await registerPatient(deps, GP, examplePatient());
    searches.length = 0;
    await placeOrder(deps, GP, order(1), 'c-1');
    await placeOrder(deps, GP, order(2), 'c-2');
    expect(searches.filter((q) => q.startsWith('Patient?'))).toEqual([]);
    expect(transactions).toEqual({ tried: 3, failed: 0 }); // the registration's, then one per order
  });

  it('writes no new Patient version when the order adds no label (the PUT only asserts the version)', async () => {
    const { deps, raw } = north();
    await registerPatient(deps, GP, examplePatient());
    await placeOrder(deps, GP, order(1), 'c-1'); // shares the patient with RM1: version 2
    const afterFirst = await theStoredPatient(raw);
    await placeOrder(deps, GP, order(2), 'c-2');
    await placeOrder(deps, GP, order(3), 'c-3');
    const afterThird = await theStoredPatient(raw);
    expect(afterFirst.meta?.versionId).toBe('2');
    expect(afterThird.meta?.versionId).toBe('2');
    expect((await raw.history('Patient', afterThird.id)).length).toBe(2);
  });

  it('refuses the order when the patient’s labels were removed behind it, and writes nothing', async () => {
    const { deps, raw, searches, transactions } = north();
    await registerPatient(deps, GP, examplePatient());
    // Shared with RM1 already, so the next order to RM1 adds no label: only the cache's check is left.
    await placeOrder(deps, GP, order(1), 'c-1');
    // Another replica, or an operator, takes the practice's access away: the cache still says it may.
    const stored = await theStoredPatient(raw);
    await raw.update({ ...stored, meta: { ...stored.meta, security: access('RM1') } }, { ifMatch: '2' });
    const before = await orderWrites(raw);
    searches.length = 0;
    transactions.failed = 0;

    const err = await refusal(placeOrder(deps, GP, order(2), 'c-2'));

    expect(err.status).toBe(422);
    expect(err.outcome.issue?.map((i) => i.expression)).toEqual([['ServiceRequest.subject']]);
    // The order's transaction failed on the stale version, then a fresh search decided.
    expect(transactions.failed).toBe(1);
    expect(searches.filter((q) => q === PATIENT_SEARCH)).toHaveLength(1);
    expect(await orderWrites(raw)).toEqual(before);
    expect((await theStoredPatient(raw)).meta?.security).toEqual(access('RM1'));
  });

  it('retries once with a fresh search when the patient changed behind it, and keeps that change', async () => {
    const { deps, raw, searches, transactions } = north();
    await registerPatient(deps, GP, examplePatient());
    await placeOrder(deps, GP, order(1), 'c-1'); // shared with RM1: version 2
    const stored = await theStoredPatient(raw);
    await raw.update({ ...stored, gender: 'female' }, { ifMatch: '2' }); // version 3, still the practice's
    searches.length = 0;
    transactions.tried = 0;

    const placed = await placeOrder(deps, GP, order(2), 'c-2');

    expect(placed.created).toBe(true);
    expect(transactions).toEqual({ tried: 2, failed: 1 });
    expect(searches.filter((q) => q === PATIENT_SEARCH)).toHaveLength(1);
    const now = await theStoredPatient(raw);
    expect(now.gender).toBe('female'); // the stale copy did not overwrite it
    expect(now.meta?.versionId).toBe('3'); // the order's PUT changed nothing, so wrote no version
    expect(now.meta?.security).toEqual(access('N81001', 'RM1'));
    // The cache now holds what the order stored: the next order makes no search.
    searches.length = 0;
    await placeOrder(deps, GP, order(3), 'c-3');
    expect(searches.filter((q) => q.startsWith('Patient?'))).toEqual([]);
  });

  it('refuses a caller who may not see the patient with the same 422 as without a cache', async () => {
    const { deps, raw } = north();
    await registerPatient(deps, GP, examplePatient()); // cached, labelled N81001 only
    const before = await orderWrites(raw);
    const other = exampleServiceRequest({
      identifier: [{ system: SYSTEMS.placerOrder, value: 'N81002-cache-1' }],
      requester: { identifier: { system: ODS_SYSTEM, value: 'N81002' } },
    });
    const cached = await refusal(placeOrder(deps, OTHER_PRACTICE, other, 'c-1'));
    const uncached = await refusal(placeOrder({ ...deps, patients: undefined }, OTHER_PRACTICE, other, 'c-1'));
    expect(cached.status).toBe(422);
    expect(cached.outcome.issue?.map((i) => i.expression)).toEqual([['ServiceRequest.subject']]);
    expect(cached.outcome).toEqual(uncached.outcome);
    expect(await orderWrites(raw)).toEqual(before);
  });

  it('searches again when the remembered copy says no: the patient may have been shared since', async () => {
    const { deps, raw } = north();
    await registerPatient(deps, OTHER_PRACTICE, examplePatient()); // this replica remembers N81002 only
    await registerPatient(replica(deps), GP, examplePatient()); // another replica shares it with N81001
    const placed = await placeOrder(deps, GP, order(1), 'c-1');
    expect(placed.created).toBe(true);
    expect((await theStoredPatient(raw)).meta?.security).toEqual(access('N81002', 'N81001', 'RM1'));
  });
});
