import type {
  DiagnosticReport,
  Endpoint,
  ImagingStudy,
  Organization,
  Patient,
  Reference,
  ServiceRequest,
  Task,
} from '@medplum/fhirtypes';
import { DICOM_UID_SYSTEM, NHS_NUMBER_SYSTEM, ODS_SYSTEM, SNOMED_SYSTEM, SYSTEMS } from '../systems.ts';
import type { AlertCategory } from '../terminology/alert-categories.ts';
import { alertCategoryExtension, suspectedPrimarySiteExtension } from '../terminology/alert-categories.ts';
import { DICOM_MODALITY_SYSTEM, IMAGING_PROCEDURE_CODES, procedureCodings } from '../terminology/imaging-procedures.ts';
import { ENDPOINT_CONNECTION_TYPE_SYSTEM } from '../terminology/r4-codes.ts';
import { taskCodeConcept } from '../terminology/task-codes.ts';
import { patientReferenceByNhsNumber, testNhsNumber } from '../validation/nhs-number.ts';
import { odsReference } from '../validation/ods.ts';
import { PROFILE_URLS } from '../validation/profiles/common.ts';

/**
 * Valid example resources for tests, the demo and the conformance suite. Each passes `assertValid`
 * and base R4 validation on HAPI FHIR. Every builder takes overrides, merged shallowly over the
 * example (replace a whole element, e.g. `{ subject: { reference: 'Patient/123' } }`).
 *
 * The story: a GP practice in the north (N81001) orders a CT chest for a test patient from a
 * diagnostic centre in the midlands (RM1), which images the patient and reports. References between
 * the examples are logical, by business identifier (NHS number, ODS code, placer order number), so
 * they hold in any store and in any region; the ImagingStudy's Endpoint is the one literal reference.
 * ODS codes match the development topology (packages/config).
 */

export const EXAMPLE = Object.freeze({
  nhsNumber: testNhsNumber(0),
  requesterOds: 'N81001',
  requesterName: 'Riverside Medical Practice',
  performerOds: 'RM1',
  performerName: 'Midlands Community Diagnostic Centre',
  placerOrder: 'N81001-000123',
  /** The fulfilment Task's identifier, which the gateways derive from the placer order number (messaging's fulfilmentTaskIdentifier). */
  task: 'req-6218848a2a88c9160aef09cc51594517',
  accession: 'RM1-ACC-000123',
  report: 'RM1-REP-000123',
  /** A Study Instance UID under the UUID-derived root 2.25 (DICOM PS3.5 §B.2). */
  studyUid: '2.25.329800735698586629295641978511506172918',
  endpointId: 'example-dicomweb',
  endpointAddress: 'https://pacs.rm1.example/dicomweb',
  authoredOn: '2026-01-05T09:30:00Z',
  studyStarted: '2026-01-07T14:05:00Z',
  reportIssued: '2026-01-08T10:15:00Z',
  /** The suspected primary site a CANCER report names: SNOMED CT 45653009, upper lobe of right lung. */
  cancerSite: { code: '45653009', display: 'Structure of upper lobe of right lung' },
} as const);

const profile = (url: string) => ({ profile: [url] });

export function examplePatient(overrides: Partial<Patient> = {}): Patient {
  return {
    resourceType: 'Patient',
    meta: profile(PROFILE_URLS.Patient),
    identifier: [{ system: NHS_NUMBER_SYSTEM, value: EXAMPLE.nhsNumber }],
    name: [{ use: 'official', family: 'Testpatient', given: ['Alex'] }],
    gender: 'unknown',
    birthDate: '1970-01-01',
    ...overrides,
  };
}

export function exampleOrganization(overrides: Partial<Organization> = {}): Organization {
  return {
    resourceType: 'Organization',
    meta: profile(PROFILE_URLS.Organization),
    identifier: [{ system: ODS_SYSTEM, value: EXAMPLE.performerOds }],
    active: true,
    name: EXAMPLE.performerName,
    ...overrides,
  };
}

export function exampleEndpoint(overrides: Partial<Endpoint> = {}): Endpoint {
  return {
    resourceType: 'Endpoint',
    id: EXAMPLE.endpointId,
    meta: profile(PROFILE_URLS.Endpoint),
    status: 'active',
    connectionType: { system: ENDPOINT_CONNECTION_TYPE_SYSTEM, code: 'dicom-wado-rs' },
    name: `${EXAMPLE.performerName} DICOMweb`,
    managingOrganization: odsReference(EXAMPLE.performerOds, EXAMPLE.performerName),
    payloadType: [{ text: 'DICOM' }],
    payloadMimeType: ['application/dicom'],
    address: EXAMPLE.endpointAddress,
    ...overrides,
  };
}

export function exampleServiceRequest(overrides: Partial<ServiceRequest> = {}): ServiceRequest {
  return {
    resourceType: 'ServiceRequest',
    meta: profile(PROFILE_URLS.ServiceRequest),
    identifier: [{ system: SYSTEMS.placerOrder, value: EXAMPLE.placerOrder }],
    status: 'active',
    intent: 'order',
    priority: 'routine',
    category: [{ coding: [{ system: SNOMED_SYSTEM, code: '363679005', display: 'Imaging' }] }],
    code: { coding: procedureCodings(IMAGING_PROCEDURE_CODES.ctChest) },
    subject: patientReferenceByNhsNumber(EXAMPLE.nhsNumber),
    authoredOn: EXAMPLE.authoredOn,
    requester: odsReference(EXAMPLE.requesterOds, EXAMPLE.requesterName),
    performer: [odsReference(EXAMPLE.performerOds, EXAMPLE.performerName)],
    reasonCode: [{ text: 'Persistent cough; exclude malignancy' }],
    ...overrides,
  };
}

const orderReference = (): Reference<ServiceRequest> => ({
  type: 'ServiceRequest',
  identifier: { system: SYSTEMS.placerOrder, value: EXAMPLE.placerOrder },
});

/** The fulfilment Task: the performer's work on the order. */
export function exampleFulfilmentTask(overrides: Partial<Task> = {}): Task {
  return {
    resourceType: 'Task',
    meta: profile(PROFILE_URLS.Task),
    identifier: [{ system: SYSTEMS.task, value: EXAMPLE.task }],
    status: 'requested',
    intent: 'order',
    priority: 'routine',
    code: taskCodeConcept('fulfil'),
    focus: orderReference(),
    for: patientReferenceByNhsNumber(EXAMPLE.nhsNumber),
    authoredOn: EXAMPLE.authoredOn,
    lastModified: EXAMPLE.authoredOn,
    requester: odsReference(EXAMPLE.requesterOds, EXAMPLE.requesterName),
    owner: odsReference(EXAMPLE.performerOds, EXAMPLE.performerName),
    ...overrides,
  };
}

/** The acknowledgement Task an alert creates for the requester (requirement 8), focused on the report. */
export function exampleAcknowledgementTask(overrides: Partial<Task> = {}): Task {
  return {
    resourceType: 'Task',
    meta: profile(PROFILE_URLS.Task),
    identifier: [{ system: SYSTEMS.task, value: `${EXAMPLE.report}-acknowledge` }],
    status: 'requested',
    intent: 'order',
    priority: 'urgent',
    code: taskCodeConcept('acknowledge-result'),
    focus: { type: 'DiagnosticReport' as const, identifier: { system: SYSTEMS.report, value: EXAMPLE.report } },
    for: patientReferenceByNhsNumber(EXAMPLE.nhsNumber),
    authoredOn: EXAMPLE.reportIssued,
    requester: odsReference(EXAMPLE.performerOds, EXAMPLE.performerName),
    owner: odsReference(EXAMPLE.requesterOds, EXAMPLE.requesterName),
    restriction: { period: { end: '2026-01-09T10:15:00Z' } },
    ...overrides,
  };
}

export function exampleImagingStudy(overrides: Partial<ImagingStudy> = {}): ImagingStudy {
  return {
    resourceType: 'ImagingStudy',
    meta: profile(PROFILE_URLS.ImagingStudy),
    identifier: [
      { system: DICOM_UID_SYSTEM, value: `urn:oid:${EXAMPLE.studyUid}` },
      { system: SYSTEMS.accession, value: EXAMPLE.accession },
    ],
    status: 'available',
    modality: [{ system: DICOM_MODALITY_SYSTEM, code: 'CT' }],
    subject: patientReferenceByNhsNumber(EXAMPLE.nhsNumber),
    started: EXAMPLE.studyStarted,
    basedOn: [orderReference()],
    endpoint: [{ reference: `Endpoint/${EXAMPLE.endpointId}` }],
    procedureCode: [{ coding: procedureCodings(IMAGING_PROCEDURE_CODES.ctChest) }],
    description: 'CT chest',
    ...overrides,
  };
}

/** The report, with its alert category (default URGENT); a CANCER report names its suspected primary site. */
export function exampleDiagnosticReport(
  overrides: Partial<DiagnosticReport> = {},
  alertCategory: AlertCategory = 'URGENT',
): DiagnosticReport {
  return {
    resourceType: 'DiagnosticReport',
    meta: profile(PROFILE_URLS.DiagnosticReport),
    extension: [
      alertCategoryExtension(alertCategory),
      ...(alertCategory === 'CANCER' ? [suspectedPrimarySiteExtension({ ...EXAMPLE.cancerSite })] : []),
    ],
    identifier: [{ system: SYSTEMS.report, value: EXAMPLE.report }],
    basedOn: [orderReference()],
    status: 'final',
    code: { coding: procedureCodings(IMAGING_PROCEDURE_CODES.ctChest) },
    subject: patientReferenceByNhsNumber(EXAMPLE.nhsNumber),
    effectiveDateTime: EXAMPLE.studyStarted,
    issued: EXAMPLE.reportIssued,
    performer: [odsReference(EXAMPLE.performerOds, EXAMPLE.performerName)],
    conclusion: 'Spiculated 18 mm nodule in the right upper lobe; further assessment advised.',
    ...overrides,
  };
}

/** One of each, for suites that check every example (e.g. against HAPI's $validate). */
export function allExamples(): (
  | Patient
  | Organization
  | Endpoint
  | ServiceRequest
  | Task
  | ImagingStudy
  | DiagnosticReport
)[] {
  return [
    examplePatient(),
    exampleOrganization(),
    exampleEndpoint(),
    exampleServiceRequest(),
    exampleFulfilmentTask(),
    exampleAcknowledgementTask(),
    exampleImagingStudy(),
    exampleDiagnosticReport(),
  ];
}

export { profileDefinitions } from '../published/structure-definitions.ts';
