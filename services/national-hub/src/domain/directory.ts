import {
  ALERT_ROLES,
  alertRoleConcept,
  builtFromValidated,
  CODE_SYSTEMS,
  ENDPOINT_CONNECTION_TYPE_SYSTEM,
  isAlertRole,
  isEndpointAddress,
  isFhirId,
  isFhirPrimitiveString,
  isValidOdsCode,
  ODS_SYSTEM,
  PROFILE_URLS,
  searchAll,
  SYSTEMS,
  token,
} from '@imaging/fhir';
import type { AlertRole, FhirStore, WithId } from '@imaging/fhir';
import type {
  BundleEntry,
  Endpoint,
  Organization,
  Practitioner,
  PractitionerRole,
  Reference,
  Resource,
} from '@medplum/fhirtypes';
import type { DirectoryPerson, DirectorySource, OrganisationKind } from './ports.ts';

/**
 * The hub's directory (after the BaRS Endpoint Catalogue): each region (imaging network) is an
 * Organization with one FHIR Endpoint, its gateway; each ODS organisation is an Organization that is
 * `partOf` its region and reached through the region's Endpoint. The people alerts go to are each a
 * Practitioner with a PractitionerRole in their organisation (a region's fail-safe officer, in the
 * region; a trust's spinal on-call team, for suspected cauda equina syndrome), coded with their part in
 * the alert workflow; someone who has left is kept, inactive. Seeded
 * from the topology with fixed ids, so every replica and every restart writes the same resources.
 *
 * The resources are built valid rather than validated once built: every value the topology supplies is
 * checked where it is put, against the rule its element has (Medplum's for an R4 string, url or id, our
 * profiles' for an ODS code or an Endpoint address), and a bad one stops the hub, naming it. The rest is
 * constant, and the tests' stores validate every resource the builder makes. So the built resources are
 * marked `builtFromValidated`, and the hub's store (`trustBuilt`) does not validate them all again: that
 * was most of a fresh store's start-up.
 */

/** Every resource type the directory holds. */
export type DirectoryResource = Organization | Endpoint | Practitioner | PractitionerRole;

/** A region as the router and the locator need it. */
export interface RegionService {
  regionId: string;
  regionName?: string;
  /** What `NHSD-Target-Identifier` and `MessageHeader.source/destination.endpoint` carry. */
  serviceId: string;
  /** The gateway's FHIR base, e.g. http://127.0.0.1:4101/fhir. */
  address: string;
}

export const regionOrganizationId = (regionId: string): string => `region-${regionId}`;
export const odsOrganizationId = (ods: string): string => `ods-${ods}`;

export function regionReference(regionId: string, display?: string): Reference<Organization> {
  return {
    reference: `Organization/${regionOrganizationId(regionId)}`,
    type: 'Organization',
    identifier: { system: SYSTEMS.region, value: regionId },
    ...(display ? { display } : {}),
  };
}

const kind = (code: string, display: string) => [
  { coding: [{ system: CODE_SYSTEMS.organisationKind, code, display }], text: display },
];
const ORGANISATION_KINDS: Record<OrganisationKind, string> = {
  'gp-practice': 'GP practice',
  'imaging-provider': 'Imaging provider',
  trust: 'NHS trust',
};

/** The directory's resources for a topology, with their fixed ids; throws on a topology value they cannot hold. */
export function directoryResources(topology: DirectorySource): WithId<DirectoryResource>[] {
  const out: WithId<DirectoryResource>[] = [];
  const regions = new Map(topology.regions.map((r) => [r.id, r]));
  for (const region of topology.regions) {
    checkRegion(region);
    out.push({
      resourceType: 'Organization',
      id: regionOrganizationId(region.id),
      meta: { profile: [PROFILE_URLS.Organization] },
      identifier: [{ system: SYSTEMS.region, value: region.id }],
      active: true,
      type: kind('imaging-network', 'Imaging network'),
      name: region.name,
      endpoint: [{ reference: `Endpoint/${region.serviceId}` }],
    });
    out.push({
      resourceType: 'Endpoint',
      id: region.serviceId,
      meta: { profile: [PROFILE_URLS.Endpoint] },
      identifier: [{ system: SYSTEMS.serviceId, value: region.serviceId }],
      status: 'active',
      connectionType: { system: ENDPOINT_CONNECTION_TYPE_SYSTEM, code: 'hl7-fhir-rest' },
      name: `${region.name} gateway`,
      managingOrganization: regionReference(region.id, region.name),
      payloadType: [
        {
          coding: [{ system: 'http://terminology.hl7.org/CodeSystem/endpoint-payload-type', code: 'any' }],
          text: 'FHIR resources and messages',
        },
      ],
      payloadMimeType: ['application/fhir+json'],
      address: endpointAddress(region),
    });
    if (region.failSafeOfficer)
      out.push(
        ...personResources(region.failSafeOfficer, 'fail-safe-officer', regionReference(region.id, region.name)),
      );
  }
  for (const org of topology.organisations) {
    const region = regions.get(org.region);
    if (!region) throw new Error(`Organisation ${org.ods}: unknown region '${org.region}'`);
    checkOrganisation(org);
    out.push({
      resourceType: 'Organization',
      id: odsOrganizationId(org.ods),
      meta: { profile: [PROFILE_URLS.Organization] },
      identifier: [{ system: ODS_SYSTEM, value: org.ods }],
      active: true,
      type: kind(org.kind, ORGANISATION_KINDS[org.kind]),
      name: org.name,
      partOf: regionReference(region.id, region.name),
      endpoint: [{ reference: `Endpoint/${region.serviceId}` }],
    });
    const organization: Reference<Organization> = {
      reference: `Organization/${odsOrganizationId(org.ods)}`,
      type: 'Organization',
      identifier: { system: ODS_SYSTEM, value: org.ods },
      display: org.name,
    };
    for (const person of org.people ?? []) {
      if (!isAlertRole(person.role))
        throw new Error(`Person '${person.id}': '${person.role}' is not an alert role (${ALERT_ROLES.join(', ')})`);
      out.push(...personResources(person, person.role, organization));
    }
  }
  // Valid as built: each topology value was checked above, the rest is constant (see the module's comment).
  return out.map((resource) => builtFromValidated(resource));
}

/** What clients are told: the address they can reach (the hub maps it to `url` for its own calls). */
function endpointAddress(region: DirectorySource['regions'][number]): string {
  const base = region.publicUrl ?? region.url;
  const address = typeof base === 'string' ? `${base.replace(/\/+$/, '')}/fhir` : undefined;
  if (!isEndpointAddress(address)) {
    throw new Error(`Region ${region.id}: '${String(base)}' cannot make an Endpoint address (an absolute http(s) URL)`);
  }
  return address;
}

/** The checks of a region's values that its Organization and Endpoint hold (its address: endpointAddress). */
function checkRegion(region: DirectorySource['regions'][number]): void {
  if (!isFhirPrimitiveString(region.id) || !isFhirId(regionOrganizationId(region.id)))
    throw new Error(
      `Region '${region.id}': its id cannot make an Organization id (region-<id>: 1-64 of A-Z a-z 0-9 - .)`,
    );
  if (!isFhirId(region.serviceId))
    throw new Error(
      `Region ${region.id}: service id '${region.serviceId}' cannot be an Endpoint id (1-64 of A-Z a-z 0-9 - .)`,
    );
  checkName(region.name, `Region ${region.id}`, `${region.name} gateway`);
}

/** The checks of an organisation's values that its Organization, and the references to it, hold. */
function checkOrganisation(org: DirectorySource['organisations'][number]): void {
  // An ODS code is also an id (ods-<code>) and an R4 string.
  if (!isValidOdsCode(org.ods))
    throw new Error(`Organisation '${org.ods}': not an ODS code (3-10 upper-case letters or digits)`);
  checkName(org.name, `Organisation ${org.ods}`);
  if (!Object.hasOwn(ORGANISATION_KINDS, org.kind))
    throw new Error(
      `Organisation ${org.ods}: '${org.kind}' is not a kind (${Object.keys(ORGANISATION_KINDS).join(', ')})`,
    );
}

/** A name is held as an R4 string (Organization.name, HumanName.text, a reference's display), also as `alsoAs`. */
function checkName(name: unknown, whose: string, alsoAs: string = String(name)): void {
  if (!isFhirPrimitiveString(name) || !isFhirPrimitiveString(alsoAs))
    throw new Error(
      `${whose}: name ${JSON.stringify(name)} is not an R4 string (some text, no control characters but tab and newlines, at most 1 MB)`,
    );
}

/**
 * A person as a Practitioner and their PractitionerRole, both with the person's id. The role names its
 * organisation both literally (for `_include`) and by identifier (what a gateway searches by).
 */
function personResources(
  person: DirectoryPerson,
  role: AlertRole,
  organization: Reference<Organization>,
): [WithId<Practitioner>, WithId<PractitionerRole>] {
  if (!isFhirId(person.id)) throw new Error(`Person '${person.id}' cannot be a resource id (1-64 of A-Z a-z 0-9 - .)`);
  checkName(person.name, `Person ${person.id}`);
  if (person.active !== undefined && typeof person.active !== 'boolean')
    throw new Error(`Person ${person.id}: active must be true or false, not ${JSON.stringify(person.active)}`);
  const active = person.active ?? true;
  return [
    {
      resourceType: 'Practitioner',
      id: person.id,
      identifier: [{ system: SYSTEMS.practitioner, value: person.id }],
      active,
      name: [{ text: person.name }],
    },
    {
      resourceType: 'PractitionerRole',
      id: person.id,
      identifier: [{ system: SYSTEMS.practitionerRole, value: person.id }],
      active,
      practitioner: { reference: `Practitioner/${person.id}`, display: person.name },
      organization,
      code: [alertRoleConcept(role)],
    },
  ];
}

/**
 * Writes the directory, idempotently: each resource is upserted under its fixed id, and only when it
 * differs from what is stored, so a restart adds neither duplicates nor versions. One transaction, so
 * a region and its Endpoint (which reference each other) arrive together.
 */
export async function seedDirectory(
  store: FhirStore,
  topology: DirectorySource,
): Promise<{ written: number; unchanged: number }> {
  const wanted = directoryResources(topology);
  const stored = await storedVersions(store, wanted);
  const entries: BundleEntry[] = [];
  for (const resource of wanted) {
    const current = stored.get(`${resource.resourceType}/${resource.id}`);
    if (current && sameContent(current, resource)) continue;
    entries.push({ resource, request: { method: 'PUT', url: `${resource.resourceType}/${resource.id}` } });
  }
  if (entries.length) await store.transaction({ resourceType: 'Bundle', type: 'transaction', entry: entries });
  return { written: entries.length, unchanged: wanted.length - entries.length };
}

/** Ids per `_id` search: keeps a search's URL short on a FHIR server over HTTP. */
const IDS_PER_SEARCH = 50;

/**
 * The stored resources with the directory's ids, by `Type/id`: a search by `_id` per type (and per 50
 * ids) rather than a read per resource, on a fresh store as on a restart.
 */
async function storedVersions(
  store: FhirStore,
  wanted: readonly WithId<DirectoryResource>[],
): Promise<Map<string, Resource>> {
  const idsByType = new Map<DirectoryResource['resourceType'], string[]>();
  for (const { resourceType, id } of wanted) idsByType.set(resourceType, [...(idsByType.get(resourceType) ?? []), id]);
  const stored = new Map<string, Resource>();
  for (const [type, ids] of idsByType) {
    for (let i = 0; i < ids.length; i += IDS_PER_SEARCH) {
      const found = await searchAll<DirectoryResource>(store, type, {
        _id: ids.slice(i, i + IDS_PER_SEARCH).join(','),
      });
      for (const resource of found) stored.set(`${type}/${resource.id}`, resource);
    }
  }
  return stored;
}

/** Equal apart from what the store adds (version, timestamps, narrative). */
function sameContent(stored: Resource, wanted: Resource): boolean {
  const strip = (r: Resource) => {
    const { meta, text: _text, ...rest } = r as Resource & { text?: unknown };
    return JSON.stringify(canonical({ ...rest, profile: meta?.profile ?? [] }));
  };
  return strip(stored) === strip(wanted);
}

function canonical(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(canonical);
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.keys(value)
        .sort()
        .map((k) => [k, canonical((value as Record<string, unknown>)[k])]),
    );
  }
  return value;
}

/** The region with this id, with its gateway, or undefined when the directory does not know it. */
export async function findRegion(store: FhirStore, regionId: string): Promise<RegionService | undefined> {
  const page = await store.search<Organization>('Organization', {
    identifier: token(SYSTEMS.region, regionId),
    _include: 'Organization:endpoint',
    _count: '2',
  });
  const organization = page.resources[0];
  if (!organization) return undefined;
  const endpoint = endpointOf(organization, page.included);
  if (!endpoint) return undefined;
  return serviceOf(regionId, organization.name, endpoint);
}

/** The active region service with this service id (an `NHSD-Target-Identifier`), or undefined. */
export async function findService(store: FhirStore, serviceId: string): Promise<RegionService | undefined> {
  const page = await store.search<Endpoint>('Endpoint', {
    identifier: token(SYSTEMS.serviceId, serviceId),
    status: 'active',
    _include: 'Endpoint:organization',
    _count: '2',
  });
  const endpoint = page.resources[0];
  if (!endpoint) return undefined;
  const manager = endpoint.managingOrganization?.reference;
  const organization = page.included.find(
    (r): r is WithId<Organization> => r.resourceType === 'Organization' && `Organization/${r.id}` === manager,
  );
  const regionId =
    organization?.identifier?.find((i) => i.system === SYSTEMS.region)?.value ??
    (endpoint.managingOrganization?.identifier?.system === SYSTEMS.region
      ? endpoint.managingOrganization.identifier.value
      : undefined);
  if (!regionId) return undefined;
  return serviceOf(regionId, organization?.name, endpoint);
}

/**
 * The region serving an ODS organisation (the region it is `partOf`), with its gateway; undefined
 * when the directory does not know the organisation, or it or its region's Endpoint is not active.
 */
export async function findOrganisationRegion(store: FhirStore, ods: string): Promise<RegionService | undefined> {
  const page = await store.search<Organization>('Organization', {
    identifier: token(ODS_SYSTEM, ods),
    _include: 'Organization:endpoint',
    _count: '2',
  });
  const organization = page.resources[0];
  const region = organization?.partOf;
  if (!organization || organization.active === false || region?.identifier?.system !== SYSTEMS.region) return undefined;
  const endpoint = endpointOf(organization, page.included);
  if (!endpoint || !region.identifier.value) return undefined;
  return serviceOf(region.identifier.value, region.display, endpoint);
}

function endpointOf(organization: Organization, included: Resource[]): Endpoint | undefined {
  const refs = new Set((organization.endpoint ?? []).map((e) => e.reference));
  return included.find(
    (r): r is WithId<Endpoint> =>
      r.resourceType === 'Endpoint' && refs.has(`Endpoint/${r.id}`) && r.status === 'active',
  );
}

function serviceOf(regionId: string, regionName: string | undefined, endpoint: Endpoint): RegionService | undefined {
  const serviceId = endpoint.identifier?.find((i) => i.system === SYSTEMS.serviceId)?.value;
  if (!serviceId || !endpoint.address) return undefined;
  return { regionId, ...(regionName ? { regionName } : {}), serviceId, address: endpoint.address.replace(/\/+$/, '') };
}
