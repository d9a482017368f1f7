import type { SearchParameter } from '@medplum/fhirtypes';
import { evalFhirPathTyped, getSearchParameterDetails, globalSchema, toTypedValue } from '@medplum/core';
import type { Resource } from '@medplum/fhirtypes';
import type { InstantRange } from './dates.ts';
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

interface TypedValue {
  type: string;
  value: unknown;
}

type AnyRecord = Record<string, unknown>;

export function searchParametersOf(resourceType: string): SearchParameter[] {
  const params = globalSchema.types[resourceType]?.searchParams ?? {};
  return Object.values(params).filter((p) => !SKIPPED.has(p.code));
}

/** `Type/id` from a relative or absolute literal reference, ignoring `_history`. */
export function normalizeReference(reference: string): { target: string; targetId: string } | undefined {
  const m = /(?:^|\/)([A-Z][A-Za-z]+)\/([A-Za-z0-9\-.]{1,64})(?:\/_history\/[^/]+)?$/.exec(reference);
  if (!m || reference.startsWith('urn:') || reference.startsWith('#')) return undefined;
  return { target: `${m[1]}/${m[2]}`, targetId: m[2] as string };
}

export function indexResource(resource: Resource): IndexRows {
  const rows: IndexRows = { tokens: [], references: [], dates: [], strings: [] };
  const typed = [toTypedValue(resource)];
  for (const param of searchParametersOf(resource.resourceType)) {
    const details = getSearchParameterDetails(resource.resourceType, param);
    let values: TypedValue[];
    try {
      values = evalFhirPathTyped(details.parsedExpression, typed) as TypedValue[];
    } catch {
      continue; // an expression that cannot apply to this resource contributes nothing
    }
    for (const v of values) addValue(rows, param, v);
  }
  return rows;
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
