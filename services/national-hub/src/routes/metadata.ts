import { capabilityStatement, fhirResponse, CASE_TRAIL_OPERATION } from '@imaging/fhir-http';
import { CANONICAL_BASE, PROFILE_URLS } from '@imaging/fhir';
import { tokenEndpointOf } from '@imaging/auth';
import { Hono } from 'hono';
import type { HubContext, AppEnv } from '../deps.ts';

/** `GET /fhir/metadata`: open, like the JWKS and health. */
export function metadataRoutes(hub: HubContext): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  const statement = capabilityStatement({
    name: 'ImagingConnectNationalHub',
    title: 'imaging-connect national hub: directory, router and imaging record locator',
    version: hub.deps.version ?? '0.1.0',
    baseUrl: hub.baseUrl,
    tokenUrl: tokenEndpointOf(hub.deps.publicUrl),
    resources: [
      {
        type: 'Organization',
        profile: PROFILE_URLS.Organization,
        interactions: ['read', 'search-type'],
        searchParams: [
          { name: 'identifier', type: 'token' },
          { name: 'name', type: 'string' },
          { name: 'partof', type: 'reference' },
          { name: 'endpoint', type: 'reference' },
          { name: 'type', type: 'token' },
        ],
      },
      {
        type: 'Endpoint',
        profile: PROFILE_URLS.Endpoint,
        interactions: ['read', 'search-type'],
        searchParams: [
          { name: 'identifier', type: 'token' },
          { name: 'status', type: 'token' },
          { name: 'organization', type: 'reference' },
          { name: 'connection-type', type: 'token' },
        ],
      },
      {
        type: 'DocumentReference',
        interactions: ['create', 'read', 'search-type'],
        conditionalCreate: true,
        searchParams: [
          { name: 'subject', type: 'reference' },
          { name: 'patient', type: 'reference' },
          { name: 'type', type: 'token' },
        ],
      },
    ],
    operations: [
      { name: 'process-message', definition: 'http://hl7.org/fhir/OperationDefinition/MessageHeader-process-message' },
      { name: 'retrieve', definition: `${CANONICAL_BASE}/OperationDefinition/DocumentReference-retrieve` },
      CASE_TRAIL_OPERATION,
    ],
  });
  app.get('/', () => fhirResponse(statement));
  return app;
}
