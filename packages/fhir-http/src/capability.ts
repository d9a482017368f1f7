import { DEFAULT_MAX_BATCH_ENTRIES } from './batch.ts';
import type {
  CapabilityStatement,
  CapabilityStatementRestResource,
  CapabilityStatementRestSecurity,
} from '@medplum/fhirtypes';

export type CapabilitySecurity = CapabilityStatementRestSecurity;

export interface CapabilityOperation {
  name: string;
  definition: string;
  documentation?: string;
  /**
   * How this server invokes it, which a CapabilityStatement has no element for (so it is not shown
   * there): the methods (POST unless listed) and, on a resource type, where (on the type, `/Patient/$validate`,
   * unless listed; or on one resource, `/Task/<id>/$acknowledge`). A request that names the operation any
   * other way is told how to invoke it (errors.ts).
   */
  methods?: readonly ('GET' | 'POST')[];
  levels?: readonly ('type' | 'instance')[];
}

/** `$process-message` at the FHIR base: how the hub and the gateways pass messages (POST, a message Bundle). */
export const PROCESS_MESSAGE_OPERATION: CapabilityOperation = {
  name: 'process-message',
  definition: 'http://hl7.org/fhir/OperationDefinition/MessageHeader-process-message',
};

/** The batch `mountBatch` serves, as a CapabilityStatement declares it. */
export const BATCH_OF_READS = {
  code: 'batch',
  documentation: `A batch of reads: GET entries only, at most ${DEFAULT_MAX_BATCH_ENTRIES}, each checked as if sent alone. Writes are sent on their own; transactions are not taken.`,
} as const;

/** The operation as a CapabilityStatement shows it. */
function declaredOperation({ name, definition, documentation }: CapabilityOperation) {
  return { name, definition, ...(documentation ? { documentation } : {}) };
}

export interface CapabilityResource {
  type: CapabilityStatementRestResource['type'];
  /** The profiles this server enforces on the type (`supportedProfile`); each is readable here. */
  supportedProfiles?: string[];
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
  /** Operations on the type or its instances (`$validate`, `$expand`). */
  operations?: CapabilityOperation[];
  /** `If-None-Exist` is honoured on create. */
  conditionalCreate?: boolean;
  versioning?: 'no-version' | 'versioned' | 'versioned-update';
  /** What a client needs to know that the elements above cannot say (markdown). */
  documentation?: string;
}

export interface CapabilityOptions {
  name: string;
  title: string;
  version: string;
  baseUrl: string;
  /** How clients authenticate: `smartSecurity` of @imaging/auth, which the SMART configuration agrees with. */
  security: CapabilityStatementRestSecurity;
  resources: CapabilityResource[];
  operations?: CapabilityOperation[];
  /** Interactions at the base: `batch` when `mountBatch` serves one. */
  systemInteractions?: { code: 'batch'; documentation: string }[];
}

/**
 * The server's CapabilityStatement. Everything not declared is not supported, and says so: no
 * conditional update, delete or read, no history, and the formats served.
 */
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
        security: options.security,
        resource: options.resources.map((r) => ({
          type: r.type,
          ...(r.supportedProfiles?.length ? { supportedProfile: r.supportedProfiles } : {}),
          ...(r.documentation ? { documentation: r.documentation } : {}),
          interaction: r.interactions.map((code) => ({ code })),
          versioning: r.versioning ?? 'versioned-update',
          // R4: whether vread returns past versions, not only the current one (ours do).
          readHistory: r.interactions.includes('vread'),
          conditionalCreate: r.conditionalCreate ?? false,
          conditionalRead: 'not-supported',
          conditionalUpdate: false,
          conditionalDelete: 'not-supported',
          ...(r.searchInclude?.length ? { searchInclude: r.searchInclude } : {}),
          ...(r.searchRevInclude?.length ? { searchRevInclude: r.searchRevInclude } : {}),
          ...(r.searchParams?.length
            ? {
                searchParam: r.searchParams.map((p) => ({
                  name: p.name,
                  type: p.type,
                  ...(p.documentation ? { documentation: p.documentation } : {}),
                })),
              }
            : {}),
          ...(r.operations?.length ? { operation: r.operations.map(declaredOperation) } : {}),
        })),
        ...(options.systemInteractions?.length ? { interaction: options.systemInteractions } : {}),
        ...(options.operations?.length ? { operation: options.operations.map(declaredOperation) } : {}),
      },
    ],
  };
}
