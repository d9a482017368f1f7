import type { StructureDefinition } from '@medplum/fhirtypes';
import { EXTENSIONS } from '../systems.ts';
import { PROFILE_URLS } from '../validation/profiles/common.ts';
import type { ProfiledResourceType } from '../validation/profiles/common.ts';

/**
 * StructureDefinitions that name the project's profiles and its alert-category extension, for a FHIR
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
  const alertCategory: StructureDefinition = {
    resourceType: 'StructureDefinition',
    id: idOf(EXTENSIONS.alertCategory),
    url: EXTENSIONS.alertCategory,
    name: 'AlertCategory',
    title: 'Alert category of an imaging report',
    status: 'active',
    description: 'The RCR / AoMRC alert category of an imaging report: CRITICAL, URGENT, CANCER, SIGNIFICANT or NONE.',
    fhirVersion: '4.0.1',
    kind: 'complex-type',
    abstract: false,
    context: [{ type: 'element', expression: 'DiagnosticReport' }],
    type: 'Extension',
    baseDefinition: 'http://hl7.org/fhir/StructureDefinition/Extension',
    derivation: 'constraint',
    differential: {
      element: [
        { id: 'Extension', path: 'Extension', short: 'Alert category', max: '1' },
        { id: 'Extension.extension', path: 'Extension.extension', max: '0' },
        { id: 'Extension.url', path: 'Extension.url', fixedUri: EXTENSIONS.alertCategory },
        { id: 'Extension.value[x]', path: 'Extension.value[x]', min: 1, type: [{ code: 'Coding' }] },
      ],
    },
  };
  return [...profiles, alertCategory];
}

const idOf = (url: string) => url.slice(url.lastIndexOf('/') + 1);
const nameOf = (url: string) =>
  idOf(url)
    .split('-')
    .map((w) => w.charAt(0).toUpperCase() + w.slice(1))
    .join('');
