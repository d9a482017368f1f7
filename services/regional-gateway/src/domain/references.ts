import type { Identifier, OperationOutcomeIssue, Reference, Resource } from '@medplum/fhirtypes';
import {
  assertWellFormed,
  issue,
  OutcomeError,
  readIfPresent,
  searchOne,
  unprocessable,
  unprocessableIssues,
  validationFindings,
  token,
} from '@imaging/fhir';
import type { Caller, FhirStore, Problems, ValidationFindings, WithId } from '@imaging/fhir';
import { mapReferences } from '@imaging/messaging';
import { businessIdentifierIssues } from './identifiers.ts';
import { labelIssues, labelShapeIssues, unlabelled } from './labels.ts';
import type { GatewayDeps } from './ports.ts';
import { isVisible, readVisible } from './reads.ts';

/**
 * Turns the logical references a message carries (type + business identifier) into literal references
 * to this region's copies, where it has one. A reference it cannot resolve stays logical: still valid
 * FHIR, and still meaningful to a reader.
 */
export async function resolveLogicalReferences<T extends Resource>(store: FhirStore, resource: T): Promise<T> {
  const wanted: Reference[] = [];
  mapReferences(resource, (ref) => {
    if (!ref.reference && ref.type && ref.identifier?.system && ref.identifier.value && ref.type !== 'Organization')
      wanted.push(ref);
    return ref;
  });
  const resolved = new Map<string, string>();
  for (const ref of wanted) {
    const key = keyOf(ref);
    if (resolved.has(key)) continue;
    const found = await searchOne(store, ref.type as Resource['resourceType'], {
      identifier: token(ref.identifier?.system ?? '', ref.identifier?.value ?? ''),
    });
    if (found) resolved.set(key, `${found.resourceType}/${found.id}`);
  }
  if (resolved.size === 0) return resource;
  return mapReferences(resource, (ref) => {
    const literal = !ref.reference ? resolved.get(keyOf(ref)) : undefined;
    return literal ? { ...ref, reference: literal } : ref;
  });
}

function keyOf(ref: Reference): string {
  return `${ref.type}|${ref.identifier?.system}|${ref.identifier?.value}`;
}

/**
 * For building a message: reads each resource a resource refers to and returns a lookup from its
 * `Type/id` to its business identifier (what the other region will know it by).
 */
export async function identifierLookup(
  store: FhirStore,
  resources: Resource[],
  identifierOf: (r: Resource) => Identifier | undefined,
): Promise<(reference: string) => Identifier | undefined> {
  const literals = new Set<string>();
  for (const resource of resources) {
    mapReferences(resource, (ref) => {
      if (ref.reference && localTarget(ref.reference)) literals.add(ref.reference);
      return ref;
    });
  }
  const found = new Map<string, Identifier>();
  for (const literal of literals) {
    const { type, id } = localTarget(literal) as LocalTarget;
    try {
      const identifier = identifierOf(await store.read(type, id));
      if (identifier) found.set(literal, identifier);
    } catch {
      // A reference to something gone is left out of the message rather than failing it.
    }
  }
  return (reference) => found.get(reference);
}

interface LocalTarget {
  type: Resource['resourceType'];
  id: string;
}

/**
 * The resource a literal reference (`Type/id`, or a version of it) names, when it is one of `types` held in
 * this region's store; undefined for anything else: another type, a logical or `urn:uuid` reference, none held.
 */
export async function readLocal<T extends Resource>(
  store: FhirStore,
  reference: string | undefined,
  types: readonly T['resourceType'][],
): Promise<WithId<T> | undefined> {
  const target = reference ? localTarget(reference) : undefined;
  if (!target || !types.includes(target.type as T['resourceType'])) return undefined;
  return readIfPresent<T>(store, target.type as T['resourceType'], target.id);
}

/** `Type/id` or `Type/id/_history/vid`: a resource in this region's store. */
function localTarget(reference: string): LocalTarget | undefined {
  const m = /^([A-Z][A-Za-z]+)\/([A-Za-z0-9\-.]{1,64})(?:\/_history\/[A-Za-z0-9\-.]{1,64})?$/.exec(reference);
  return m ? { type: m[1] as Resource['resourceType'], id: m[2] as string } : undefined;
}

/** Each literal reference in a resource, with the FHIRPath of the element that holds it. */
export function literalReferences(resource: Resource): { reference: string; expression: string }[] {
  const found: { reference: string; expression: string }[] = [];
  const walk = (node: unknown, path: string): void => {
    if (Array.isArray(node)) {
      node.forEach((item, i) => {
        walk(item, `${path}[${i}]`);
      });
    } else if (node && typeof node === 'object') {
      for (const [key, value] of Object.entries(node)) {
        if (key === 'reference' && typeof value === 'string') found.push({ reference: value, expression: path });
        else walk(value, `${path}.${key}`);
      }
    }
  };
  walk(resource, resource.resourceType);
  return found;
}

/**
 * What every client write goes through before anything is decided on it, so a write can neither label
 * a resource nor reach one the caller may not read:
 * - without its labels, it must be well-formed R4 (400), so the rules below and the domain after can
 *   rely on JSON types;
 * - labels in the server's systems are refused (an update may send back, unchanged, those it read), and
 *   other security labels are dropped;
 * - every literal reference must be to a resource here that the caller may read, by the very rule a
 *   read applies; one that is missing or hidden is refused alike, so a write discloses nothing a read
 *   would not. `#id` points inside the resource itself.
 * One issue per problem, at its element. Returns the resource without client labels.
 */
export async function admitClientResource<T extends Resource>(
  deps: GatewayDeps,
  caller: Caller,
  resource: T,
  stored?: Resource,
): Promise<T> {
  const { admitted, issues } = await admission(deps, caller, resource, stored);
  if (issues.length > 0) throw new OutcomeError(unprocessableIssues(issues));
  return admitted;
}

/**
 * What `admitClientResource` decides, without throwing: the resource without client labels, and the
 * problems it found, for a write that reports them with its other problems in one response.
 */
export async function admission<T extends Resource>(
  deps: GatewayDeps,
  caller: Caller,
  resource: T,
  stored?: Resource,
): Promise<{ admitted: T; issues: OperationOutcomeIssue[] }> {
  const issues: OperationOutcomeIssue[] = labelIssues(resource, stored);
  const bare = unlabelled(resource);
  // Before anything reads it (labels, in any shape, are dropped above): from here on every element has
  // its R4 JSON type.
  assertWellFormed(bare);
  const readable = new Map<string, boolean>();
  for (const { reference, expression } of literalReferences(bare)) {
    if (reference.startsWith('#')) continue;
    const target = localTarget(reference);
    if (!target) {
      issues.push(
        issue({
          code: 'business-rule',
          text: `'${reference}' is not a reference to a resource in this region (expected Type/id)`,
          expression,
        }),
      );
      continue;
    }
    const key = `${target.type}/${target.id}`;
    const ok = readable.get(key) ?? (await canRead(deps, caller, target));
    readable.set(key, ok);
    if (!ok)
      issues.push(issue({ code: 'business-rule', text: `${key} is not a resource you may read here`, expression }));
  }
  return { admitted: bare, issues };
}

/**
 * The start of every client write's checks: the admission's problems go into `problems`, with the
 * resource's base R4 structure and any second identifier in a business system, or one holding search syntax
 * (`businessIdentifierIssues`);
 * a malformed resource is refused (400) at once, as the checks after this assume well-formed R4. Returns the
 * admitted resource and its validation findings, for the profile's problems to be reported with the write's own.
 */
export async function admitWellFormed<T extends Resource>(
  deps: GatewayDeps,
  caller: Caller,
  resource: T,
  problems: Problems,
  stored?: Resource,
): Promise<{ admitted: T; findings: ValidationFindings }> {
  const { admitted, issues } = await admission(deps, caller, resource, stored);
  problems.add(...issues);
  // One identifier per business system: what the write's checks look at is all the store will match on.
  problems.add(...businessIdentifierIssues(admitted));
  const findings = validationFindings(admitted);
  const admissionStructure = [...labelShapeIssues(resource), ...updateTargetIssues(resource, stored)];
  problems.addFindings({ structure: [...findings.structure, ...admissionStructure], rules: [] });
  if (problems.hasStructureErrors) problems.throwIfAny();
  return { admitted, findings };
}

/**
 * An update's body names the resource the URL names (FHIR R4 http.html#update: a missing or another id is a
 * 400, as HAPI FHIR answers too).
 */
function updateTargetIssues(body: Resource, stored: Resource | undefined): OperationOutcomeIssue[] {
  if (!stored || body.id === stored.id) return [];
  const text =
    body.id === undefined
      ? `The body has no id: an update names ${stored.resourceType}/${stored.id} in its body too`
      : `The body is ${body.resourceType}/${body.id}, not ${stored.resourceType}/${stored.id}`;
  return [
    issue({ code: body.id === undefined ? 'required' : 'invalid', text, expression: `${stored.resourceType}.id` }),
  ];
}

async function canRead(deps: GatewayDeps, caller: Caller, { type, id }: LocalTarget): Promise<boolean> {
  try {
    await readVisible(deps, caller, type, id);
    return true;
  } catch (err) {
    if (err instanceof OutcomeError && err.status < 500) return false;
    throw err;
  }
}

/**
 * Business identifiers that are not namespaced by the caller's organisation (a Study Instance UID, an
 * endpoint's own identifier) could name another organisation's record; a conditional create would then
 * hand that record over. Such a write is refused instead, before anything is stored.
 */
export async function assertOwnIdentifier(
  deps: GatewayDeps,
  caller: Caller,
  resource: Resource & { identifier?: Identifier[] },
  identifier: Identifier,
): Promise<void> {
  const existing = await searchOne(deps.store, resource.resourceType, {
    identifier: token(identifier.system ?? '', identifier.value ?? ''),
  });
  if (existing && !isVisible(caller, existing)) {
    const index = resource.identifier?.findIndex((i) => i.system === identifier.system && i.value === identifier.value);
    throw new OutcomeError(
      unprocessable(
        `${identifier.system}|${identifier.value} identifies another organisation's ${resource.resourceType}`,
        `${resource.resourceType}.identifier[${index ?? 0}]`,
      ),
    );
  }
}
