import { tokenEndpointOf } from '@imaging/auth';
import { capabilityStatement, fhirResponse } from '@imaging/fhir-http';
import type { CapabilityResource } from '@imaging/fhir-http';
import { Hono } from 'hono';
import type { AppDeps, AppEnv } from '../deps.ts';

const common = [
  { name: '_id', type: 'token' },
  { name: '_lastUpdated', type: 'date' },
] as const;

const RESOURCES: CapabilityResource[] = [
  {
    type: 'Patient',
    interactions: ['read', 'search-type', 'create'],
    conditionalCreate: true,
    searchParams: [...common, { name: 'identifier', type: 'token' }],
  },
  {
    type: 'ServiceRequest',
    interactions: ['read', 'search-type', 'create'],
    conditionalCreate: true,
    searchParams: [
      ...common,
      { name: 'identifier', type: 'token' },
      { name: 'subject', type: 'reference' },
      { name: 'patient', type: 'reference' },
      { name: 'status', type: 'token' },
      { name: 'requester', type: 'reference' },
      { name: 'performer', type: 'reference' },
      { name: 'code', type: 'token' },
      { name: 'authored', type: 'date' },
    ],
  },
  {
    type: 'Task',
    interactions: ['read', 'search-type', 'update'],
    searchParams: [
      ...common,
      { name: 'identifier', type: 'token' },
      { name: 'status', type: 'token' },
      { name: 'focus', type: 'reference' },
      { name: 'patient', type: 'reference' },
      { name: 'owner', type: 'reference' },
      { name: 'requester', type: 'reference' },
      { name: 'authored-on', type: 'date' },
    ],
  },
  {
    type: 'ImagingStudy',
    interactions: ['read', 'search-type', 'create'],
    searchParams: [
      ...common,
      { name: 'identifier', type: 'token' },
      { name: 'basedon', type: 'reference' },
      { name: 'patient', type: 'reference' },
      { name: 'started', type: 'date' },
    ],
  },
  {
    type: 'DiagnosticReport',
    interactions: ['read', 'search-type', 'create'],
    searchParams: [
      ...common,
      { name: 'identifier', type: 'token' },
      { name: 'based-on', type: 'reference' },
      { name: 'patient', type: 'reference' },
      { name: 'status', type: 'token' },
      { name: 'issued', type: 'date' },
    ],
  },
  {
    type: 'Endpoint',
    interactions: ['read', 'search-type', 'create'],
    searchParams: [...common, { name: 'identifier', type: 'token' }],
  },
];

export function metadataRoutes(deps: AppDeps, hubUrl: string): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  const statement = capabilityStatement({
    name: `RegionalGateway_${deps.region.regionId}`,
    title: `Regional imaging gateway: ${deps.region.regionId}`,
    version: deps.version ?? '0.1.0',
    baseUrl: deps.region.fhirBaseUrl,
    tokenUrl: tokenEndpointOf(hubUrl),
    resources: RESOURCES,
    operations: [
      { name: 'process-message', definition: 'http://hl7.org/fhir/OperationDefinition/MessageHeader-process-message' },
    ],
  });
  app.get('/', () => fhirResponse(statement));
  return app;
}
