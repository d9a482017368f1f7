import type { Bundle, BundleEntry, OperationOutcomeIssue, Resource } from '@medplum/fhirtypes';
import {
  createConstraintIssue,
  evalFhirPathTyped,
  parseFhirPath,
  toTypedValue,
  tryGetDataType,
  validateResource,
} from '@medplum/core';
import type { FhirPathAtom, InternalTypeSchema, TypedValue } from '@medplum/core';
import { loadFhirDefinitionsFor, resourceTypesIn } from '../definitions.ts';
import { issue } from '../outcomes.ts';
import type { BoundValues } from './required-bindings.ts';
import { requiredBindingIssues } from './required-bindings.ts';

const ID = /^[A-Za-z0-9\-.]{1,64}$/;

/** An R4 `id`: 1 to 64 letters, digits, `-` or `.`. */
export function isFhirId(value: unknown): value is string {
  return typeof value === 'string' && ID.test(value);
}

/** The problem with a resource's id at `expression`, if it has one that is not a FHIR id. */
function idIssues(id: unknown, expression: string): OperationOutcomeIssue[] {
  if (id === undefined || isFhirId(id)) return [];
  return [
    issue({ code: 'structure', text: `'${String(id)}' is not a valid id (1–64 of A-Z a-z 0-9 - .)`, expression }),
  ];
}

export interface BaseFindings {
  /** Base R4 structure: unknown or missing elements, wrong JSON types, invariants, ill-formed ids. */
  structure: OperationOutcomeIssue[];
  /** Values outside a required R4 binding. */
  codes: OperationOutcomeIssue[];
  /** References to a resource type the element does not allow (Medplum only warns; HAPI rejects them). */
  references: OperationOutcomeIssue[];
}

/**
 * The findings of the last few resources validated, by their content. The same content is often
 * checked twice in a row: a client's resource is checked for its structure before anything reads it
 * and then in full, and a received message is parsed and then stored as its own receipt. Findings
 * depend on the content alone, so the second check costs a `JSON.stringify` instead of a validation.
 */
const recent = new Map<string, BaseFindings>();
const RECENT = 256;

/** Base R4 validation with Medplum's validator, plus the checks it leaves out (required bindings, `id` format). */
export function baseFindings(resource: unknown): BaseFindings {
  const key = JSON.stringify(resource);
  if (key === undefined) return uncachedBaseFindings(resource);
  let findings = recent.get(key);
  if (!findings) {
    findings = uncachedBaseFindings(resource);
    recent.set(key, findings);
    if (recent.size > RECENT) recent.delete(recent.keys().next().value as string);
  }
  // A copy: callers may change the issues they are given.
  return structuredClone(findings);
}

/**
 * The base findings of `changed`, which is `validated` but for its top-level element `element`, set by the
 * caller to a value it built and knows to be valid R4 there (a literal reference to a resource of its own
 * store, say). Medplum's validator and our own checks find an element's problems within the element, so
 * those of `validated` outside it carry over, and there are none within it. Only the type's own invariants
 * read the whole resource: they are evaluated again, on `changed`. `validated`'s findings are usually
 * still remembered, so this costs a `JSON.stringify` and a few invariants instead of a validation.
 * Where that reasoning does not hold (a Bundle, whose entries' findings depend on one another, or a name
 * that is not one of the type's elements), `changed` is validated in full.
 */
export function baseFindingsWithBuiltElement(validated: Resource, changed: Resource, element: string): BaseFindings {
  const type = changed.resourceType;
  const elements = tryGetDataType(type)?.elements ?? {};
  if (type !== validated.resourceType || type === 'Bundle' || !Object.hasOwn(elements, element))
    return baseFindings(changed);
  const before = baseFindings(validated);
  const at = `${type}.${element}`;
  const outside = (i: OperationOutcomeIssue) =>
    !i.expression?.some((e) => e === at || e.startsWith(`${at}.`) || e.startsWith(`${at}[`));
  const isOwnInvariant = (i: OperationOutcomeIssue) =>
    i.code === 'invariant' && i.expression?.length === 1 && i.expression[0] === type;
  return {
    structure: [
      ...before.structure.filter((i) => outside(i) && !isOwnInvariant(i)),
      ...ownInvariantIssues(changed, type),
    ],
    codes: before.codes.filter(outside),
    references: before.references.filter(outside),
  };
}

function uncachedBaseFindings(resource: unknown): BaseFindings {
  if (
    !resource ||
    typeof resource !== 'object' ||
    Array.isArray(resource) ||
    typeof (resource as Resource).resourceType !== 'string'
  ) {
    return {
      structure: [
        issue({
          code: 'structure',
          text: 'Expected a FHIR resource: a JSON object with a resourceType',
          expression: 'resourceType',
        }),
      ],
      codes: [],
      references: [],
    };
  }
  loadFhirDefinitionsFor(resourceTypesIn(resource));
  const r = resource as Resource;
  const structure: OperationOutcomeIssue[] = [];
  const bound: BoundValues = {};
  try {
    structure.push(...validateResource(r, { collect: { tokens: bound } }));
  } catch (err) {
    const outcome = (err as { outcome?: { issue?: OperationOutcomeIssue[] } }).outcome;
    if (!outcome?.issue) throw err;
    structure.push(
      ...outcome.issue.map((i) =>
        i.expression?.length
          ? i
          : { ...i, expression: [i.details?.text === 'Invalid resource type' ? 'resourceType' : r.resourceType] },
      ),
    );
  }
  const reported = new Set(structure.flatMap((i) => i.expression ?? []));
  structure.push(...shapeIssues(r).filter((i) => !i.expression?.some((e) => reported.has(e))));
  structure.push(...idIssues(r.id, `${r.resourceType}.id`));
  structure.push(...carriedResourceIssues(r, 'Bundle'));
  // Medplum cannot tell the type behind a `urn:uuid:` reference, and says so in a warning. Our own
  // rules resolve those against the transaction's entries; inside a Bundle they point at its own
  // entries, whose types it tells (urnReferenceIssue). Other than those, only literal `Type/id`
  // mismatches count.
  const urnTypes = urnTypesOf(entriesOf(r));
  const isUrnWarning = (i: OperationOutcomeIssue) => !!i.details?.text?.includes('got "urn:uuid:');
  const isReferenceWarning = (i: OperationOutcomeIssue) =>
    i.severity === 'warning' && !!i.details?.text?.startsWith('Invalid reference') && !isUrnWarning(i);
  const asError = (i: OperationOutcomeIssue) => ({ ...i, severity: 'error' as const, code: 'business-rule' as const });
  return {
    structure: structure.filter((i) => !isReferenceWarning(i) && !(i.severity === 'warning' && isUrnWarning(i))),
    codes: requiredBindingIssues(bound),
    references: [
      ...structure.filter(isReferenceWarning).map(asError),
      ...structure.flatMap((i) => {
        const wrong = i.severity === 'warning' && isUrnWarning(i) ? urnReferenceIssue(i, urnTypes) : undefined;
        return wrong ? [asError(wrong)] : [];
      }),
    ],
  };
}

/**
 * What Medplum's validator checks of a resource validated alone but not of one a Bundle carries, so that
 * a Bundle's findings cover each resource it carries as if that were validated alone (a receiver that has
 * validated a message in full stores what it builds from the carried resources without validating them
 * again): the invariants of the carried resource's own type (prr-1 of a ServiceRequest, inv-1 of a Task),
 * which Medplum checks only at the root of what it validates, and our check of its id. Only a Bundle
 * carries resources: anything else gives none.
 */
function carriedResourceIssues(container: Resource, path: string): OperationOutcomeIssue[] {
  return entriesOf(container).flatMap((entry, i) => {
    const resource = (entry as { resource?: unknown } | null)?.resource as Resource | undefined;
    if (!resource || typeof resource !== 'object' || typeof resource.resourceType !== 'string') return [];
    const at = `${path}.entry[${i}].resource`;
    const issues = ownInvariantIssues(resource, at);
    issues.push(...idIssues(resource.id, `${at}.id`));
    issues.push(...carriedResourceIssues(resource, at));
    return issues;
  });
}

/** The invariants Medplum's validator does not check (its `skippedConstraintKeys`). */
const UNCHECKED_INVARIANTS: ReadonlySet<string> = new Set(['ele-1', 'dom-3', 'org-1', 'sdf-19']);
const UCUM: TypedValue = toTypedValue('http://unitsofmeasure.org');
const parsedInvariants = new Map<string, FhirPathAtom>();

/** The first invariant of the resource's own type it breaks, as Medplum's validator finds it at the root. */
function ownInvariantIssues(resource: Resource, path: string): OperationOutcomeIssue[] {
  const value = toTypedValue(resource);
  const variables = { '%context': value, '%resource': value, '%rootResource': value, '%ucum': UCUM };
  for (const invariant of tryGetDataType(resource.resourceType)?.constraints ?? []) {
    if (invariant.severity !== 'error' || UNCHECKED_INVARIANTS.has(invariant.key)) continue;
    let expression = parsedInvariants.get(invariant.expression);
    if (!expression) {
      expression = parseFhirPath(invariant.expression);
      parsedInvariants.set(invariant.expression, expression);
    }
    let met = false;
    try {
      const result = evalFhirPathTyped(expression, [value], variables);
      met = result.length === 1 && result[0]?.value === true;
    } catch {
      // As Medplum does: an invariant that cannot be evaluated on this content is not met.
    }
    if (!met) return [createConstraintIssue(path, invariant)];
  }
  return [];
}

/** A Bundle's entries as given, none for anything else (or an `entry` that is not an array). */
function entriesOf(resource: Resource): readonly unknown[] {
  const entry = resource.resourceType === 'Bundle' ? (resource as Bundle).entry : undefined;
  return Array.isArray(entry) ? entry : [];
}

/**
 * The resource type of each entry with a `urn:uuid:` full URL, for checking references to entries. The
 * entries may not have been validated yet: anything that is not an entry with a typed resource is skipped.
 */
export function urnTypesOf(entries: readonly unknown[]): Map<string, string> {
  const types = new Map<string, string>();
  for (const entry of entries as readonly (BundleEntry | null | undefined)[]) {
    const type = (entry?.resource as { resourceType?: unknown } | undefined)?.resourceType;
    if (typeof entry?.fullUrl === 'string' && entry.fullUrl.startsWith('urn:uuid:') && typeof type === 'string')
      types.set(entry.fullUrl, type);
  }
  return types;
}

const URN_WARNING = /^Invalid reference: got "(urn:uuid:[^"]*)", expected "(.*)"$/;

/**
 * Medplum's warning about a `urn:uuid:` reference to an entry of the Bundle, checked as a literal reference
 * to that entry's type would be: the problem when the element may not point at that type, else undefined.
 * A copy stored from the entry holds a literal reference in its place (the store resolves the urn).
 */
function urnReferenceIssue(
  warning: OperationOutcomeIssue,
  urnTypes: ReadonlyMap<string, string>,
): OperationOutcomeIssue | undefined {
  const [, urn, expected] = URN_WARNING.exec(warning.details?.text ?? '') ?? [];
  const type = urn ? urnTypes.get(urn) : undefined;
  if (!type || !expected) return undefined;
  const allowed = expected.split('", "');
  if (allowed.includes(`http://hl7.org/fhir/StructureDefinition/${type}`)) return undefined;
  return { ...warning, details: { text: `Invalid reference: got "${type}" (${urn}), expected "${expected}"` } };
}

/**
 * Names every JavaScript object inherits (`constructor`, `toString`, `__proto__`…). No FHIR element has
 * one, but a validator that looks element definitions up by name in a plain object finds them all
 * "defined", and Medplum's lets them through.
 */
const INHERITED_NAMES: ReadonlySet<string> = new Set(Object.getOwnPropertyNames(Object.prototype));

/**
 * Text every store can keep: no NUL (PostgreSQL, under HAPI in production, cannot store one; Medplum
 * checks only the elements it knows to be strings) and no lone surrogate (not Unicode, so valid in
 * neither FHIR's JSON nor its XML; Medplum lets one through).
 */
export function isStorableText(text: string): boolean {
  return !text.includes('\u0000') && text.isWellFormed();
}

/**
 * What Medplum's validator lets through and code reading a resource trips on: an element named after an
 * inherited property, a number or boolean where R4 has an object (`"owner": 7`, `"performer": [true]`),
 * and text no store can keep.
 * Types come from Medplum's own schema; a loop, not recursion, as the JSON may nest as deep as the body
 * limit allows.
 */
function shapeIssues(resource: Resource): OperationOutcomeIssue[] {
  const issues: OperationOutcomeIssue[] = [];
  const pending: [unknown, string | undefined, string][] = [[resource, resource.resourceType, resource.resourceType]];
  for (let next = pending.pop(); next; next = pending.pop()) {
    const [value, type, path] = next;
    if (!value || typeof value !== 'object' || Array.isArray(value)) continue;
    const schema = type ? tryGetDataType(type) : undefined;
    for (const [key, child] of Object.entries(value)) {
      if (INHERITED_NAMES.has(key)) {
        issues.push(
          issue({ code: 'structure', text: `'${key}' is not an element of ${path}`, expression: `${path}.${key}` }),
        );
        continue;
      }
      const childType = schema && key !== 'resourceType' ? complexTypeOf(schema, key) : undefined;
      const items = Array.isArray(child) ? child : [child];
      items.forEach((item, i) => {
        const at = Array.isArray(child) ? `${path}.${key}[${i}]` : `${path}.${key}`;
        if (typeof item === 'string' && !isStorableText(item))
          issues.push(
            issue({ code: 'structure', text: 'Text with a NUL character or a lone surrogate', expression: at }),
          );
        else if (childType && item !== null && item !== undefined && typeof item !== 'object')
          issues.push(
            issue({ code: 'structure', text: `Expected ${childType}, not a ${typeof item}`, expression: at }),
          );
        else {
          const resourceType = (item as { resourceType?: unknown } | null)?.resourceType;
          pending.push([
            item,
            childType === 'Resource' && typeof resourceType === 'string' ? resourceType : childType,
            at,
          ]);
        }
      });
    }
  }
  return issues;
}

/** The complex type (`Reference`, `TaskOutput`, `Resource`) of an element of `schema`, or undefined for a primitive or unknown one. */
function complexTypeOf(schema: InternalTypeSchema, key: string): string | undefined {
  const direct = Object.hasOwn(schema.elements, key) ? schema.elements[key] : undefined;
  const codes = direct
    ? direct.type.map((t) => t.code)
    : Object.entries(schema.elements)
        .filter(([name]) => name.endsWith('[x]') && key.startsWith(name.slice(0, -3)))
        .flatMap(([name, element]) => {
          const suffix = key.slice(name.length - 3);
          return element.type.map((t) => t.code).filter((c) => c.charAt(0).toUpperCase() + c.slice(1) === suffix);
        });
  const [code] = codes;
  return codes.length === 1 && code && /^[A-Z]/.test(code) ? code : undefined;
}
