import type { Atom } from '@medplum/core';
import {
  DotAtom,
  FhirPathAtom,
  FunctionAtom,
  getElementDefinition,
  IsAtom,
  isEmpty,
  removeDuplicates,
  SymbolAtom,
  UnionAtom,
} from '@medplum/core';

/**
 * A search parameter expression that is a union of plain navigations from the resource (`Task.status`,
 * `Organization.name | Organization.alias`, `Task.for.where(resolve() is Patient)`), walked over the JSON
 * directly instead of through Medplum's FHIRPath. Indexing evaluates every parameter of every resource it
 * writes, and FHIRPath's generic machinery (a schema lookup, a typed value and a path per property) was
 * most of the cost.
 *
 * The walk gives what `evalFhirPathTyped` gives, value for value and type for type, by doing what Medplum's
 * atoms do step by step (`SymbolAtom`, `getTypedPropertyValueWithSchema`, `UnionAtom`, `resolve()`, `is`).
 * Where Medplum would do something this walk does not copy (a primitive's `_p` extensions, a contained
 * resource behind a reference, a value that makes FHIRPath throw) it gives up, and the caller evaluates
 * the expression with FHIRPath instead: giving up is always safe.
 */
export type CompiledPath =
  | { kind: 'path'; resourceType: string; steps: Step[]; resolvesTo: string | undefined }
  | { kind: 'union'; left: CompiledPath; right: CompiledPath };

/** One property navigation: the property, and the type FHIRPath gives its values (fixed: no choice, no Resource). */
interface Step {
  name: string;
  extension: string;
  type: string;
}

export interface TypedValue {
  type: string;
  value: unknown;
}

/** A typed value with FHIRPath's location of it (`Task.identifier[1]`), which its union's equality compares. */
interface Located extends TypedValue {
  path?: string;
}

type AnyRecord = Record<string, unknown>;

/** Type names `fhirPathIs` treats specially rather than comparing with the value's type. */
const SPECIAL_TYPES = new Set(['Boolean', 'Decimal', 'Integer', 'Date', 'DateTime', 'Time', 'Period', 'Quantity']);

/** The compiled form of a parsed expression for this resource type; undefined when it is not plain navigation. */
export function compilePath(atom: Atom, resourceType: string): CompiledPath | undefined {
  if (atom instanceof FhirPathAtom) return compilePath(atom.child, resourceType);
  if (atom instanceof UnionAtom) {
    const left = compilePath(atom.left, resourceType);
    const right = left && compilePath(atom.right, resourceType);
    return right && { kind: 'union', left: left as CompiledPath, right };
  }
  const chain = compileChain(atom, resourceType);
  return chain && chain.steps.length > 0
    ? { kind: 'path', resourceType, steps: chain.steps, resolvesTo: chain.resolvesTo }
    : undefined;
}

interface Chain {
  steps: Step[];
  /** The type of the chain's values. */
  type: string;
  resolvesTo: string | undefined;
}

function compileChain(atom: Atom, resourceType: string): Chain | undefined {
  if (atom instanceof SymbolAtom) {
    return atom.name === resourceType ? { steps: [], type: resourceType, resolvesTo: undefined } : undefined;
  }
  if (!(atom instanceof DotAtom)) return undefined;
  const left = compileChain(atom.left, resourceType);
  if (!left || left.resolvesTo !== undefined) return undefined; // nothing after the where()
  if (atom.right instanceof SymbolAtom) {
    const step = compileStep(left.type, atom.right.name);
    return step && { steps: [...left.steps, step], type: step.type, resolvesTo: undefined };
  }
  const resolvesTo = resolvedTypeTest(atom.right);
  return resolvesTo && left.steps.length > 0 ? { ...left, resolvesTo } : undefined;
}

function compileStep(type: string, name: string): Step | undefined {
  // A name Object.prototype holds would be found by FHIRPath among its variables; a capital one might be a resource.
  if (!/^[a-z][A-Za-z0-9]*$/.test(name) || name in Object.prototype) return undefined;
  const element = getElementDefinition(type, name);
  if (element?.type?.length !== 1) return undefined;
  // Medplum reads the property its element's path names: a choice (`value[x]`) or a content reference is not ours.
  if (element.path.slice(element.path.lastIndexOf('.') + 1) !== name) return undefined;
  const code = (element.type[0] as { code: string }).code;
  if (code === 'Resource') return undefined; // typed by the value's own resourceType
  return { name, extension: `_${name}`, type: code };
}

/** `where(resolve() is T)` → T, for a resource type name T; undefined for any other function. */
function resolvedTypeTest(atom: Atom): string | undefined {
  if (!(atom instanceof FunctionAtom) || atom.name !== 'where' || atom.args.length !== 1) return undefined;
  const test = atom.args[0];
  if (!(test instanceof IsAtom)) return undefined;
  const { left, right } = test;
  if (!(left instanceof FunctionAtom) || left.name !== 'resolve' || left.args.length !== 0) return undefined;
  if (!(right instanceof SymbolAtom) || !/^[A-Z][A-Za-z]+$/.test(right.name) || SPECIAL_TYPES.has(right.name)) {
    return undefined;
  }
  return right.name;
}

/** Said when the walk meets something only FHIRPath handles. */
const GIVE_UP = Symbol('give up');

/**
 * The values of a compiled expression for a resource, given as `toTypedValue(resource)`, as `evalFhirPathTyped`
 * returns them; undefined when the walk gives up (evaluate with FHIRPath then). May throw where FHIRPath
 * throws on the same values.
 */
export function evaluateCompiled(path: CompiledPath, resource: TypedValue): TypedValue[] | undefined {
  const resourceType = (resource.value as { resourceType?: unknown }).resourceType;
  // FHIRPath types a resource by its shape first (one that looks like a Quantity is one); the walk by its resourceType.
  if (resource.type !== resourceType) return undefined;
  const root: Located = { type: resourceType, value: resource.value, path: resourceType };
  const values = evaluate(path, root, false);
  if (values === GIVE_UP) return undefined;
  // evalFhirPathTyped unwraps each value (a String object made from a primitive with extensions; null → undefined).
  return values.map(
    (v): TypedValue => ({ type: v.type, value: (v.value as { valueOf(): unknown } | null)?.valueOf() }),
  );
}

function evaluate(path: CompiledPath, root: Located, located: boolean): Located[] | typeof GIVE_UP {
  if (path.kind === 'union') {
    // A union drops values equal to an earlier one; for objects the equality compares locations too.
    const left = evaluate(path.left, root, true);
    if (left === GIVE_UP) return GIVE_UP;
    const right = evaluate(path.right, root, true);
    if (right === GIVE_UP) return GIVE_UP;
    return removeDuplicates([...left, ...right] as never) as Located[];
  }
  if ((root.value as AnyRecord).resourceType !== path.resourceType) return GIVE_UP; // FHIRPath finds nothing then
  let values: Located[] = [root];
  for (const step of path.steps) {
    const next = navigate(values, step, located);
    if (next === GIVE_UP) return GIVE_UP;
    values = next;
  }
  return path.resolvesTo === undefined ? values : whereResolvesTo(values, path.resolvesTo);
}

/** What `SymbolAtom` does for a property: each value's property, arrays flattened, empty values dropped. */
function navigate(values: Located[], step: Step, located: boolean): Located[] | typeof GIVE_UP {
  const out: Located[] = [];
  for (const from of values) {
    const node = from.value;
    if (!node || typeof node !== 'object') continue;
    const record = node as AnyRecord;
    if ('resourceType' in record && record.resourceType === step.name) return GIVE_UP; // FHIRPath would take it as a resource
    if (record[step.extension] !== undefined) return GIVE_UP; // a primitive's extensions: FHIRPath merges them in
    const value = record[step.name];
    if (isEmpty(value)) continue;
    const prefix = located ? `${from.path}.${step.name}` : undefined;
    if (Array.isArray(value)) {
      for (let i = 0; i < value.length; i++) {
        if (value[i] === undefined) continue;
        out.push(
          located
            ? { type: step.type, value: value[i], path: `${prefix}[${i}]` }
            : { type: step.type, value: value[i] },
        );
      }
    } else {
      out.push(located ? { type: step.type, value, path: prefix } : { type: step.type, value });
    }
  }
  return out;
}

/** `where(resolve() is T)`: the references whose literal (or logical, typed) target is of type T. */
function whereResolvesTo(values: Located[], type: string): Located[] | typeof GIVE_UP {
  const out: Located[] = [];
  for (const v of values) {
    const target = resolvedType(v.value);
    if (target === GIVE_UP) return GIVE_UP;
    if (target === type) out.push(v);
  }
  return out;
}

/** The type `resolve()` gives a value (Medplum's: no store read, the reference's first segment). */
function resolvedType(value: unknown): string | undefined | typeof GIVE_UP {
  let reference: unknown;
  if (typeof value === 'string') reference = value;
  else if (typeof value === 'object') {
    if (value === null) return GIVE_UP; // FHIRPath throws on it
    const ref = value as AnyRecord;
    if (ref.resource) return GIVE_UP; // typed by the contained resource itself
    if (ref.reference) reference = ref.reference;
    else if (ref.type && ref.identifier) {
      const identifier = ref.identifier as AnyRecord;
      reference = `${ref.type}?identifier=${identifier.system}|${identifier.value}`;
    }
  }
  if (reference === undefined) return undefined;
  if (typeof reference !== 'string') return GIVE_UP;
  if (reference.includes('?')) return reference.split('?')[0];
  if (reference.includes('/')) return reference.split('/')[0];
  return undefined;
}
