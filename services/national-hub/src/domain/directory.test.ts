import { devTopology, peopleOf } from '@imaging/config';
import {
  assertValid,
  CODE_SYSTEMS,
  isBuiltFromValidated,
  ODS_SYSTEM,
  SqliteStore,
  SYSTEMS,
  validatingStore,
} from '@imaging/fhir';
import type { WithId } from '@imaging/fhir';
import type { Endpoint, Organization, PractitionerRole } from '@medplum/fhirtypes';
import { afterAll, describe, expect, it } from 'vitest';
import { tempDataDir, topologyWith } from '../testing/index.ts';
import { directoryResources, findOrganisationRegion, findRegion, findService, seedDirectory } from './directory.ts';

const temp = tempDataDir();
afterAll(() => temp.remove());
/** One Organization and one Endpoint per region, and one Organization per ODS organisation. */
const { regions, organisations } = devTopology();
/** Regions and their gateways, organisations, and each person as a Practitioner and a PractitionerRole. */
const DIRECTORY_SIZE = regions.length * 2 + organisations.length + peopleOf(devTopology()).length * 2;

describe('directory resources', () => {
  const resources = directoryResources(devTopology());

  it('are valid R4 and pass the project profiles', () => {
    for (const resource of resources)
      expect(() => assertValid(resource), `${resource.resourceType}/${resource.id}`).not.toThrow();
  });

  it('make a region an Organization with its gateway Endpoint, and each ODS organisation part of its region', () => {
    const byId = new Map(resources.map((r) => [`${r.resourceType}/${r.id}`, r]));
    const north = byId.get('Organization/region-north') as Organization;
    expect(north.identifier).toEqual([{ system: SYSTEMS.region, value: 'north' }]);
    expect(north.endpoint).toEqual([{ reference: 'Endpoint/imaging-north' }]);
    const endpoint = byId.get('Endpoint/imaging-north') as Endpoint;
    expect(endpoint).toMatchObject({
      identifier: [{ system: SYSTEMS.serviceId, value: 'imaging-north' }],
      status: 'active',
      connectionType: {
        system: 'http://terminology.hl7.org/CodeSystem/endpoint-connection-type',
        code: 'hl7-fhir-rest',
      },
      address: 'http://127.0.0.1:4101/fhir',
      managingOrganization: { reference: 'Organization/region-north' },
    });
    const practice = byId.get('Organization/ods-N81001') as Organization;
    expect(practice.identifier).toEqual([{ system: ODS_SYSTEM, value: 'N81001' }]);
    expect(practice.partOf?.reference).toBe('Organization/region-north');
    expect(practice.endpoint).toEqual([{ reference: 'Endpoint/imaging-north' }]);
    // Regions and their gateways, organisations, and the people, as a Practitioner and a PractitionerRole each.
    expect(resources).toHaveLength(DIRECTORY_SIZE);
  });

  it("give clients a gateway's public URL where it has one, not the address the hub reaches it at", () => {
    const topology = devTopology();
    const north = { ...(topology.regions[0] as (typeof topology.regions)[0]), url: 'http://gateway-north:4101' };
    const published = directoryResources({
      ...topology,
      regions: [{ ...north, publicUrl: 'https://north.example.nhs.uk/' }, ...topology.regions.slice(1)],
    });
    const endpoint = published.find((r) => r.resourceType === 'Endpoint' && r.id === 'imaging-north') as Endpoint;
    expect(endpoint.address).toBe('https://north.example.nhs.uk/fhir');
    const internalOnly = directoryResources({ ...topology, regions: [north, ...topology.regions.slice(1)] });
    expect((internalOnly.find((r) => r.id === 'imaging-north') as Endpoint).address).toBe(
      'http://gateway-north:4101/fhir',
    );
  });

  it('hold the people alerts go to, each role coded, in its organisation or region, and who has left inactive', () => {
    const roles = resources.filter((r): r is WithId<PractitionerRole> => r.resourceType === 'PractitionerRole');
    const byId = new Map(roles.map((r) => [r.id, r]));
    expect(byId.get('n81001-patel')).toMatchObject({
      identifier: [{ system: SYSTEMS.practitionerRole, value: 'n81001-patel' }],
      active: true,
      practitioner: { reference: 'Practitioner/n81001-patel', display: 'Dr Asha Patel' },
      organization: { reference: 'Organization/ods-N81001', identifier: { system: ODS_SYSTEM, value: 'N81001' } },
      code: [{ coding: [{ system: CODE_SYSTEMS.alertRole, code: 'requesting-clinician' }] }],
    });
    expect(byId.get('n81001-reed')?.active).toBe(false);
    expect(byId.get('rm1-spinal-on-call')).toMatchObject({
      active: true,
      organization: { identifier: { system: ODS_SYSTEM, value: 'RM1' } },
      code: [{ coding: [{ system: CODE_SYSTEMS.alertRole, code: 'spinal-on-call' }] }],
    });
    expect(byId.get('north-failsafe')).toMatchObject({
      organization: { reference: 'Organization/region-north', identifier: { system: SYSTEMS.region, value: 'north' } },
      code: [{ coding: [{ code: 'fail-safe-officer' }] }],
    });
    expect(resources.find((r) => r.resourceType === 'Practitioner' && r.id === 'n81001-reed')).toMatchObject({
      active: false,
      name: [{ text: 'Dr Tom Reed' }],
    });
    // A trust's cancer MDTs, by site or for any site.
    expect(byId.get('rn1-lung-mdt')).toMatchObject({
      organization: { identifier: { system: ODS_SYSTEM, value: 'RN1' } },
      code: [{ coding: [{ system: CODE_SYSTEMS.alertRole, code: 'mdt-lung' }] }],
    });
    expect(byId.get('rm1-cancer-mdt')?.code?.[0]?.coding?.[0]?.code).toBe('cancer-mdt');
  });

  it('refuse an MDT role for a site the alert workflow does not know', () => {
    const topology = devTopology();
    topology.organisations[1]?.people?.push({ id: 'rn1-spleen-mdt', name: 'Spleen MDT', role: 'mdt-spleen' });
    expect(() => directoryResources(topology)).toThrow(/'mdt-spleen' is not an alert role/);
  });

  it('refuse a service id that cannot be an Endpoint id', () => {
    const topology = devTopology();
    topology.regions[0] = {
      ...(topology.regions[0] as (typeof topology.regions)[number]),
      serviceId: 'imaging north/1',
    };
    expect(() => directoryResources(topology)).toThrow(/cannot be an Endpoint id/);
  });

  /** The dev topology with one value changed. */
  type Topology = ReturnType<typeof devTopology>;
  const changed = (change: (topology: Topology) => void): Topology => {
    const topology = devTopology();
    change(topology);
    return topology;
  };
  const firstRegion = (t: Topology) => t.regions[0] as Topology['regions'][number];
  const firstOrganisation = (t: Topology) => t.organisations[0] as Topology['organisations'][number];
  const firstPerson = (t: Topology) => firstOrganisation(t).people?.[0] ?? expect.unreachable('a person');

  it.each([
    [
      'an empty organisation name',
      (t: Topology) => (firstOrganisation(t).name = ''),
      /Organisation \w+: name "" is not an R4 string/,
    ],
    [
      'a region name of spaces',
      (t: Topology) => (firstRegion(t).name = '   '),
      /Region north: name " {3}" is not an R4 string/,
    ],
    [
      'a control character in a person’s name',
      (t: Topology) => (firstPerson(t).name = 'Dr\u0007 Bell'),
      /Person [\w-]+: name "Dr\\u0007 Bell" is not an R4 string/,
    ],
    [
      'a region id that cannot make an id',
      (t: Topology) => (firstRegion(t).id = 'north east'),
      /Region 'north east': its id cannot make an Organization id/,
    ],
    [
      'a lower-case ODS code',
      (t: Topology) => (firstOrganisation(t).ods = 'n81001'),
      /Organisation 'n81001': not an ODS code/,
    ],
    [
      'a gateway URL that is not http(s)',
      (t: Topology) => (firstRegion(t).publicUrl = 'ftp://north.example'),
      /Region north: 'ftp:\/\/north.example' cannot make an Endpoint address/,
    ],
    [
      'a gateway URL with a space',
      (t: Topology) => (firstRegion(t).url = 'http://north .example'),
      /cannot make an Endpoint address/,
    ],
    [
      'an unknown kind of organisation',
      (t: Topology) => (firstOrganisation(t).kind = 'hospital' as never),
      /'hospital' is not a kind/,
    ],
    [
      'active that is not a boolean',
      (t: Topology) => (firstPerson(t).active = 'yes' as never),
      /active must be true or false, not "yes"/,
    ],
  ])('refuse %s, saying which value and why', (_, change, message) => {
    expect(() => directoryResources(changed(change))).toThrow(message);
  });

  it.each([
    [
      'names with accents, tabs and newlines',
      (t: Topology) => (firstOrganisation(t).name = 'Ysbyty\tGwynedd\nBangor – Ñ'),
    ],
    ['a one-letter name', (t: Topology) => (firstRegion(t).name = 'N')],
    [
      'a gateway at https with a path and trailing slashes',
      (t: Topology) => (firstRegion(t).publicUrl = 'https://x.example/a/b//'),
    ],
    ['someone who has left', (t: Topology) => (firstPerson(t).active = false)],
  ])('accept %s: what the checks let through is valid', (_, change) => {
    for (const resource of directoryResources(changed(change)))
      expect(() => assertValid(resource), `${resource.resourceType}/${resource.id}`).not.toThrow();
  });

  it('are marked as built from validated values, so the hub’s store does not validate them again', () => {
    expect(resources.every(isBuiltFromValidated)).toBe(true);
  });
});

describe('seedDirectory', () => {
  it('is idempotent across restarts on the same store: no duplicates, no new versions', async () => {
    const path = `${temp.dir}/seed.sqlite`;
    const first = validatingStore(new SqliteStore({ path }));
    expect(await seedDirectory(first, devTopology())).toEqual({ written: DIRECTORY_SIZE, unchanged: 0 });
    await first.close();

    const restarted = validatingStore(new SqliteStore({ path }));
    expect(await seedDirectory(restarted, devTopology())).toEqual({ written: 0, unchanged: DIRECTORY_SIZE });
    expect((await restarted.search('Organization', { _count: '100' })).resources).toHaveLength(
      regions.length + organisations.length,
    );
    expect((await restarted.search('Endpoint', { _count: '100' })).resources).toHaveLength(regions.length);
    expect((await restarted.read('Endpoint', 'imaging-north')).meta?.versionId).toBe('1');

    // A gateway that moved is updated in place: one new version of its Endpoint, nothing else.
    const moved = await seedDirectory(restarted, topologyWith({ north: 'http://127.0.0.1:5101' }));
    expect(moved).toEqual({ written: 1, unchanged: DIRECTORY_SIZE - 1 });
    const endpoint = await restarted.read<Endpoint>('Endpoint', 'imaging-north');
    expect(endpoint.address).toBe('http://127.0.0.1:5101/fhir');
    expect(endpoint.meta?.versionId).toBe('2');
    await restarted.close();
  });

  it('finds what is stored when a type holds more ids than one search asks for', async () => {
    const dev = devTopology();
    const many = {
      ...dev,
      organisations: Array.from({ length: 120 }, (_, i) => ({
        ods: `X${String(i).padStart(4, '0')}`,
        name: `Practice ${i}`,
        region: 'north',
        kind: 'gp-practice' as const,
      })),
    };
    const store = validatingStore(new SqliteStore({ path: `${temp.dir}/many.sqlite` }));
    const size = directoryResources(many).length;
    expect(await seedDirectory(store, many)).toEqual({ written: size, unchanged: 0 });
    expect(await seedDirectory(store, many)).toEqual({ written: 0, unchanged: size });
    await store.close();
  });
});

describe('directory lookups', async () => {
  const store = validatingStore(new SqliteStore({ path: ':memory:' }));
  await seedDirectory(store, devTopology());

  it('find a region and its gateway by region id', async () => {
    expect(await findRegion(store, 'midlands')).toEqual({
      regionId: 'midlands',
      regionName: 'Midlands Imaging Network',
      serviceId: 'imaging-midlands',
      address: 'http://127.0.0.1:4102/fhir',
    });
    expect(await findRegion(store, 'atlantis')).toBeUndefined();
  });

  it('find the region serving an ODS organisation', async () => {
    expect(await findOrganisationRegion(store, 'RM1')).toEqual({
      regionId: 'midlands',
      regionName: 'Midlands Imaging Network',
      serviceId: 'imaging-midlands',
      address: 'http://127.0.0.1:4102/fhir',
    });
    expect((await findOrganisationRegion(store, 'N81001'))?.serviceId).toBe('imaging-north');
    expect(await findOrganisationRegion(store, 'ZZZ99')).toBeUndefined();
    const practice = await store.read<Organization>('Organization', 'ods-M81001');
    await store.update<Organization>({ ...practice, active: false });
    expect(await findOrganisationRegion(store, 'M81001')).toBeUndefined();
  });

  it('find a region by its service id, only while its Endpoint is active', async () => {
    expect((await findService(store, 'imaging-south'))?.regionId).toBe('south');
    expect(await findService(store, 'imaging-nowhere')).toBeUndefined();
    const endpoint = await store.read<Endpoint>('Endpoint', 'imaging-south');
    await store.update<Endpoint>({ ...endpoint, status: 'suspended' });
    expect(await findService(store, 'imaging-south')).toBeUndefined();
    expect(await findRegion(store, 'south')).toBeUndefined();
  });
});
