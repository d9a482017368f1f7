import {
  AUDIT_EVENT_CAPABILITY,
  CASE_TRAIL_OPERATION,
  BATCH_OF_READS,
  capabilityStatement,
  fhirResponse,
  PROCESS_MESSAGE_OPERATION,
  publishedCapability,
  VALIDATE_CAPABILITY,
  VERSION_READS,
} from '@imaging/fhir-http';
import type { CapabilityOperation, CapabilityResource, PublishedResources } from '@imaging/fhir-http';
import {
  CANONICAL_BASE,
  CODE_SYSTEMS,
  NHS_NUMBER_SYSTEM,
  PROFILE_URLS,
  profileDefinitions,
  searchCapability,
} from '@imaging/fhir';
import { smartEndpointsOf, smartSecurity } from '@imaging/auth';
import { Hono } from 'hono';
import type { HubContext, AppEnv } from '../deps.ts';
import { DIRECTORY_SEARCH } from './directory.ts';

/** The profiles the hub enforces on what it stores (its directory), published at its FHIR base. */
export const HUB_PUBLISHED: PublishedResources = {
  structureDefinitions: profileDefinitions().filter((d) =>
    ([PROFILE_URLS.Organization, PROFILE_URLS.Endpoint] as string[]).includes(d.url as string),
  ),
  valueSets: [],
};

/** What the hub answers per type: its directory (as its searches are checked) and the locator's pointers. */
const PATIENT_BY_NHS_NUMBER =
  `Required, exactly one patient: by NHS number only, as subject:identifier (or patient:identifier, or the chain ` +
  `.identifier) = ${NHS_NUMBER_SYSTEM}|<10 digits>. A reference to a Patient id is not answered (400).`;

export const HUB_RESOURCES: CapabilityResource[] = [
  {
    type: 'Organization',
    supportedProfiles: [PROFILE_URLS.Organization],
    interactions: ['read', 'search-type', ...VERSION_READS],
    ...searchCapability(DIRECTORY_SEARCH, 'Organization'),
    operations: [VALIDATE_CAPABILITY],
  },
  {
    type: 'Endpoint',
    supportedProfiles: [PROFILE_URLS.Endpoint],
    interactions: ['read', 'search-type', ...VERSION_READS],
    ...searchCapability(DIRECTORY_SEARCH, 'Endpoint'),
    operations: [VALIDATE_CAPABILITY],
  },
  {
    type: 'PractitionerRole',
    interactions: ['read', 'search-type', ...VERSION_READS],
    ...searchCapability(DIRECTORY_SEARCH, 'PractitionerRole'),
  },
  {
    type: 'Practitioner',
    interactions: ['read', 'search-type', ...VERSION_READS],
    ...searchCapability(DIRECTORY_SEARCH, 'Practitioner'),
  },
  {
    type: 'DocumentReference',
    interactions: ['create', 'read', 'search-type', ...VERSION_READS],
    // The locator is searched for one patient at a time, by NHS number only (no fishing): say so, so that a
    // generic client building a search from this statement asks what is answered.
    searchParams: [
      { name: 'subject', type: 'reference', documentation: PATIENT_BY_NHS_NUMBER },
      { name: 'patient', type: 'reference', documentation: PATIENT_BY_NHS_NUMBER },
      {
        name: 'type',
        type: 'token',
        documentation: `The kind of pointer: ${CODE_SYSTEMS.pointerKind}|ImagingStudy or |DiagnosticReport.`,
      },
    ],
    operations: [
      VALIDATE_CAPABILITY,
      {
        name: 'retrieve',
        definition: `${CANONICAL_BASE}/OperationDefinition/DocumentReference-retrieve`,
        methods: ['GET'],
        levels: ['instance'],
      },
    ],
    documentation:
      'A registration is idempotent on its masterIdentifier (the source URL): registering the same pointer ' +
      'again answers 200 with the one held. If-None-Exist is not read.',
  },
];

/** Every type the CapabilityStatement declares, and the operations at the FHIR base. */
export const HUB_DECLARED_RESOURCES: CapabilityResource[] = [
  ...HUB_RESOURCES,
  AUDIT_EVENT_CAPABILITY,
  ...publishedCapability(HUB_PUBLISHED),
];
export const HUB_OPERATIONS: CapabilityOperation[] = [PROCESS_MESSAGE_OPERATION, CASE_TRAIL_OPERATION];

/** `GET /fhir/metadata`: open, like the JWKS and health. */
export function metadataRoutes(hub: HubContext): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  const statement = capabilityStatement({
    name: 'ImagingConnectNationalHub',
    title: 'imaging-connect national hub: directory, router and imaging record locator',
    version: hub.deps.version ?? '0.1.0',
    baseUrl: hub.baseUrl,
    security: smartSecurity(smartEndpointsOf(hub.deps.publicUrl)),
    resources: HUB_DECLARED_RESOURCES,
    operations: HUB_OPERATIONS,
    systemInteractions: [BATCH_OF_READS],
  });
  app.get('/', () => fhirResponse(statement));
  return app;
}
