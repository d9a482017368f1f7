import type { Identifier, OperationOutcomeIssue, Resource } from '@medplum/fhirtypes';
import { issue } from '../../outcomes.ts';
import { CANONICAL_BASE } from '../../systems.ts';
import type { ValidationContext } from '../context.ts';

/** Canonical URLs of the project's profiles (set in `meta.profile` by the examples). */
export const PROFILE_URLS = {
  Patient: `${CANONICAL_BASE}/StructureDefinition/imaging-patient`,
  Organization: `${CANONICAL_BASE}/StructureDefinition/imaging-organization`,
  Endpoint: `${CANONICAL_BASE}/StructureDefinition/imaging-endpoint`,
  ServiceRequest: `${CANONICAL_BASE}/StructureDefinition/imaging-service-request`,
  Task: `${CANONICAL_BASE}/StructureDefinition/imaging-task`,
  ImagingStudy: `${CANONICAL_BASE}/StructureDefinition/imaging-study`,
  DiagnosticReport: `${CANONICAL_BASE}/StructureDefinition/imaging-diagnostic-report`,
} as const;
export type ProfiledResourceType = keyof typeof PROFILE_URLS;

/** A profile's rules: plain code over a resource already known to be structurally valid base R4. */
export type ProfileRules<T extends Resource> = (resource: T, ctx: ValidationContext) => OperationOutcomeIssue[];

/** Issues unless the resource has an identifier in `system` with a value; returns that identifier's index too. */
export function requiredIdentifier(
  type: string,
  identifiers: Identifier[] | undefined,
  system: string,
  what: string,
  allowedSystems: readonly string[] = [system],
): OperationOutcomeIssue[] {
  const found = (identifiers ?? []).some(
    (i) => i.system !== undefined && allowedSystems.includes(i.system) && typeof i.value === 'string' && i.value !== '',
  );
  if (found) return [];
  return [
    issue({
      code: 'required',
      text: `${what} is required (identifier with system ${allowedSystems.join(' or ')})`,
      expression: `${type}.identifier`,
    }),
  ];
}

export function required(present: unknown, text: string, expression: string): OperationOutcomeIssue[] {
  return present === undefined || present === null || present === ''
    ? [issue({ code: 'required', text, expression })]
    : [];
}
