import type { Resource } from '@medplum/fhirtypes';
import { describe, expect, it } from 'vitest';
import {
  exampleAcknowledgementTask,
  exampleDiagnosticReport,
  exampleEndpoint,
  exampleFulfilmentTask,
  exampleImagingStudy,
  exampleOrganization,
  examplePatient,
  exampleServiceRequest,
} from '../examples/index.ts';
import { OutcomeError } from '../outcomes.ts';
import {
  CODE_SYSTEMS,
  DICOM_UID_SYSTEM,
  EXTENSIONS,
  NHS_NUMBER_SYSTEM,
  ODS_SYSTEM,
  SNOMED_SYSTEM,
  SYSTEMS,
} from '../systems.ts';
import { alertCategoryExtension, suspectedPrimarySiteExtension } from '../terminology/alert-categories.ts';
import { ENDPOINT_CONNECTION_TYPE_SYSTEM } from '../terminology/r4-codes.ts';
import { taskCodeConcept } from '../terminology/task-codes.ts';
import { isDicomUidUrn, PROFILE_URLS } from './profiles/index.ts';
import { assertValid, validationIssues } from './validate.ts';

/** The status and the (code, expression) of each issue assertValid throws for a resource. */
function rejection(resource: Resource): { status: number; issues: [string, string | undefined][] } {
  try {
    assertValid(resource);
  } catch (err) {
    if (!(err instanceof OutcomeError)) throw err;
    return { status: err.status, issues: (err.outcome.issue ?? []).map((i) => [i.code, i.expression?.[0]]) };
  }
  return { status: 200, issues: [] };
}

type Case = [name: string, resource: Resource, status: number, issues: [string, string][]];

const ods = (value: string) => ({ type: 'Organization' as const, identifier: { system: ODS_SYSTEM, value } });
const nhs = (value: string) => ({ identifier: { system: NHS_NUMBER_SYSTEM, value } });

const cases: Case[] = [
  // Patient
  [
    'Patient without an NHS number',
    examplePatient({ identifier: [{ system: 'https://hospital.example/mrn', value: '1' }] }),
    422,
    [['required', 'Patient.identifier']],
  ],
  [
    'Patient whose NHS number fails Modulus 11',
    examplePatient({
      identifier: [
        { system: 'https://hospital.example/mrn', value: '1' },
        { system: NHS_NUMBER_SYSTEM, value: '9434765918' },
      ],
    }),
    422,
    [['business-rule', 'Patient.identifier[1].value']],
  ],
  [
    'Patient with a spaced NHS number',
    examplePatient({ identifier: [{ system: NHS_NUMBER_SYSTEM, value: '943 476 5919' }] }),
    422,
    [['business-rule', 'Patient.identifier[0].value']],
  ],
  [
    'Patient with an unknown property',
    { ...examplePatient(), nhsNumber: '9434765919' } as Resource,
    400,
    [['structure', 'Patient.nhsNumber']],
  ],

  // Organization
  [
    'Organization with no identifiers',
    exampleOrganization({ identifier: [] }),
    422,
    [['required', 'Organization.identifier']],
  ],
  [
    'Organization with another identifier only',
    exampleOrganization({ identifier: [{ system: 'x', value: 'y' }] }),
    422,
    [['required', 'Organization.identifier']],
  ],
  [
    'Organization with a malformed ODS code',
    exampleOrganization({ identifier: [{ system: ODS_SYSTEM, value: 'rm-1' }] }),
    422,
    [['value', 'Organization.identifier[0].value']],
  ],

  // Endpoint
  [
    'Endpoint with a connection type we do not serve',
    exampleEndpoint({ connectionType: { system: ENDPOINT_CONNECTION_TYPE_SYSTEM, code: 'hl7v2-mllp' } }),
    422,
    [['code-invalid', 'Endpoint.connectionType']],
  ],
  [
    'Endpoint with the right code in the wrong system',
    exampleEndpoint({ connectionType: { system: 'http://example.org', code: 'dicom-wado-rs' } }),
    422,
    [['code-invalid', 'Endpoint.connectionType']],
  ],
  [
    'Endpoint whose address is not an http(s) URL',
    exampleEndpoint({ address: 'ftp://pacs.example/dicom' }),
    422,
    [['value', 'Endpoint.address']],
  ],
  [
    'Endpoint managed by an organisation without ODS',
    exampleEndpoint({ managingOrganization: { reference: 'Organization/1' } }),
    422,
    [['business-rule', 'Endpoint.managingOrganization']],
  ],
  [
    'Endpoint without its address',
    { ...exampleEndpoint(), address: undefined } as unknown as Resource,
    400,
    [['structure', 'Endpoint.address']],
  ],

  // ServiceRequest
  [
    'ServiceRequest with a bogus status',
    exampleServiceRequest({ status: 'bogus' as never }),
    422,
    [['code-invalid', 'ServiceRequest.status']],
  ],
  [
    'ServiceRequest whose intent is not order',
    exampleServiceRequest({ intent: 'proposal' }),
    422,
    [['business-rule', 'ServiceRequest.intent']],
  ],
  [
    'ServiceRequest with a bogus priority',
    exampleServiceRequest({ priority: 'whenever' as never }),
    422,
    [['code-invalid', 'ServiceRequest.priority']],
  ],
  [
    'ServiceRequest without a placer order number',
    exampleServiceRequest({ identifier: [{ system: SYSTEMS.accession, value: 'A1' }] }),
    422,
    [['required', 'ServiceRequest.identifier']],
  ],
  [
    'ServiceRequest for an invalid NHS number',
    exampleServiceRequest({ subject: nhs('9990000019') }),
    422,
    [['business-rule', 'ServiceRequest.subject.identifier.value']],
  ],
  [
    'ServiceRequest for a Group',
    exampleServiceRequest({ subject: { reference: 'Group/1' } }),
    422,
    [['business-rule', 'ServiceRequest.subject']],
  ],
  [
    'ServiceRequest whose requester has no ODS code',
    exampleServiceRequest({ requester: { reference: 'Organization/1' } }),
    422,
    [['business-rule', 'ServiceRequest.requester']],
  ],
  [
    'ServiceRequest requested by a practitioner',
    exampleServiceRequest({ requester: { reference: 'Practitioner/1' } }),
    422,
    [['business-rule', 'ServiceRequest.requester']],
  ],
  [
    'ServiceRequest without a performer',
    exampleServiceRequest({ performer: undefined }),
    422,
    [['required', 'ServiceRequest.performer']],
  ],
  [
    'ServiceRequest whose second performer has a bad ODS code',
    exampleServiceRequest({ performer: [ods('RM1'), ods('x')] }),
    422,
    [['value', 'ServiceRequest.performer[1].identifier.value']],
  ],
  [
    'ServiceRequest for an unknown procedure',
    exampleServiceRequest({
      code: {
        coding: [
          { system: 'https://nicip.nhs.uk', code: 'CCHES' },
          { system: SNOMED_SYSTEM, code: '22298006' },
        ],
      },
    }),
    422,
    [['code-invalid', 'ServiceRequest.code.coding[1]']],
  ],
  [
    'ServiceRequest with no SNOMED CT code',
    exampleServiceRequest({ code: { text: 'CT chest please' } }),
    422,
    [['required', 'ServiceRequest.code']],
  ],
  [
    'ServiceRequest without authoredOn',
    exampleServiceRequest({ authoredOn: undefined }),
    422,
    [['required', 'ServiceRequest.authoredOn']],
  ],
  [
    'ServiceRequest naming its requesting clinician by ODS code',
    exampleServiceRequest({ extension: [{ url: EXTENSIONS.requestingClinician, valueReference: ods('N81001') }] }),
    422,
    [['business-rule', 'ServiceRequest.extension[0]']],
  ],
  [
    'ServiceRequest whose encounter is not an Encounter',
    exampleServiceRequest({ encounter: { reference: 'Patient/1' } as never }),
    422,
    [['business-rule', 'ServiceRequest.encounter']],
  ],
  [
    'ServiceRequest without a subject',
    { ...exampleServiceRequest(), subject: undefined } as unknown as Resource,
    400,
    [['structure', 'ServiceRequest.subject']],
  ],

  // Task
  [
    'Task with a bogus status',
    exampleFulfilmentTask({ status: 'done' as never }),
    422,
    [['code-invalid', 'Task.status']],
  ],
  [
    'Task with a bogus intent',
    exampleFulfilmentTask({ intent: 'wish' as never }),
    422,
    [['code-invalid', 'Task.intent']],
  ],
  ['Task without our code', exampleFulfilmentTask({ code: { text: 'do it' } }), 422, [['required', 'Task.code']]],
  [
    'Task with an unknown code',
    exampleFulfilmentTask({ code: { coding: [{ system: CODE_SYSTEMS.taskCode, code: 'bake' }] } }),
    422,
    [['code-invalid', 'Task.code.coding[0]']],
  ],
  [
    'Task without a business identifier',
    exampleFulfilmentTask({ identifier: [{ system: SYSTEMS.messageRequest, value: 'r1' }] }),
    422,
    [['required', 'Task.identifier']],
  ],
  [
    "a Task carrying a gateway's outbox lease identifier",
    exampleFulfilmentTask({
      identifier: [
        { system: SYSTEMS.task, value: 'N81001-000001-fulfil' },
        { system: SYSTEMS.outboxLease, value: 'midlands' },
      ],
    }),
    422,
    [['business-rule', 'Task.identifier[1]']],
  ],
  [
    'an outbox lease without its lease identifier',
    {
      resourceType: 'Task' as const,
      identifier: [{ system: SYSTEMS.task, value: 'outbox-lease-north' }],
      status: 'in-progress' as const,
      intent: 'order' as const,
      code: { coding: [{ system: CODE_SYSTEMS.taskCode, code: 'outbox-lease' }] },
    },
    422,
    [['required', 'Task.identifier']],
  ],
  [
    'fulfilment Task focused on a report',
    exampleFulfilmentTask({ focus: { reference: 'DiagnosticReport/1' } }),
    422,
    [['business-rule', 'Task.focus']],
  ],
  ['fulfilment Task without focus', exampleFulfilmentTask({ focus: undefined }), 422, [['required', 'Task.focus']]],
  [
    'fulfilment Task for a bad NHS number',
    exampleFulfilmentTask({ for: nhs('1234567890') }),
    422,
    [['business-rule', 'Task.for.identifier.value']],
  ],
  ['fulfilment Task without an owner', exampleFulfilmentTask({ owner: undefined }), 422, [['required', 'Task.owner']]],
  [
    'fulfilment Task whose requester has no ODS',
    exampleFulfilmentTask({ requester: { reference: 'Organization/7' } }),
    422,
    [['business-rule', 'Task.requester']],
  ],
  [
    'acknowledgement Task focused on the order',
    exampleAcknowledgementTask({ focus: { reference: 'ServiceRequest/1' } }),
    422,
    [['business-rule', 'Task.focus']],
  ],
  [
    'acknowledgement Task without an owner',
    exampleAcknowledgementTask({ owner: undefined }),
    422,
    [['required', 'Task.owner']],
  ],
  [
    'acknowledgement Task owned by an organisation without ODS',
    exampleAcknowledgementTask({ owner: { reference: 'Organization/1' } }),
    422,
    [['business-rule', 'Task.owner']],
  ],
  [
    'watch Task focused on the order',
    exampleAcknowledgementTask({
      code: taskCodeConcept('watch-acknowledgement'),
      focus: { reference: 'ServiceRequest/1' },
    }),
    422,
    [['business-rule', 'Task.focus']],
  ],
  [
    'Task without status',
    { ...exampleFulfilmentTask(), status: undefined } as unknown as Resource,
    400,
    [['structure', 'Task.status']],
  ],

  // ImagingStudy
  [
    'ImagingStudy without a Study UID',
    exampleImagingStudy({ identifier: [{ system: SYSTEMS.accession, value: 'A1' }] }),
    422,
    [['required', 'ImagingStudy.identifier']],
  ],
  [
    'ImagingStudy whose Study UID is not urn:oid',
    exampleImagingStudy({
      identifier: [
        { system: DICOM_UID_SYSTEM, value: '1.2.3' },
        { system: SYSTEMS.accession, value: 'A1' },
      ],
    }),
    422,
    [['value', 'ImagingStudy.identifier[0].value']],
  ],
  [
    'ImagingStudy without an accession number',
    exampleImagingStudy({ identifier: [{ system: DICOM_UID_SYSTEM, value: 'urn:oid:1.2.3' }] }),
    422,
    [['required', 'ImagingStudy.identifier']],
  ],
  [
    'ImagingStudy not based on the order',
    exampleImagingStudy({ basedOn: undefined }),
    422,
    [['required', 'ImagingStudy.basedOn']],
  ],
  [
    'ImagingStudy based on a CarePlan',
    exampleImagingStudy({ basedOn: [{ reference: 'CarePlan/1' }] }),
    422,
    [
      ['business-rule', 'ImagingStudy.basedOn'],
      ['business-rule', 'ImagingStudy.basedOn[0]'],
    ],
  ],
  [
    'ImagingStudy without an Endpoint',
    exampleImagingStudy({ endpoint: undefined }),
    422,
    [['required', 'ImagingStudy.endpoint']],
  ],
  [
    'ImagingStudy whose endpoint is a Patient',
    exampleImagingStudy({ endpoint: [{ reference: 'Patient/1' }] }),
    422,
    [['business-rule', 'ImagingStudy.endpoint[0]']],
  ],
  [
    'ImagingStudy with a bogus status',
    exampleImagingStudy({ status: 'done' as never }),
    422,
    [['code-invalid', 'ImagingStudy.status']],
  ],

  // DiagnosticReport
  [
    'final DiagnosticReport without an alert category',
    exampleDiagnosticReport({ extension: undefined }),
    422,
    [['required', `DiagnosticReport.extension('${EXTENSIONS.alertCategory}')`]],
  ],
  [
    'DiagnosticReport with two alert categories',
    exampleDiagnosticReport({ extension: [alertCategoryExtension('URGENT'), alertCategoryExtension('NONE')] }),
    422,
    [['business-rule', 'DiagnosticReport.extension[1]']],
  ],
  [
    'DiagnosticReport with an unknown alert category',
    exampleDiagnosticReport({
      extension: [{ url: EXTENSIONS.alertCategory, valueCoding: { system: CODE_SYSTEMS.alertCategory, code: 'RED' } }],
    }),
    422,
    [['code-invalid', 'DiagnosticReport.extension[0].valueCoding']],
  ],
  [
    'DiagnosticReport alert category as a string',
    exampleDiagnosticReport({ extension: [{ url: EXTENSIONS.alertCategory, valueString: 'URGENT' }] }),
    422,
    [['code-invalid', 'DiagnosticReport.extension[0]']],
  ],
  [
    'CANCER DiagnosticReport without its suspected primary site',
    exampleDiagnosticReport({ extension: [alertCategoryExtension('CANCER')] }),
    422,
    [['required', `DiagnosticReport.extension('${EXTENSIONS.suspectedPrimarySite}')`]],
  ],
  [
    'CANCER DiagnosticReport whose site is not SNOMED CT',
    exampleDiagnosticReport({
      extension: [
        alertCategoryExtension('CANCER'),
        { url: EXTENSIONS.suspectedPrimarySite, valueCodeableConcept: { text: 'lung' } },
      ],
    }),
    422,
    [['code-invalid', 'DiagnosticReport.extension[1].valueCodeableConcept']],
  ],
  [
    'DiagnosticReport naming two suspected primary sites',
    exampleDiagnosticReport({
      extension: [
        alertCategoryExtension('CANCER'),
        suspectedPrimarySiteExtension({ code: '45653009' }),
        suspectedPrimarySiteExtension({ code: '39607008' }),
      ],
    }),
    422,
    [['business-rule', 'DiagnosticReport.extension[2]']],
  ],
  [
    'DiagnosticReport without its identifier',
    exampleDiagnosticReport({ identifier: undefined }),
    422,
    [['required', 'DiagnosticReport.identifier']],
  ],
  [
    'DiagnosticReport not based on the order',
    exampleDiagnosticReport({ basedOn: undefined }),
    422,
    [['required', 'DiagnosticReport.basedOn']],
  ],
  [
    'DiagnosticReport based on a Task',
    exampleDiagnosticReport({ basedOn: [{ reference: 'Task/1' }] }),
    422,
    [['business-rule', 'DiagnosticReport.basedOn[0]']],
  ],
  [
    'DiagnosticReport about an invalid NHS number',
    exampleDiagnosticReport({ subject: nhs('9990000000') }),
    422,
    [['business-rule', 'DiagnosticReport.subject.identifier.value']],
  ],
  [
    'DiagnosticReport linking a non-study as imagingStudy',
    exampleDiagnosticReport({ imagingStudy: [{ reference: 'Media/1' }] }),
    422,
    [['business-rule', 'DiagnosticReport.imagingStudy[0]']],
  ],
  [
    'DiagnosticReport with a bogus status',
    exampleDiagnosticReport({ status: 'done' as never }),
    422,
    [['code-invalid', 'DiagnosticReport.status']],
  ],

  // Any profiled type
  [
    'a resource claiming another type’s profile',
    examplePatient({ meta: { profile: [PROFILE_URLS.Task] } }),
    422,
    [['business-rule', 'Patient.meta.profile[0]']],
  ],
];

describe('profiles: each bad input is rejected with the right status and one issue per problem', () => {
  it.each(cases)('%s', (_, resource, status, issues) => {
    const found = rejection(resource);
    expect(found.status).toBe(status);
    if (issues.length > 0) expect(found.issues).toEqual(issues);
  });
});

describe('profiles: what they accept', () => {
  it('a ServiceRequest may carry a literal reference along with its ODS identifier', () => {
    expect(
      validationIssues(exampleServiceRequest({ requester: { reference: 'Organization/7', ...ods('N81001') } })),
    ).toEqual([]);
  });

  it('a ServiceRequest may reference its patient literally', () => {
    expect(validationIssues(exampleServiceRequest({ subject: { reference: 'Patient/abc' } }))).toEqual([]);
  });

  it('a ServiceRequest may name its requesting clinician and carry its encounter, contained', () => {
    const order = exampleServiceRequest({
      extension: [
        {
          url: EXTENSIONS.requestingClinician,
          valueReference: {
            type: 'PractitionerRole',
            identifier: { system: SYSTEMS.practitionerRole, value: 'n81001-patel' },
            display: 'Dr Asha Patel',
          },
        },
      ],
      contained: [{ resourceType: 'Encounter', id: 'enc', status: 'finished', class: { code: 'EMER' } }],
      encounter: { reference: '#enc' },
    });
    expect(validationIssues(order)).toEqual([]);
  });

  it('a CANCER report with its site passes, and a site on another category is no error', () => {
    expect(validationIssues(exampleDiagnosticReport({}, 'CANCER'))).toEqual([]);
    const urgent = exampleDiagnosticReport({
      extension: [alertCategoryExtension('URGENT'), suspectedPrimarySiteExtension({ code: '45653009' })],
    });
    expect(validationIssues(urgent)).toEqual([]);
  });

  it('a preliminary report need not carry an alert category yet', () => {
    expect(validationIssues(exampleDiagnosticReport({ status: 'preliminary', extension: undefined }))).toEqual([]);
  });

  it('outbox Tasks are identified by their message request id and need no ODS actors', () => {
    const outbox = {
      resourceType: 'Task' as const,
      identifier: [{ system: SYSTEMS.messageRequest, value: 'req-1' }],
      status: 'requested' as const,
      intent: 'order' as const,
      code: taskCodeConcept('register-pointer'),
      focus: { reference: 'DiagnosticReport/1' },
      owner: { identifier: { system: SYSTEMS.region, value: 'north' } },
    };
    expect(validationIssues(outbox)).toEqual([]);
  });

  it('types without a profile get base R4 only: structure, required bindings, reference types', () => {
    const communication = { resourceType: 'Communication' as const, status: 'completed' as const };
    expect(validationIssues(communication)).toEqual([]);
    expect(rejection({ ...communication, status: 'sent' as never }).issues).toEqual([
      ['code-invalid', 'Communication.status'],
    ]);
    expect(rejection({ ...communication, subject: { reference: 'Endpoint/1' } })).toEqual({
      status: 422,
      issues: [['business-rule', 'Communication.subject']],
    });
  });

  it('collects every problem rather than stopping at the first', () => {
    const order = exampleServiceRequest({
      intent: 'plan',
      subject: nhs('1'),
      requester: { reference: 'Organization/1' },
      authoredOn: undefined,
    });
    expect(rejection(order)).toEqual({
      status: 422,
      issues: [
        ['business-rule', 'ServiceRequest.intent'],
        ['business-rule', 'ServiceRequest.subject.identifier.value'],
        ['business-rule', 'ServiceRequest.requester'],
        ['required', 'ServiceRequest.authoredOn'],
      ],
    });
  });

  it('reports structure and rule problems together, as a 400', () => {
    const order = { ...exampleServiceRequest({ intent: 'plan' }), colour: 'blue' } as Resource;
    expect(rejection(order)).toEqual({
      status: 400,
      issues: [
        ['structure', 'ServiceRequest.colour'],
        ['business-rule', 'ServiceRequest.intent'],
      ],
    });
  });

  it('gives every issue a severity, a code, a text and an expression', () => {
    for (const [, resource] of cases) {
      for (const i of validationIssues(resource)) {
        expect(i.severity).toBe('error');
        expect(i.code).toBeTruthy();
        expect(i.details?.text).toBeTruthy();
        expect(i.expression?.length).toBe(1);
      }
    }
  });
});

describe('isDicomUidUrn', () => {
  it.each(['urn:oid:1.2.3', 'urn:oid:2.25.329800735698586629295641978511506172918', 'urn:oid:1.0.2'])(
    'accepts %s',
    (v) => expect(isDicomUidUrn(v)).toBe(true),
  );
  it.each(['1.2.3', 'urn:oid:1', 'urn:oid:1.02.3', 'urn:oid:1..2', 'urn:oid:1.2.a', `urn:oid:1.${'2'.repeat(63)}`])(
    'rejects %s',
    (v) => expect(isDicomUidUrn(v)).toBe(false),
  );
});
