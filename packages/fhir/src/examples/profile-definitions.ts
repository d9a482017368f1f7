import type { StructureDefinition } from '@medplum/fhirtypes';
import { EXTENSIONS } from '../systems.ts';
import { PROFILE_URLS } from '../validation/profiles/common.ts';
import type { ProfiledResourceType } from '../validation/profiles/common.ts';

/**
 * StructureDefinitions that name the project's profiles and its extensions, for a FHIR
 * server that validates declared profiles (HAPI's `$validate` fails a resource whose `meta.profile`
 * it cannot resolve). They declare the canonicals and constrain nothing beyond base R4: the rules of
 * each profile live in code (validation/profiles), which is what the services enforce. Load these
 * into the server before sending it the examples.
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
      description: `The imaging-connect ${type} profile. Its rules are enforced in code by @imaging/fhir (validation/profiles).`,
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
      EXTENSIONS.nextCheck,
      'Next check of an alert Task',
      'When the escalation job next looks at an open alert Task; searchable as Task?next-check=le<now>.',
      'Task',
      'dateTime',
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
