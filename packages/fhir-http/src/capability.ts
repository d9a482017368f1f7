import type { CapabilityStatement, CapabilityStatementRestResource } from '@medplum/fhirtypes';

export interface CapabilityResource {
  type: CapabilityStatementRestResource['type'];
  profile?: string;
  interactions: ('read' | 'vread' | 'update' | 'create' | 'search-type' | 'history-instance' | 'delete')[];
  searchParams?: {
    name: string;
    type: 'token' | 'reference' | 'date' | 'string' | 'uri' | 'special';
    documentation?: string;
  }[];
  /** `_include` values the server answers (`ImagingStudy:endpoint`). */
  searchInclude?: string[];
  /** `_revinclude` values the server answers (`Task:focus`). */
  searchRevInclude?: string[];
  conditionalCreate?: boolean;
  versioning?: 'versioned' | 'versioned-update';
}

export interface CapabilityOptions {
  name: string;
  title: string;
  version: string;
  baseUrl: string;
  tokenUrl: string;
  resources: CapabilityResource[];
  operations?: { name: string; definition: string }[];
}

/** The server's CapabilityStatement, declaring SMART Backend Services as its security. */
export function capabilityStatement(options: CapabilityOptions): CapabilityStatement {
  return {
    resourceType: 'CapabilityStatement',
    name: options.name,
    title: options.title,
    status: 'active',
    date: '2026-11-23',
    kind: 'instance',
    software: { name: 'imaging-connect', version: options.version },
    implementation: { description: options.title, url: options.baseUrl },
    fhirVersion: '4.0.1',
    format: ['application/fhir+json'],
    rest: [
      {
        mode: 'server',
        security: {
          service: [
            {
              coding: [
                { system: 'http://terminology.hl7.org/CodeSystem/restful-security-service', code: 'SMART-on-FHIR' },
              ],
            },
          ],
          description: 'Bearer access tokens from the national hub (SMART Backend Services, private_key_jwt).',
          extension: [
            {
              url: 'http://fhir-registry.smarthealthit.org/StructureDefinition/oauth-uris',
              extension: [{ url: 'token', valueUri: options.tokenUrl }],
            },
          ],
        },
        resource: options.resources.map((r) => ({
          type: r.type,
          ...(r.profile ? { supportedProfile: [r.profile] } : {}),
          interaction: r.interactions.map((code) => ({ code })),
          versioning: r.versioning ?? 'versioned-update',
          readHistory: r.interactions.includes('history-instance'),
          conditionalCreate: r.conditionalCreate ?? false,
          ...(r.searchInclude?.length ? { searchInclude: r.searchInclude } : {}),
          ...(r.searchRevInclude?.length ? { searchRevInclude: r.searchRevInclude } : {}),
          searchParam: r.searchParams?.map((p) => ({
            name: p.name,
            type: p.type,
            ...(p.documentation ? { documentation: p.documentation } : {}),
          })),
        })),
        operation: options.operations,
      },
    ],
  };
}
