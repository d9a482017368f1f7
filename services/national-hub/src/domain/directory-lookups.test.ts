import { devTopology } from '@imaging/config';
import { manualClock, observedStore, SqliteStore, validatingStore } from '@imaging/fhir';
import type { FhirStore } from '@imaging/fhir';
import type { Endpoint, Organization } from '@medplum/fhirtypes';
import { describe, expect, it } from 'vitest';
import { seedDirectory } from './directory.ts';
import type { RegionService } from './directory.ts';
import type { DirectoryLookups } from './directory-lookups.ts';
import { cachedDirectoryLookups, storeDirectoryLookups } from './directory-lookups.ts';

const TTL = 5_000;

/** A store with the development directory, and the lookups on it counting the searches they make. */
async function seededStore() {
  const inner = validatingStore(new SqliteStore({ path: ':memory:' }));
  await seedDirectory(inner, devTopology());
  let searches = 0;
  const counting: FhirStore = {
    ...inner,
    description: inner.description,
    search: (type, query) => {
      searches += 1;
      return inner.search(type, query);
    },
  };
  return { store: counting, searches: () => searches };
}

/** Lookups that answer from a table the test changes, counting the questions. */
function scriptedLookups(answers: Map<string, RegionService | Error | undefined>) {
  const asked: string[] = [];
  const answer = async (key: string) => {
    asked.push(key);
    const found = answers.get(key);
    if (found instanceof Error) throw found;
    return found;
  };
  const lookups: DirectoryLookups = {
    findRegion: (id) => answer(`region ${id}`),
    findService: (id) => answer(`service ${id}`),
    findOrganisationRegion: (ods) => answer(`ods ${ods}`),
  };
  return { lookups, asked };
}

const NORTH: RegionService = { regionId: 'north', serviceId: 'imaging-north', address: 'http://north/fhir' };

describe('cached directory lookups', () => {
  it('answer a repeated question from the cache until the TTL has passed, then search again', async () => {
    const { store, searches } = await seededStore();
    const clock = manualClock();
    const directory = cachedDirectoryLookups(storeDirectoryLookups(store), { clock, ttlMs: TTL });
    const first = await directory.findService('imaging-midlands');
    expect(first?.regionId).toBe('midlands');
    expect(searches()).toBe(1);
    clock.advance(TTL - 1);
    expect(await directory.findService('imaging-midlands')).toEqual(first);
    expect(searches()).toBe(1);
    clock.advance(1);
    expect(await directory.findService('imaging-midlands')).toEqual(first);
    expect(searches()).toBe(2);
  });

  it('see a change another writer made once the TTL has passed', async () => {
    const { store } = await seededStore();
    const clock = manualClock();
    const directory = cachedDirectoryLookups(storeDirectoryLookups(store), { clock, ttlMs: TTL });
    expect((await directory.findOrganisationRegion('M81001'))?.serviceId).toBe('imaging-midlands');
    const practice = await store.read<Organization>('Organization', 'ods-M81001');
    // Written past the cache (another hub replica on the same store): the cached answer stands for the TTL.
    await store.update<Organization>({ ...practice, active: false });
    expect((await directory.findOrganisationRegion('M81001'))?.serviceId).toBe('imaging-midlands');
    clock.advance(TTL);
    expect(await directory.findOrganisationRegion('M81001')).toBeUndefined();
  });

  it('forget every answer at once when this process writes an Organization or an Endpoint through the store it watches', async () => {
    const { store, searches } = await seededStore();
    const directory = cachedDirectoryLookups(storeDirectoryLookups(store), { clock: manualClock(), ttlMs: TTL });
    const watched = observedStore(store, directory.forgetOn);
    expect((await directory.findService('imaging-south'))?.regionId).toBe('south');
    expect((await directory.findRegion('north'))?.serviceId).toBe('imaging-north');
    const endpoint = await watched.read<Endpoint>('Endpoint', 'imaging-south');
    await watched.update<Endpoint>({ ...endpoint, status: 'suspended' });
    expect(await directory.findService('imaging-south')).toBeUndefined();
    const before = searches();
    expect((await directory.findRegion('north'))?.serviceId).toBe('imaging-north');
    expect(searches()).toBe(before + 1);
  });

  it('keep answers when the write was of another type (the audit trail of every routed message)', async () => {
    const { store, searches } = await seededStore();
    const directory = cachedDirectoryLookups(storeDirectoryLookups(store), { clock: manualClock(), ttlMs: TTL });
    const watched = observedStore(store, directory.forgetOn);
    await directory.findRegion('north');
    const role = (await watched.search('PractitionerRole', { _count: '1' })).resources[0];
    if (!role) throw new Error('the development directory has people');
    await watched.update({ ...role });
    await directory.findRegion('north');
    expect(searches()).toBe(2);
  });

  it('ask again after "not found", so a region or organisation added to the directory is found at once', async () => {
    const answers = new Map<string, RegionService | Error | undefined>();
    const { lookups, asked } = scriptedLookups(answers);
    const directory = cachedDirectoryLookups(lookups, { clock: manualClock(), ttlMs: TTL });
    expect(await directory.findRegion('north')).toBeUndefined();
    answers.set('region north', NORTH);
    expect(await directory.findRegion('north')).toEqual(NORTH);
    expect(await directory.findRegion('north')).toEqual(NORTH);
    expect(asked).toEqual(['region north', 'region north']);
  });

  it('ask again after a failed search, and pass the failure on', async () => {
    const answers = new Map<string, RegionService | Error | undefined>([['service x', new Error('store down')]]);
    const { lookups, asked } = scriptedLookups(answers);
    const directory = cachedDirectoryLookups(lookups, { clock: manualClock(), ttlMs: TTL });
    await expect(directory.findService('x')).rejects.toThrow('store down');
    answers.set('service x', NORTH);
    expect(await directory.findService('x')).toEqual(NORTH);
    expect(asked).toEqual(['service x', 'service x']);
  });

  it('share one search between concurrent questions about one key, and keep the three kinds of key apart', async () => {
    const answers = new Map<string, RegionService | Error | undefined>([
      ['region north', NORTH],
      ['service north', { ...NORTH, regionId: 'other' }],
    ]);
    const { lookups, asked } = scriptedLookups(answers);
    const directory = cachedDirectoryLookups(lookups, { clock: manualClock(), ttlMs: TTL });
    const [a, b, c] = await Promise.all([
      directory.findRegion('north'),
      directory.findRegion('north'),
      directory.findService('north'),
    ]);
    expect(a).toEqual(NORTH);
    expect(b).toEqual(NORTH);
    expect(c?.regionId).toBe('other');
    expect(asked).toEqual(['region north', 'service north']);
  });

  it('search every time with a TTL of 0', async () => {
    const { lookups, asked } = scriptedLookups(new Map([['ods RM1', NORTH]]));
    const directory = cachedDirectoryLookups(lookups, { clock: manualClock(), ttlMs: 0 });
    await directory.findOrganisationRegion('RM1');
    await directory.findOrganisationRegion('RM1');
    expect(asked).toEqual(['ods RM1', 'ods RM1']);
  });
});
