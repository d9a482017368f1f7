import { getSearchParameter } from '@medplum/core';
import type { Resource, SearchParameter } from '@medplum/fhirtypes';
import { PROJECT_SEARCH_PARAMETERS } from '../../search-parameters.ts';
import { loadFhirDefinitionsFor } from '../../definitions.ts';
import { CANONICAL_BASE } from '../../systems.ts';
import { OutcomeError } from '../../outcomes.ts';
import type { FhirStore } from '../port.ts';

/**
 * The `:identifier` modifier on reference parameters (`owner:identifier=<ODS system>|RM1`) finds
 * resources that point at an organisation or patient by business identifier only (a logical reference).
 * HAPI FHIR's JPA server does not implement it (HAPI-2498, hapifhir/hapi-fhir#5701). The standard way
 * round that is a custom token SearchParameter on `<reference>.identifier`: this module defines one per
 * reference parameter the project searches that way, and HttpStore sends `owner-identifier=...` where the
 * caller wrote `owner:identifier=...`.
 *
 * The SearchParameters must exist on the server before the resources they index are written (HAPI only
 * indexes existing resources again on `$reindex`): install them at deployment with
 * `ensureReferenceIdentifierSearchParameters`, which installs the project's own SearchParameters
 * (search-parameters.ts, e.g. Task next-check) with them. On a partitioned HAPI they live in the DEFAULT
 * partition.
 */

/** Reference parameters searched with `:identifier`, by resource type. Add to it as the services need. */
export const REFERENCE_IDENTIFIER_PARAMS: Readonly<Record<string, readonly string[]>> = {
  Task: ['owner', 'requester', 'subject', 'patient'],
  ServiceRequest: ['performer', 'requester', 'subject', 'patient'],
  DiagnosticReport: ['subject', 'patient', 'performer'],
  ImagingStudy: ['subject', 'patient'],
  DocumentReference: ['subject', 'patient', 'author', 'custodian'],
  Communication: ['recipient', 'sender', 'subject', 'patient'],
  Organization: ['partof'],
  Endpoint: ['organization'],
  PractitionerRole: ['organization', 'practitioner'],
  // The hub's audit trail of one case: entity:identifier=<correlation system>|<X-Correlation-ID>.
  AuditEvent: ['entity'],
};

/** The code of the custom parameter that stands for `<param>:identifier`. */
export function identifierParamCode(param: string): string {
  return `${param}-identifier`;
}

export function hasIdentifierParam(type: string, param: string): boolean {
  return REFERENCE_IDENTIFIER_PARAMS[type]?.includes(param) ?? false;
}

/** `owner:identifier` becomes `owner-identifier` where a custom parameter stands for it; other keys pass. */
export function rewriteReferenceIdentifiers(type: string, params: URLSearchParams): URLSearchParams {
  const out = new URLSearchParams();
  for (const [key, value] of params) {
    const m = /^([a-z][a-z0-9-]*):identifier$/.exec(key);
    out.append(m && hasIdentifierParam(type, m[1] as string) ? identifierParamCode(m[1] as string) : key, value);
  }
  return out;
}

/**
 * The SearchParameter for `<type>.<param>:identifier`: the base parameter's FHIRPath, narrowed to this
 * type, without `resolve()` (a logical reference cannot be resolved), plus `.identifier`.
 */
export function referenceIdentifierSearchParameter(type: string, param: string): SearchParameter {
  loadFhirDefinitionsFor([type]);
  const base = getSearchParameter(type, param);
  if (base?.type !== 'reference' || !base.expression)
    throw new Error(`${type}.${param} is not a reference search parameter`);
  const paths = base.expression
    .split('|')
    .map((p) => p.trim().replace(/^\((.*)\)$/, '$1'))
    .filter((p) => p.startsWith(`${type}.`))
    .map((p) => `${p.replace(/\.where\(resolve\(\) is [A-Za-z]+\)$/, '')}.identifier`);
  if (paths.length === 0) throw new Error(`${type}.${param} has no path on ${type}`);
  const code = identifierParamCode(param);
  return {
    resourceType: 'SearchParameter',
    url: `${CANONICAL_BASE}/SearchParameter/${type}-${code}`,
    name: `${type}${code.replace(/(^|-)([a-z])/g, (_m, _d, c: string) => c.toUpperCase())}`,
    status: 'active',
    description: `${type}.${param}:identifier for servers without the :identifier modifier: the identifier of the referenced resource`,
    code,
    base: [type as SearchParameter['base'][number]],
    type: 'token',
    expression: [...new Set(paths)].join(' | '),
  };
}

export function referenceIdentifierSearchParameters(): SearchParameter[] {
  return Object.entries(REFERENCE_IDENTIFIER_PARAMS).flatMap(([type, params]) =>
    params.map((param) => referenceIdentifierSearchParameter(type, param)),
  );
}

/** Every SearchParameter a FHIR server needs beyond R4's: the reference-identifier ones and the project's own. */
export function customSearchParameters(): SearchParameter[] {
  return [...referenceIdentifierSearchParameters(), ...PROJECT_SEARCH_PARAMETERS];
}

/**
 * Creates every missing custom SearchParameter (matched by canonical URL), and returns the URLs it
 * created. Idempotent: run it at every deployment. `store` is the server's base for SearchParameters (on a
 * partitioned HAPI, its DEFAULT partition).
 */
export async function ensureReferenceIdentifierSearchParameters(store: FhirStore): Promise<string[]> {
  const created: string[] = [];
  for (const sp of customSearchParameters()) {
    const result = await store.create(sp, { ifNoneExist: `url=${sp.url}` });
    if (result.created) created.push(sp.url as string);
  }
  return created;
}

/**
 * Waits (bounded) until the server accepts a search on a parameter it has just been given: HAPI
 * indexes a new SearchParameter asynchronously and answers 400 until it has.
 */
export async function untilSearchable(
  store: FhirStore,
  type: Resource['resourceType'],
  param: string,
  timeoutMs = 120_000,
  probe = 'readiness-probe',
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      await store.search(type, { [param]: probe, _count: '1' });
      return;
    } catch (err) {
      if (!(err instanceof OutcomeError) || err.status !== 400 || Date.now() > deadline) throw err;
      await new Promise((resolve) => setTimeout(resolve, 1_000));
    }
  }
}

/**
 * Waits (bounded, one deadline for all) until every partition searches on every custom parameter: until
 * then a search on one answers 400 on HAPI. A date parameter is probed with a date, others with a token.
 */
export async function untilReferenceIdentifiersSearchable(
  partitions: readonly FhirStore[],
  timeoutMs = 120_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (const store of partitions) {
    for (const sp of customSearchParameters()) {
      for (const type of sp.base) {
        await untilSearchable(
          store,
          type as Resource['resourceType'],
          sp.code as string,
          Math.max(1_000, deadline - Date.now()),
          sp.type === 'date' ? 'ge2000-01-01' : 'readiness-probe',
        );
      }
    }
  }
}

/**
 * Readies a HAPI FHIR server for our searches: installs the reference-identifier SearchParameters
 * where definitions live (HAPI: the DEFAULT partition), then waits until each partition the services
 * use can search on them. Idempotent. Returns the canonical URLs it created.
 */
export async function prepareReferenceIdentifierSearch(
  definitions: FhirStore,
  partitions: readonly FhirStore[],
  timeoutMs = 120_000,
): Promise<string[]> {
  const created = await ensureReferenceIdentifierSearchParameters(definitions);
  await untilReferenceIdentifiersSearchable(partitions, timeoutMs);
  return created;
}
