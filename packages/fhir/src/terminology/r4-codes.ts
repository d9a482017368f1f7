/**
 * The FHIR R4 (4.0.1) codes of the required bindings the product relies on. Every required binding of
 * base R4 is checked generically (validation/required-bindings.ts, from Medplum's value sets); these
 * lists give the same codes as types and constants for code that sets or compares them. A test checks
 * each list against the R4 value set it copies.
 */

export const TASK_STATUSES = [
  'draft',
  'requested',
  'received',
  'accepted',
  'rejected',
  'ready',
  'cancelled',
  'in-progress',
  'on-hold',
  'failed',
  'completed',
  'entered-in-error',
] as const;
export type TaskStatus = (typeof TASK_STATUSES)[number];

export const TASK_INTENTS = [
  'unknown',
  'proposal',
  'plan',
  'order',
  'original-order',
  'reflex-order',
  'filler-order',
  'instance-order',
  'option',
] as const;
export type TaskIntent = (typeof TASK_INTENTS)[number];

/** ServiceRequest.status (request-status). */
export const REQUEST_STATUSES = [
  'draft',
  'active',
  'on-hold',
  'revoked',
  'completed',
  'entered-in-error',
  'unknown',
] as const;
export type RequestStatus = (typeof REQUEST_STATUSES)[number];

/** ServiceRequest.intent (request-intent). */
export const REQUEST_INTENTS = [
  'proposal',
  'plan',
  'directive',
  'order',
  'original-order',
  'reflex-order',
  'filler-order',
  'instance-order',
  'option',
] as const;
export type RequestIntent = (typeof REQUEST_INTENTS)[number];

/** ServiceRequest.priority and Task.priority (request-priority). */
export const REQUEST_PRIORITIES = ['routine', 'urgent', 'asap', 'stat'] as const;
export type RequestPriority = (typeof REQUEST_PRIORITIES)[number];

export const DIAGNOSTIC_REPORT_STATUSES = [
  'registered',
  'partial',
  'preliminary',
  'final',
  'amended',
  'corrected',
  'appended',
  'cancelled',
  'entered-in-error',
  'unknown',
] as const;
export type DiagnosticReportStatus = (typeof DIAGNOSTIC_REPORT_STATUSES)[number];

export const IMAGING_STUDY_STATUSES = ['registered', 'available', 'cancelled', 'entered-in-error', 'unknown'] as const;
export type ImagingStudyStatus = (typeof IMAGING_STUDY_STATUSES)[number];

export const ENDPOINT_STATUSES = ['active', 'suspended', 'error', 'off', 'entered-in-error', 'test'] as const;
export type EndpointStatus = (typeof ENDPOINT_STATUSES)[number];

/** Endpoint.connectionType's code system. (The R4 binding is extensible; our Endpoint profile narrows it.) */
export const ENDPOINT_CONNECTION_TYPE_SYSTEM = 'http://terminology.hl7.org/CodeSystem/endpoint-connection-type';
export const ENDPOINT_CONNECTION_TYPES = [
  'ihe-xcpd',
  'ihe-xca',
  'ihe-xdr',
  'ihe-xds',
  'ihe-iid',
  'dicom-wado-rs',
  'dicom-qido-rs',
  'dicom-stow-rs',
  'dicom-wado-uri',
  'hl7-fhir-rest',
  'hl7-fhir-msg',
  'hl7v2-mllp',
  'secure-email',
  'direct-project',
] as const;
export type EndpointConnectionType = (typeof ENDPOINT_CONNECTION_TYPES)[number];

/** Which R4 value set each list above copies (used by the test that keeps them honest). */
export const R4_CODE_LISTS: readonly { valueSet: string; codes: readonly string[] }[] = [
  { valueSet: 'http://hl7.org/fhir/ValueSet/task-status', codes: TASK_STATUSES },
  { valueSet: 'http://hl7.org/fhir/ValueSet/task-intent', codes: TASK_INTENTS },
  { valueSet: 'http://hl7.org/fhir/ValueSet/request-status', codes: REQUEST_STATUSES },
  { valueSet: 'http://hl7.org/fhir/ValueSet/request-intent', codes: REQUEST_INTENTS },
  { valueSet: 'http://hl7.org/fhir/ValueSet/request-priority', codes: REQUEST_PRIORITIES },
  { valueSet: 'http://hl7.org/fhir/ValueSet/diagnostic-report-status', codes: DIAGNOSTIC_REPORT_STATUSES },
  { valueSet: 'http://hl7.org/fhir/ValueSet/imagingstudy-status', codes: IMAGING_STUDY_STATUSES },
  { valueSet: 'http://hl7.org/fhir/ValueSet/endpoint-status', codes: ENDPOINT_STATUSES },
  { valueSet: 'http://hl7.org/fhir/ValueSet/endpoint-connection-type', codes: ENDPOINT_CONNECTION_TYPES },
];

export function isOneOf<T extends string>(codes: readonly T[], value: unknown): value is T {
  return typeof value === 'string' && (codes as readonly string[]).includes(value);
}
