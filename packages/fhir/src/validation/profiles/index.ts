import type { OperationOutcomeIssue, Resource } from '@medplum/fhirtypes';
import type { ValidationContext } from '../context.ts';
import type { ProfiledResourceType, ProfileRules } from './common.ts';
import { diagnosticReportRules } from './diagnostic-report.ts';
import { endpointRules } from './endpoint.ts';
import { imagingStudyRules } from './imaging-study.ts';
import { organizationRules } from './organization.ts';
import { patientRules } from './patient.ts';
import { serviceRequestRules } from './service-request.ts';
import { taskRules } from './task.ts';

export { PROFILE_URLS } from './common.ts';
export type { ProfiledResourceType, ProfileRules } from './common.ts';
export { DIRECTORY_ENDPOINT_CONNECTION_TYPES, IMAGING_ENDPOINT_CONNECTION_TYPES } from './endpoint.ts';
export { isDicomUidUrn } from './imaging-study.ts';

const RULES: { [K in ProfiledResourceType]: ProfileRules<Extract<Resource, { resourceType: K }>> } = {
  Patient: patientRules,
  Organization: organizationRules,
  Endpoint: endpointRules,
  ServiceRequest: serviceRequestRules,
  Task: taskRules,
  ImagingStudy: imagingStudyRules,
  DiagnosticReport: diagnosticReportRules,
};

/** Our profile's rules for this resource's type; types without a profile (Communication, AuditEvent…) have none. */
export function profileIssues(resource: Resource, ctx: ValidationContext): OperationOutcomeIssue[] {
  const rules = (RULES as Partial<Record<string, ProfileRules<Resource>>>)[resource.resourceType];
  return rules ? rules(resource, ctx) : [];
}
