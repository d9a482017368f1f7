import type { Identifier, OperationOutcomeIssue, Resource, Task } from '@medplum/fhirtypes';
import { DICOM_UID_SYSTEM, issue, NHS_NUMBER_SYSTEM, SYSTEMS, token } from '@imaging/fhir';
import { businessIdentifierProblems } from '@imaging/messaging';

/** The business identifier system each shared resource type is matched on, across regions. */
const BUSINESS_SYSTEM: Partial<Record<Resource['resourceType'], string>> = {
  Patient: NHS_NUMBER_SYSTEM,
  ServiceRequest: SYSTEMS.placerOrder,
  Task: SYSTEMS.task,
  DiagnosticReport: SYSTEMS.report,
  ImagingStudy: DICOM_UID_SYSTEM,
};

/**
 * The one business identifier a resource is checked and matched on. It is the first of its system, and the
 * only one: a client write (`businessIdentifierIssues`) and a routed message (the authority rule) that
 * carries a second in the same system is refused, so no identifier is stored that was not checked.
 */
export function businessIdentifier(resource: Resource): Identifier | undefined {
  const system = BUSINESS_SYSTEM[resource.resourceType];
  const identifiers = (resource as { identifier?: Identifier[] }).identifier;
  if (system) return identifiers?.find((i) => i.system === system && i.value);
  // An Endpoint is matched on whatever identifier it carries.
  return identifiers?.find((i) => i.system && i.value);
}

/** `identifier=system|value`, for a conditional create or a search: the value escaped, so it is one value. */
export function identifierQuery(identifier: Identifier): string {
  return `identifier=${encodeURIComponent(token(identifier.system ?? '', identifier.value ?? ''))}`;
}

/**
 * A client write's identifiers beyond the one of each business system it may carry (any second one, for an
 * Endpoint), each a 422 at its element: checks look at one, and the store would match the record on every one.
 */
export function businessIdentifierIssues(resource: Resource): OperationOutcomeIssue[] {
  return businessIdentifierProblems(resource).map(({ index, text }) =>
    issue({ code: 'business-rule', text, expression: `${resource.resourceType}.identifier[${index}]` }),
  );
}

/** The case (X-Correlation-ID) a Task is grouped under, if any. */
export function caseOfTask(task: Task): string | undefined {
  return task.groupIdentifier?.system === SYSTEMS.correlation ? task.groupIdentifier.value : undefined;
}
