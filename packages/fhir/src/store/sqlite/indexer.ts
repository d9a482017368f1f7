import type { Atom } from '@medplum/core';
import {
  AsAtom,
  DotAtom,
  evalFhirPathTyped,
  FhirPathAtom,
  FunctionAtom,
  globalSchema,
  IndexerAtom,
  SymbolAtom,
  toTypedValue,
  UnionAtom,
} from '@medplum/core';
import type { Resource, SearchParameter } from '@medplum/fhirtypes';
import { loadedFhirDefinitions } from '../../definitions.ts';
import type { CompiledPath, TypedValue } from './compiled-path.ts';
import { compilePath, evaluateCompiled } from './compiled-path.ts';
import { expressionForResourceType } from './parsed-expression.ts';
import type { InstantRange } from './dates.ts';
import type { IndexPolicy } from './index-policy.ts';
import { dateRange, periodRange } from './dates.ts';

/** The rows one resource contributes to the search indexes. */
export interface IndexRows {
  tokens: { param: string; system: string; code: string }[];
  references: { param: string; target: string; targetId: string }[];
  dates: { param: string; lo: string; hi: string }[];
  strings: { param: string; value: string }[];
}

/** Search parameters that belong to Medplum's own server, not to FHIR R4. */
const SKIPPED = new Set(['_compartment', '_project']);

type AnyRecord = Record<string, unknown>;

/** A search parameter of a resource type, with its expression as Medplum parsed it for that type. */
interface IndexedParameter {
  param: SearchParameter;
  expression: FhirPathAtom;
  /**
   * The property paths the expression starts from (`Task.for.where(resolve() is Patient)` → [['for']]), when
   * it gives nothing unless the resource holds one of them; undefined when it might give values anyway.
   */
  paths: string[][] | undefined;
  /** The expression as a walk over the JSON, when it is plain navigation (compiled-path.ts). */
  compiled: CompiledPath | undefined;
}

/** Per resource type, built once for the definitions loaded (all of R4 may replace the subset). */
const parametersByType = new Map<string, { loaded: string; params: SearchParameter[]; indexed?: IndexedParameter[] }>();

function parametersOf(resourceType: string) {
  const loaded = loadedFhirDefinitions();
  let entry = parametersByType.get(resourceType);
  if (entry?.loaded !== loaded) {
    const params = Object.values(globalSchema.types[resourceType]?.searchParams ?? {}).filter(
      (p) => !SKIPPED.has(p.code),
    );
    entry = { loaded, params };
    parametersByType.set(resourceType, entry);
  }
  return entry;
}

export function searchParametersOf(resourceType: string): SearchParameter[] {
  return parametersOf(resourceType).params;
}

function indexedParametersOf(resourceType: string): IndexedParameter[] {
  const entry = parametersOf(resourceType);
  // `_id` is answered by the resource table (query.ts), never by index rows.
  entry.indexed ??= entry.params
    .filter((param) => param.code !== '_id')
    .map((param) => {
      const expression = expressionForResourceType(resourceType, param);
      return {
        param,
        expression,
        paths: pathsOf(expression, resourceType),
        compiled: compilePath(expression, resourceType),
      };
    });
  return entry.indexed;
}

/** `Type/id` from a relative or absolute literal reference, ignoring `_history`. */
export function normalizeReference(reference: string): { target: string; targetId: string } | undefined {
  const m = /(?:^|\/)([A-Z][A-Za-z]+)\/([A-Za-z0-9\-.]{1,64})(?:\/_history\/[^/]+)?$/.exec(reference);
  if (!m || reference.startsWith('urn:') || reference.startsWith('#')) return undefined;
  return { target: `${m[1]}/${m[2]}`, targetId: m[2] as string };
}

/**
 * The index rows of a resource: every search parameter of its type that `policy` indexes, except `_id`
 * and those that certainly find
 * nothing in this resource. Most parameters of a type find nothing in a given resource (a Task has no
 * encounter, no performer…), and telling so from its properties is cheap where evaluating is not. An
 * expression that is plain navigation is walked over the JSON (compiled-path.ts); any other is evaluated
 * with Medplum's FHIRPath.
 */
export function indexResource(resource: Resource, policy: IndexPolicy = {}): IndexRows {
  return indexWith(resource, true, policy);
}

/** The same rows, every parameter's expression evaluated with FHIRPath: what indexResource must agree with (its tests). */
export function indexResourceEvaluatingAll(resource: Resource, policy: IndexPolicy = {}): IndexRows {
  return indexWith(resource, false, policy);
}

function indexWith(resource: Resource, fast: boolean, policy: IndexPolicy): IndexRows {
  const rows: IndexRows = { tokens: [], references: [], dates: [], strings: [] };
  const typed = [toTypedValue(resource)];
  const listed = policy[resource.resourceType];
  for (const { param, expression, paths, compiled } of indexedParametersOf(resource.resourceType)) {
    if (listed && !listed.includes(param.code)) continue;
    if (fast && paths && !paths.some((path) => mayHold(resource, path))) continue;
    let values: TypedValue[];
    try {
      values =
        (fast && compiled && evaluateCompiled(compiled, typed[0] as TypedValue)) ||
        (evalFhirPathTyped(expression, typed) as TypedValue[]);
    } catch {
      continue; // an expression that cannot apply to this resource contributes nothing
    }
    for (const v of values) addValue(rows, param, v);
  }
  return rows;
}

/** FHIRPath functions that give nothing for nothing, whatever their arguments. */
const EMPTY_FOR_EMPTY = new Set(['where', 'ofType', 'as', 'resolve', 'first', 'last']);

/**
 * The property paths an expression starts from, when it is a union of navigations from the resource
 * (`Type.a.b`, then any of EMPTY_FOR_EMPTY, indexers and `as`): then it gives nothing unless the resource
 * holds the first property of a path. Undefined for anything else (`exists()`, `and`, a constant…).
 */
function pathsOf(atom: Atom, resourceType: string): string[][] | undefined {
  if (atom instanceof FhirPathAtom) return pathsOf(atom.child, resourceType);
  if (atom instanceof UnionAtom) {
    const left = pathsOf(atom.left, resourceType);
    const right = pathsOf(atom.right, resourceType);
    return left && right ? [...left, ...right] : undefined;
  }
  const chain = navigation(atom, resourceType);
  return chain && chain.path.length > 0 ? [chain.path] : undefined;
}

/** The leading properties of a navigation from the resource; `open` while nothing but properties came yet. */
function navigation(atom: Atom, resourceType: string): { path: string[]; open: boolean } | undefined {
  if (atom instanceof SymbolAtom) return atom.name === resourceType ? { path: [], open: true } : undefined;
  if (atom instanceof DotAtom) {
    const left = navigation(atom.left, resourceType);
    if (!left) return undefined;
    if (atom.right instanceof SymbolAtom)
      return left.open ? { path: [...left.path, atom.right.name], open: true } : left;
    if (atom.right instanceof FunctionAtom && EMPTY_FOR_EMPTY.has(atom.right.name)) return { ...left, open: false };
    return undefined;
  }
  if (atom instanceof IndexerAtom || atom instanceof AsAtom) {
    const left = navigation(atom.left, resourceType);
    return left && { ...left, open: false };
  }
  return undefined;
}

/**
 * False when the resource certainly lacks this path. A property `p` is held under `p`, `_p` (a primitive's
 * extensions) or `pType` (a choice); any key that starts so counts, and an array is not looked into.
 */
function mayHold(resource: unknown, path: string[]): boolean {
  let node = resource;
  for (const name of path) {
    if (node === null || typeof node !== 'object' || Array.isArray(node)) return true;
    let matches = 0;
    for (const key of Object.keys(node)) {
      if (key.startsWith(name) || key.startsWith(`_${name}`)) matches += key === name ? 1 : 2;
    }
    if (matches === 0) return false;
    if (matches > 1) return true;
    node = (node as AnyRecord)[name];
  }
  return true;
}

function addValue(rows: IndexRows, param: SearchParameter, v: TypedValue): void {
  const code = param.code;
  switch (param.type) {
    case 'token':
      for (const [system, value] of tokenValues(v)) rows.tokens.push({ param: code, system, code: value });
      break;
    case 'uri':
      if (typeof v.value === 'string') rows.tokens.push({ param: code, system: '', code: v.value });
      break;
    case 'reference':
      for (const target of referenceValues(v)) rows.references.push({ param: code, ...target });
      break;
    case 'date': {
      const range = dateValue(v);
      if (range) rows.dates.push({ param: code, ...range });
      break;
    }
    case 'string':
      for (const s of stringValues(v)) rows.strings.push({ param: code, value: s });
      break;
    default:
      break; // number, quantity, composite and special are not indexed (searches on them get a 400)
  }
}

function tokenValues(v: TypedValue): [string, string][] {
  const value = v.value as AnyRecord | string | boolean | number | undefined;
  if (value === undefined || value === null) return [];
  if (typeof value !== 'object') return [['', String(value)]];
  switch (v.type) {
    case 'Identifier':
      return typeof value.value === 'string' ? [[str(value.system), value.value]] : [];
    case 'CodeableConcept':
      return ((value.coding as AnyRecord[] | undefined) ?? []).flatMap((c) =>
        typeof c.code === 'string' ? [[str(c.system), c.code] as [string, string]] : [],
      );
    case 'Coding':
      return typeof value.code === 'string' ? [[str(value.system), value.code]] : [];
    case 'ContactPoint':
      return typeof value.value === 'string' ? [[str(value.system), value.value]] : [];
    default:
      return [];
  }
}

function referenceValues(v: TypedValue): { target: string; targetId: string }[] {
  const value = v.value as AnyRecord | string | undefined;
  if (!value) return [];
  if (typeof value === 'string') return [{ target: value, targetId: value }]; // canonical or uri
  const out: { target: string; targetId: string }[] = [];
  if (typeof value.reference === 'string') {
    const ref = normalizeReference(value.reference);
    if (ref) out.push(ref);
  }
  const identifier = value.identifier as AnyRecord | undefined;
  if (identifier && typeof identifier.value === 'string') {
    out.push({ target: identifierTarget(str(identifier.system), identifier.value), targetId: '' });
  }
  return out;
}

/** How a logical (identifier-only) reference is indexed, for the `:identifier` modifier. */
export function identifierTarget(system: string, value: string): string {
  return `identifier:${system}|${value}`;
}

function dateValue(v: TypedValue): InstantRange | undefined {
  const value = v.value as AnyRecord | string | undefined;
  if (!value) return undefined;
  if (typeof value === 'string') return dateRange(value);
  if (v.type === 'Period') return periodRange(value.start as string | undefined, value.end as string | undefined);
  return undefined;
}

function stringValues(v: TypedValue): string[] {
  const value = v.value as AnyRecord | string | undefined;
  if (!value) return [];
  if (typeof value === 'string') return [value];
  const parts: string[] = [];
  for (const key of [
    'text',
    'family',
    'given',
    'prefix',
    'suffix',
    'line',
    'city',
    'district',
    'state',
    'postalCode',
    'country',
  ]) {
    const part = value[key];
    if (typeof part === 'string') parts.push(part);
    else if (Array.isArray(part)) parts.push(...part.filter((p): p is string => typeof p === 'string'));
  }
  return parts;
}

function str(value: unknown): string {
  return typeof value === 'string' ? value : '';
}
