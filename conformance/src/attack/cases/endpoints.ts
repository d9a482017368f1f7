import { CODE_SYSTEMS, NHS_NUMBER_SYSTEM, randomTestNhsNumber, SYSTEMS } from '@imaging/fhir';
import {
  exampleDiagnosticReport,
  exampleEndpoint,
  exampleImagingStudy,
  examplePatient,
  exampleServiceRequest,
} from '@imaging/fhir/examples';
import type { AttackRequest, ServiceName } from '../surface.ts';
import type { AttackWorld } from '../world.ts';
import { CASE_TRAIL_PARAM } from '@imaging/fhir-http';
import { forgedTaskUpdate, routed } from './messages.ts';
import { get, post } from './case.ts';

/**
 * Every endpoint of the hub and the gateways that needs a token, with a client that may call it and the
 * scope it needs. The gateways all run the same app: each endpoint is tried at the gateway where its client
 * works (the midlands for the RIS, the north for the GP), and at another to try the wrong region.
 */
export interface ProtectedEndpoint {
  name: string;
  service: ServiceName;
  client: string;
  /** The scope the endpoint needs: a SMART letter on a type, or a custom scope. */
  needs: { type: string; letter: 'c' | 'r' | 'u' | 's' } | { custom: string };
  request: (world: AttackWorld) => AttackRequest | Promise<AttackRequest>;
  /** A gateway of another region, where the same call with the same token must be refused for the region. */
  elsewhere?: Exclude<ServiceName, 'hub'>;
}

const READABLE = [
  'Patient',
  'ServiceRequest',
  'Task',
  'ImagingStudy',
  'DiagnosticReport',
  'Endpoint',
  'Communication',
  'Flag',
] as const;

/** The id of the midlands' copy of each type in case A (the safety layer's notices: B's DM01 breach). */
function midlandsId(world: AttackWorld, type: (typeof READABLE)[number]): string {
  const { A: a, B: b } = world.seeded.midlands;
  const ids = {
    Patient: a.patient,
    ServiceRequest: a.order,
    Task: a.task,
    ImagingStudy: a.study,
    DiagnosticReport: a.report,
    Endpoint: a.endpoint,
    Communication: b.notice,
    Flag: b.flag,
  };
  return ids[type] as string;
}

/** A pointer a gateway could register: to a report it holds. */
export function pointerBody(world: AttackWorld, region: 'north' | 'midlands', custodian: string, url?: string) {
  const gateway = `${world.urlOf(region)}/fhir`;
  const source = url ?? `${gateway}/DiagnosticReport/${world.seeded.midlands.A.report}`;
  return {
    resourceType: 'DocumentReference',
    status: 'current',
    masterIdentifier: { system: SYSTEMS.pointerSource, value: source },
    type: {
      coding: [{ system: CODE_SYSTEMS.pointerKind, code: 'DiagnosticReport' }],
    },
    subject: { identifier: { system: NHS_NUMBER_SYSTEM, value: world.seeded.nhs.A } },
    custodian: { identifier: { system: SYSTEMS.region, value: custodian } },
    content: [{ attachment: { contentType: 'application/fhir+json', url: source } }],
  };
}

export const PROTECTED_ENDPOINTS: readonly ProtectedEndpoint[] = [
  ...READABLE.flatMap((type): ProtectedEndpoint[] => [
    {
      name: `GET /fhir/${type}`,
      service: 'midlands',
      client: 'ris-rm1',
      needs: { type, letter: 's' },
      request: () => get(`/fhir/${type}`),
      elsewhere: 'north',
    },
    {
      name: `GET /fhir/${type}/{id}`,
      service: 'midlands',
      client: 'ris-rm1',
      needs: { type, letter: 'r' },
      request: (w) => get(`/fhir/${type}/${midlandsId(w, type)}`),
      elsewhere: 'north',
    },
  ]),
  {
    name: 'PUT /fhir/Task/{id}',
    service: 'midlands',
    client: 'ris-rm1',
    needs: { type: 'Task', letter: 'u' },
    request: (w) => ({
      method: 'PUT',
      path: `/fhir/Task/${w.seeded.midlands.B.task}`,
      headers: { 'If-Match': `W/"${w.seeded.midlands.B.taskVersion}"` },
      body: { resourceType: 'Task', id: w.seeded.midlands.B.task, status: 'in-progress' },
    }),
    elsewhere: 'north',
  },
  {
    name: 'POST /fhir/ImagingStudy',
    service: 'midlands',
    client: 'ris-rm1',
    needs: { type: 'ImagingStudy', letter: 'c' },
    request: (w) =>
      post(
        '/fhir/ImagingStudy',
        exampleImagingStudy({ basedOn: [{ reference: `ServiceRequest/${w.seeded.midlands.B.order}` }] }),
      ),
    elsewhere: 'north',
  },
  {
    name: 'POST /fhir/DiagnosticReport',
    service: 'midlands',
    client: 'ris-rm1',
    needs: { type: 'DiagnosticReport', letter: 'c' },
    request: (w) =>
      post(
        '/fhir/DiagnosticReport',
        exampleDiagnosticReport({ basedOn: [{ reference: `ServiceRequest/${w.seeded.midlands.B.order}` }] }),
      ),
    elsewhere: 'north',
  },
  {
    name: 'POST /fhir/Endpoint',
    service: 'midlands',
    client: 'ris-rm1',
    needs: { type: 'Endpoint', letter: 'c' },
    request: () => post('/fhir/Endpoint', exampleEndpoint({ id: undefined })),
    elsewhere: 'north',
  },
  {
    name: 'POST /fhir/Patient',
    service: 'north',
    client: 'gp-n81001',
    needs: { type: 'Patient', letter: 'c' },
    request: () =>
      post(
        '/fhir/Patient',
        examplePatient({ identifier: [{ system: NHS_NUMBER_SYSTEM, value: randomTestNhsNumber() }] }),
      ),
    elsewhere: 'south',
  },
  {
    name: 'POST /fhir/ServiceRequest',
    service: 'north',
    client: 'gp-n81001',
    needs: { type: 'ServiceRequest', letter: 'c' },
    request: (w) =>
      post(
        '/fhir/ServiceRequest',
        exampleServiceRequest({
          identifier: [{ system: SYSTEMS.placerOrder, value: `N81001-${w.seeded.run}9` }],
          subject: { reference: `Patient/${w.seeded.north.A.patient}` },
        }),
      ),
    elsewhere: 'south',
  },
  // The flow view's: a national observer's feed and case trails, at any gateway (cases/flow.ts has more).
  {
    name: 'GET /events',
    service: 'north',
    client: 'flow-view',
    needs: { custom: 'flow/events' },
    request: () => get('/events'),
  },
  {
    name: 'GET /fhir/$case-trail',
    service: 'midlands',
    client: 'flow-view',
    needs: { custom: 'flow/case' },
    request: (w) => get(`/fhir/$case-trail?${CASE_TRAIL_PARAM}=${w.seeded.north.A.correlation}`),
  },
  {
    name: 'POST /fhir/$process-message (gateway)',
    service: 'north',
    client: 'national-hub',
    needs: { custom: 'hub/deliver' },
    request: (w) => routed(forgedTaskUpdate(w, 'imaging-midlands', 'imaging-north', 'completed'), 'imaging-north'),
  },
  {
    name: 'GET /fhir/Organization',
    service: 'hub',
    client: 'gateway-north',
    needs: { type: 'Organization', letter: 's' },
    request: () => get('/fhir/Organization'),
  },
  {
    name: 'GET /fhir/Organization/{id}',
    service: 'hub',
    client: 'gateway-north',
    needs: { type: 'Organization', letter: 'r' },
    request: (w) => get(`/fhir/Organization/${w.seeded.hub.organisation}`),
  },
  {
    name: 'GET /fhir/Endpoint (directory)',
    service: 'hub',
    client: 'gateway-north',
    needs: { type: 'Endpoint', letter: 's' },
    request: () => get('/fhir/Endpoint'),
  },
  {
    name: 'GET /fhir/Endpoint/{id} (directory)',
    service: 'hub',
    client: 'gateway-north',
    needs: { type: 'Endpoint', letter: 'r' },
    request: (w) => get(`/fhir/Endpoint/${w.seeded.hub.endpoint}`),
  },
  {
    name: 'POST /fhir/$process-message (hub)',
    service: 'hub',
    client: 'gateway-south',
    needs: { custom: 'hub/route' },
    request: (w) => routed(forgedTaskUpdate(w, 'imaging-south', 'imaging-north', 'completed'), 'imaging-north'),
  },
  {
    name: 'POST /fhir/DocumentReference',
    service: 'hub',
    client: 'gateway-midlands',
    needs: { type: 'DocumentReference', letter: 'c' },
    request: (w) => post('/fhir/DocumentReference', pointerBody(w, 'midlands', 'midlands')),
  },
  {
    name: 'GET /fhir/DocumentReference?subject:identifier',
    service: 'hub',
    client: 'clinician-rs1',
    needs: { type: 'DocumentReference', letter: 's' },
    request: (w) => get(`/fhir/DocumentReference?subject:identifier=${NHS_NUMBER_SYSTEM}|${w.seeded.nhs.A}`),
  },
  {
    name: 'GET /fhir/DocumentReference/{id}',
    service: 'hub',
    client: 'clinician-rs1',
    needs: { type: 'DocumentReference', letter: 'r' },
    request: (w) => get(`/fhir/DocumentReference/${w.seeded.hub.pointer}`),
  },
  {
    name: 'GET /fhir/DocumentReference/{id}/$retrieve',
    service: 'hub',
    client: 'clinician-rs1',
    needs: { type: 'DocumentReference', letter: 'r' },
    request: (w) => get(`/fhir/DocumentReference/${w.seeded.hub.pointer}/$retrieve`),
  },
];

/** Endpoints anyone may call, token or not. */
export const OPEN_ENDPOINTS: readonly { service: ServiceName; path: string }[] = [
  ...(['hub', 'north', 'midlands', 'south'] as const).flatMap((service) => [
    { service, path: '/health' },
    { service, path: '/fhir/metadata' },
  ]),
  { service: 'hub', path: '/.well-known/jwks.json' },
  { service: 'hub', path: '/.well-known/smart-configuration' },
];
