import { smartEndpointsOf, smartSecurity } from '@imaging/auth';
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
import { CANONICAL_BASE, PROFILE_URLS, profileDefinitions, publishedValueSets, searchCapability } from '@imaging/fhir';
import { Hono } from 'hono';
import type { SearchableType } from '../domain/search-rules.ts';
import { SEARCH_RULES } from '../domain/search-rules.ts';
import type { AppDeps, AppEnv } from '../deps.ts';
import { LEARNING_REPORT_OPERATION } from './learning-report.ts';
import { CREATABLE_TYPES } from './writes.ts';

const CONDITIONAL_CREATE =
  'Create honours If-None-Exist: any search this type allows here, relative (identifier=system|value) or as ' +
  "an absolute URL on this server's FHIR base. No match: the resource is created (201). One match: 200 with " +
  'it, and nothing is written. Several: 412. A match you may not read counts as no match; the create is ' +
  "then decided by the type's business identifier, as without the header.";

/**
 * What the gateway answers per type, each type's versions as well (a write's Location and every AuditEvent name
 * a version); searchParam, searchInclude and searchRevInclude come from the search rules alone.
 */
const INTERACTIONS: { type: SearchableType; interactions: CapabilityResource['interactions'] }[] = [
  { type: 'Patient', interactions: ['read', 'search-type', 'create', ...VERSION_READS] },
  { type: 'ServiceRequest', interactions: ['read', 'search-type', 'create', 'update', ...VERSION_READS] },
  { type: 'Task', interactions: ['read', 'search-type', 'update', ...VERSION_READS] },
  { type: 'ImagingStudy', interactions: ['read', 'search-type', 'create', ...VERSION_READS] },
  { type: 'DiagnosticReport', interactions: ['read', 'search-type', 'create', ...VERSION_READS] },
  { type: 'Endpoint', interactions: ['read', 'search-type', 'create', ...VERSION_READS] },
  { type: 'Communication', interactions: ['read', 'search-type', ...VERSION_READS] },
  { type: 'Flag', interactions: ['read', 'search-type', ...VERSION_READS] },
];

/** The safety layer's notices: no client writes them, so no profile or `$validate` is offered for them. */
const NOTICE_DOCUMENTATION =
  "Written by the gateway's safety layer (result alerts, turnaround breaches): visible to the organisations " +
  'party to the alert or breach, as every resource here.';

/** On an alert Task (docs/clinical-safety.md): the two events of a result alert. */
const ALERT_OPERATIONS: CapabilityOperation[] = [
  { name: 'acknowledge', definition: `${CANONICAL_BASE}/OperationDefinition/Task-acknowledge`, levels: ['instance'] },
  {
    name: 'record-action',
    definition: `${CANONICAL_BASE}/OperationDefinition/Task-record-action`,
    levels: ['instance'],
  },
];

export const GATEWAY_RESOURCES: CapabilityResource[] = INTERACTIONS.map((r) => {
  if (r.type === 'Communication' || r.type === 'Flag')
    return { ...r, ...searchCapability(SEARCH_RULES, r.type), documentation: NOTICE_DOCUMENTATION };
  const conditionalCreate = (CREATABLE_TYPES as readonly string[]).includes(r.type);
  return {
    ...r,
    supportedProfiles: [PROFILE_URLS[r.type]],
    ...searchCapability(SEARCH_RULES, r.type),
    operations: r.type === 'Task' ? [VALIDATE_CAPABILITY, ...ALERT_OPERATIONS] : [VALIDATE_CAPABILITY],
    conditionalCreate,
    ...(conditionalCreate ? { documentation: CONDITIONAL_CREATE } : {}),
  };
});

/** The profiles the gateway enforces on what clients write, and the codes it checks, published at its FHIR base. */
export const GATEWAY_PUBLISHED: PublishedResources = {
  structureDefinitions: profileDefinitions().filter(
    (d) => GATEWAY_RESOURCES.some((r) => r.supportedProfiles?.includes(d.url as string)) || d.type === 'Extension',
  ),
  valueSets: publishedValueSets(),
};

/** Every type the CapabilityStatement declares, and the operations at the FHIR base. */
export const GATEWAY_DECLARED_RESOURCES: CapabilityResource[] = [
  ...GATEWAY_RESOURCES,
  AUDIT_EVENT_CAPABILITY,
  ...publishedCapability(GATEWAY_PUBLISHED),
];
export const GATEWAY_OPERATIONS: CapabilityOperation[] = [
  PROCESS_MESSAGE_OPERATION,
  CASE_TRAIL_OPERATION,
  LEARNING_REPORT_OPERATION,
];

export function metadataRoutes(deps: AppDeps, hubUrl: string): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  const statement = capabilityStatement({
    name: `RegionalGateway_${deps.region.regionId}`,
    title: `Regional imaging gateway: ${deps.region.regionId}`,
    version: deps.version ?? '0.1.0',
    baseUrl: deps.region.fhirBaseUrl,
    security: smartSecurity(smartEndpointsOf(hubUrl)),
    resources: GATEWAY_DECLARED_RESOURCES,
    operations: GATEWAY_OPERATIONS,
    systemInteractions: [BATCH_OF_READS],
  });
  app.get('/', () => fhirResponse(statement));
  return app;
}
