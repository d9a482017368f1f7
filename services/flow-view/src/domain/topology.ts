import type { Endpoint, Organization } from '@medplum/fhirtypes';
import { CODE_SYSTEMS, ODS_SYSTEM, SYSTEMS } from '@imaging/fhir';
import type { FlowTopology, OrganisationInfo, RegionNode } from './ports.ts';

/**
 * The deployment as the hub's directory describes it: each region is an Organization of kind
 * imaging-network with its gateway's Endpoint; each ODS organisation is `partOf` its region. Reading it
 * from the directory (rather than a file of its own) means the view shows what the router routes by.
 */
export function topologyFromDirectory(
  hubUrl: string,
  organizations: readonly Organization[],
  endpoints: readonly Endpoint[],
): FlowTopology {
  const endpointById = new Map(endpoints.map((e) => [e.id, e]));
  const regions: RegionNode[] = [];
  const organisations: OrganisationInfo[] = [];
  for (const org of organizations) {
    const regionId = org.identifier?.find((i) => i.system === SYSTEMS.region)?.value;
    if (regionId && kindOf(org) === 'imaging-network') {
      const endpoint = endpointById.get(org.endpoint?.[0]?.reference?.split('/')[1]);
      const serviceId = endpoint?.identifier?.find((i) => i.system === SYSTEMS.serviceId)?.value;
      if (endpoint?.address && serviceId)
        regions.push({ id: regionId, name: org.name ?? regionId, serviceId, fhirBase: endpoint.address });
      continue;
    }
    const ods = org.identifier?.find((i) => i.system === ODS_SYSTEM)?.value;
    const region =
      org.partOf?.identifier?.system === SYSTEMS.region
        ? org.partOf.identifier.value
        : org.partOf?.reference?.replace(/^Organization\/region-/, '');
    const kind = kindOf(org);
    if (ods && region) organisations.push({ ods, name: org.name ?? ods, region, ...(kind ? { kind } : {}) });
  }
  return { hubUrl, regions: regions.sort(northToSouth), organisations };
}

function kindOf(org: Organization): string | undefined {
  return org.type?.flatMap((t) => t.coding ?? []).find((c) => c.system === CODE_SYSTEMS.organisationKind)?.code;
}

/** Where a region sits on the map: from north to south, by the compass word in its id or name. */
const LATITUDE: [RegExp, number][] = [
  [/north/i, 0],
  [/midlands|east|west|central/i, 1],
  [/london/i, 2],
  [/south/i, 3],
];

function latitudeOf(region: RegionNode): number {
  const text = `${region.id} ${region.name}`;
  return LATITUDE.find(([pattern]) => pattern.test(text))?.[1] ?? 1.5;
}

function northToSouth(a: RegionNode, b: RegionNode): number {
  return latitudeOf(a) - latitudeOf(b) || a.name.localeCompare(b.name);
}

/**
 * Where each region is drawn around the hub: the first at the top, the last at the bottom, the others to
 * its left and right. Beyond four regions there is no such map: they are drawn in a plain grid (`flow`).
 */
export type MapPosition = 'top' | 'bottom' | 'left' | 'right' | 'flow';

export function mapPositions(regions: readonly RegionNode[]): Map<string, MapPosition> {
  const positions = new Map<string, MapPosition>();
  if (regions.length > 4) {
    for (const region of regions) positions.set(region.id, 'flow');
    return positions;
  }
  regions.forEach((region, i) => {
    if (i === 0) positions.set(region.id, 'top');
    else if (i === regions.length - 1) positions.set(region.id, 'bottom');
    else positions.set(region.id, i === 1 ? 'left' : 'right');
  });
  return positions;
}

/** The region serving an organisation, if the directory knows it. */
export function regionOfOrganisation(topology: FlowTopology, ods: string | undefined): string | undefined {
  return topology.organisations.find((o) => o.ods === ods)?.region;
}

/** The region whose gateway has this service id (a delivery's destination), if any. */
export function regionOfService(topology: FlowTopology, serviceId: string): RegionNode | undefined {
  return topology.regions.find((r) => r.serviceId === serviceId);
}
