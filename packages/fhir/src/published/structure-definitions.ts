import type { StructureDefinition } from '@medplum/fhirtypes';
import { EXTENSIONS } from '../systems.ts';
import { PROFILE_URLS } from '../validation/profiles/common.ts';
import type { ProfiledResourceType } from '../validation/profiles/common.ts';
import { IMAGING_PROCEDURES_VALUE_SET } from './value-sets.ts';

/** What each profile requires beyond base R4, in words; the rules themselves are code (validation/profiles). */
const PROFILE_SUMMARIES: Readonly<Record<ProfiledResourceType, string>> = {
  Patient: 'An NHS number (https://fhir.nhs.uk/Id/nhs-number) that passes the Modulus 11 check.',
  Organization: 'An ODS code (https://fhir.nhs.uk/Id/ods-organization-code), or for a region its region id.',
  Endpoint:
    'A connection type of dicom-wado-rs, ihe-iid, hl7-fhir-rest or hl7-fhir-msg; an absolute http(s) address; ' +
    'a managing organisation by ODS code (a region by its id).',
  ServiceRequest:
    `Intent 'order'; a placer order number; the patient, literal or by NHS number; requester and performer ` +
    `organisations by ODS code; authoredOn; a SNOMED CT procedure code from ${IMAGING_PROCEDURES_VALUE_SET}.`,
  Task:
    'A Task code, with rules per code: a fulfilment Task has the order as focus, the patient, and requester and ' +
    'owner organisations by ODS code.',
  ImagingStudy:
    'A Study Instance UID (urn:dicom:uid, as urn:oid:) and an accession number; based on the order; the DICOMweb ' +
    'Endpoint it is retrieved from.',
  DiagnosticReport:
    'A report identifier; the patient; based on the order; exactly one alert category once issued ' +
    `(${EXTENSIONS.alertCategory}).`,
};

/**
 * StructureDefinitions that name the project's profiles and its alert-category extension: published by
 * the services (`GET /fhir/StructureDefinition/<id>`) and loaded into a FHIR server that validates
 * declared profiles (HAPI's `$validate` fails a resource whose `meta.profile` it cannot resolve). They
 * declare the canonicals and constrain nothing beyond base R4, so any server can load them: the rules
 * of each profile live in code (validation/profiles), which is what the services enforce and what their
 * `$validate` applies. The description says what the rules require.
 */
export function profileDefinitions(): StructureDefinition[] {
  const profiles = (Object.entries(PROFILE_URLS) as [ProfiledResourceType, string][]).map(
    ([type, url]): StructureDefinition => ({
      resourceType: 'StructureDefinition',
      id: idOf(url),
      url,
      name: nameOf(url),
      title: `imaging-connect ${type}`,
      status: 'active',
      description:
        `The imaging-connect ${type} profile. ${PROFILE_SUMMARIES[type]} Its rules are enforced in code by ` +
        `@imaging/fhir (validation/profiles); POST the resource to [base]/${type}/$validate to check it.`,
      fhirVersion: '4.0.1',
      kind: 'resource',
      abstract: false,
      type,
      baseDefinition: `http://hl7.org/fhir/StructureDefinition/${type}`,
      derivation: 'constraint',
      differential: { element: [{ id: type, path: type, short: `imaging-connect ${type}` }] },
    }),
  );
  const extensions = [
    extensionDefinition(
      EXTENSIONS.alertCategory,
      'Alert category of an imaging report',
      'The RCR / AoMRC alert category of an imaging report: CRITICAL, URGENT, CANCER, SIGNIFICANT or NONE.',
      'DiagnosticReport',
      'Coding',
    ),
    extensionDefinition(
      EXTENSIONS.suspectedPrimarySite,
      'Suspected primary site of a CANCER alert',
      'The suspected primary site a CANCER alert names (a SNOMED CT body structure), so the site-specific MDT can be told.',
      'DiagnosticReport',
      'CodeableConcept',
    ),
    extensionDefinition(
      EXTENSIONS.requestingClinician,
      'Requesting clinician of an imaging order',
      "The clinician who requested the order: a PractitionerRole of the hub's directory, by identifier. An alert on the report goes to them first.",
      'ServiceRequest',
      'Reference',
    ),
    extensionDefinition(
      EXTENSIONS.gpNamedBy,
      'Who named a registered GP practice',
      "The organisation (ODS) whose registration of the patient named this GP practice, as the gateway recorded it from that organisation's token. An alert for a discharged patient is copied to the practice the order's requester named, and to no other.",
      'Patient.generalPractitioner',
      'Identifier',
    ),
    extensionDefinition(
      EXTENSIONS.nextCheck,
      'Next check of an alert Task',
      'When the escalation job next looks at an open alert Task; searchable as Task?next-check=le<now>.',
      'Task',
      'dateTime',
    ),
    extensionDefinition(
      EXTENSIONS.trailSource,
      'Source of a case trail entry',
      "Which service holds a $case-trail entry: 'hub', or the id of the region whose gateway recorded it.",
      'Bundle.entry',
      'string',
    ),
  ];
  return [...profiles, ...extensions];
}

/** A simple extension (one value, no sub-extensions) on one resource type. */
function extensionDefinition(
  url: string,
  title: string,
  description: string,
  context: string,
  valueType: string,
): StructureDefinition {
  return {
    resourceType: 'StructureDefinition',
    id: idOf(url),
    url,
    name: nameOf(url),
    title,
    status: 'active',
    description,
    fhirVersion: '4.0.1',
    kind: 'complex-type',
    abstract: false,
    context: [{ type: 'element', expression: context }],
    type: 'Extension',
    baseDefinition: 'http://hl7.org/fhir/StructureDefinition/Extension',
    derivation: 'constraint',
    differential: {
      element: [
        { id: 'Extension', path: 'Extension', short: title, max: '1' },
        { id: 'Extension.extension', path: 'Extension.extension', max: '0' },
        { id: 'Extension.url', path: 'Extension.url', fixedUri: url },
        { id: 'Extension.value[x]', path: 'Extension.value[x]', min: 1, type: [{ code: valueType }] },
      ],
    },
  };
}

const idOf = (url: string) => url.slice(url.lastIndexOf('/') + 1);
const nameOf = (url: string) =>
  idOf(url)
    .split('-')
    .map((w) => w.charAt(0).toUpperCase() + w.slice(1))
    .join('');
