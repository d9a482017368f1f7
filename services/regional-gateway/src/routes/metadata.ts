import { tokenEndpointOf } from '@imaging/auth';
import { CASE_TRAIL_OPERATION, capabilityStatement, fhirResponse } from '@imaging/fhir-http';
import type { CapabilityResource } from '@imaging/fhir-http';
import { searchCapability } from '@imaging/fhir';
import { Hono } from 'hono';
import type { SearchableType } from '../domain/search-rules.ts';
import { SEARCH_RULES } from '../domain/search-rules.ts';
import type { AppDeps, AppEnv } from '../deps.ts';

/** What the gateway answers per type; searchParam, searchInclude and searchRevInclude come from the search rules alone. */
const INTERACTIONS: {
  type: SearchableType;
  interactions: CapabilityResource['interactions'];
  conditionalCreate?: boolean;
}[] = [
  { type: 'Patient', interactions: ['read', 'search-type', 'create'], conditionalCreate: true },
  { type: 'ServiceRequest', interactions: ['read', 'search-type', 'create'], conditionalCreate: true },
  { type: 'Task', interactions: ['read', 'search-type', 'update'] },
  { type: 'ImagingStudy', interactions: ['read', 'search-type', 'create'] },
  { type: 'DiagnosticReport', interactions: ['read', 'search-type', 'create'] },
  { type: 'Endpoint', interactions: ['read', 'search-type', 'create'] },
];

const RESOURCES: CapabilityResource[] = INTERACTIONS.map((r) => ({
  ...r,
  ...searchCapability(SEARCH_RULES, r.type),
}));

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
      CASE_TRAIL_OPERATION,
    ],
  });
  app.get('/', () => fhirResponse(statement));
  return app;
}
