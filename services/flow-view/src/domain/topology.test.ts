import type { Endpoint, Organization } from '@medplum/fhirtypes';
import { CODE_SYSTEMS, ODS_SYSTEM, SYSTEMS } from '@imaging/fhir';
import { describe, expect, it } from 'vitest';
import type { RegionNode } from './ports.ts';
import { mapPositions, regionOfOrganisation, regionOfService, topologyFromDirectory } from './topology.ts';

const kind = (code: string) => [{ coding: [{ system: CODE_SYSTEMS.organisationKind, code }] }];
const region = (id: string, name: string): [Organization, Endpoint] => [
  {
    resourceType: 'Organization',
    id: `region-${id}`,
    identifier: [{ system: SYSTEMS.region, value: id }],
    type: kind('imaging-network'),
    name,
    endpoint: [{ reference: `Endpoint/imaging-${id}` }],
  },
  {
    resourceType: 'Endpoint',
    id: `imaging-${id}`,
    identifier: [{ system: SYSTEMS.serviceId, value: `imaging-${id}` }],
    status: 'active',
    connectionType: { code: 'hl7-fhir-rest' },
    payloadType: [],
    address: `http://${id}.test/fhir`,
  },
];

describe('the deployment, from the hub’s directory', () => {
  it('regions (north to south, whatever order the directory gives) with their gateways, organisations with their region', () => {
    const [south, southEndpoint] = region('south', 'South Imaging Network');
    const [north, northEndpoint] = region('north', 'North Imaging Network');
    const [midlands, midlandsEndpoint] = region('midlands', 'Midlands Imaging Network');
    const gp: Organization = {
      resourceType: 'Organization',
      identifier: [{ system: ODS_SYSTEM, value: 'N81001' }],
      type: kind('gp-practice'),
      name: 'Riverside Medical Practice',
      partOf: { reference: 'Organization/region-north', identifier: { system: SYSTEMS.region, value: 'north' } },
    };
    const topology = topologyFromDirectory(
      'http://hub.test',
      [south, gp, north, midlands],
      [northEndpoint, southEndpoint, midlandsEndpoint],
    );
    expect(topology.regions.map((r) => [r.id, r.serviceId, r.fhirBase])).toEqual([
      ['north', 'imaging-north', 'http://north.test/fhir'],
      ['midlands', 'imaging-midlands', 'http://midlands.test/fhir'],
      ['south', 'imaging-south', 'http://south.test/fhir'],
    ]);
    expect(topology.organisations).toEqual([
      { ods: 'N81001', name: 'Riverside Medical Practice', region: 'north', kind: 'gp-practice' },
    ]);
    expect(regionOfOrganisation(topology, 'N81001')).toBe('north');
    expect(regionOfService(topology, 'imaging-south')?.id).toBe('south');
  });

  it('a region whose gateway has no endpoint is left out: it cannot be followed', () => {
    const [north] = region('north', 'North');
    expect(topologyFromDirectory('http://hub.test', [north], []).regions).toEqual([]);
  });

  it('draws up to four regions around the hub, and more in a plain grid', () => {
    const regions = (n: number): RegionNode[] =>
      Array.from({ length: n }, (_, i) => ({ id: `r${i}`, name: `R${i}`, serviceId: `s${i}`, fhirBase: '' }));
    expect([...mapPositions(regions(3)).values()]).toEqual(['top', 'left', 'bottom']);
    expect([...mapPositions(regions(4)).values()]).toEqual(['top', 'left', 'right', 'bottom']);
    expect(new Set(mapPositions(regions(5)).values())).toEqual(new Set(['flow']));
  });
});
