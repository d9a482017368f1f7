import type { ResourceType } from '@medplum/fhirtypes';
import { getSearchParameter } from '@medplum/core';
import { loadFhirDefinitions } from '../definitions.ts';
import { hasIdentifierParam } from '../store/http/reference-identifiers.ts';

/**
 * A declarative allow-list of searches: per resource type, the parameters a server answers and, per
 * parameter, the modifiers and prefixes it accepts, and the `_include`s with the types they bring in.
 * `checkSearch` refuses anything else; `searchCapability` declares exactly this in a CapabilityStatement.
 * One list drives both, so what a server says it does and what it does cannot drift apart.
 */

export type SearchParamType = 'token' | 'reference' | 'date' | 'string' | 'uri';

/**
 * Modifiers both stores (the embedded one and HAPI FHIR) implement the same way, by parameter type.
 * Not `:missing`: HAPI JPA answers it only with missing-field indexing switched on, which it is not by default.
 */
export const MODIFIERS_BY_TYPE = {
  token: ['not'],
  reference: ['identifier'],
  date: [],
  string: ['exact', 'contains'],
  uri: [],
} as const satisfies Record<SearchParamType, readonly string[]>;

export type SearchModifier = (typeof MODIFIERS_BY_TYPE)[SearchParamType][number];

export const DATE_PREFIXES = ['eq', 'ne', 'gt', 'lt', 'ge', 'le', 'sa', 'eb', 'ap'] as const;
export type DatePrefix = (typeof DATE_PREFIXES)[number];

export interface ParamRule {
  type: SearchParamType;
  /** Modifiers accepted besides none (`identifier` for `owner:identifier`). None unless listed. */
  modifiers?: readonly SearchModifier[];
  /** Only with one of `modifiers`: a reference that is never literal is searched by `:identifier` alone. */
  modifierRequired?: boolean;
  /** Date parameters: the prefixes accepted (`ge2026-01-05`). A bare value (equality) is always accepted. */
  prefixes?: readonly DatePrefix[];
}

export interface TypeSearchRules {
  /** The search parameters answered, by code (`_id`, `identifier`, `authored-on`). */
  params: Readonly<Record<string, ParamRule>>;
  /** `_include` values answered (`ImagingStudy:endpoint`), each with the resource types it can bring in. */
  includes?: Readonly<Record<string, readonly ResourceType[]>>;
}

export type SearchRules = Readonly<Partial<Record<ResourceType, TypeSearchRules>>>;

/**
 * Result parameters passed through unchanged: how many, where to start, in what order, whether to count.
 * They shape the page, not what matches; their bounds are checked where the page is served.
 */
export const RESULT_PARAMETERS: ReadonlySet<string> = new Set(['_count', '_offset', '_page', '_sort', '_total']);

/** The searchParam and searchInclude of a CapabilityStatement resource entry, from the rules. */
export interface SearchCapability {
  searchParams: { name: string; type: SearchParamType; documentation?: string }[];
  searchInclude: string[];
}

export function searchCapability(rules: SearchRules, type: ResourceType): SearchCapability {
  const typeRules = rules[type];
  if (!typeRules) throw new Error(`No search rules for ${type}`);
  return {
    searchParams: Object.entries(typeRules.params).map(([name, rule]) => ({
      name,
      type: rule.type,
      documentation: documentationOf(rule),
    })),
    searchInclude: Object.keys(typeRules.includes ?? {}),
  };
}

/** What a CapabilityStatement has no element for: the modifiers and prefixes accepted. */
function documentationOf(rule: ParamRule): string {
  const parts: string[] = [];
  const modifiers = rule.modifiers?.map((m) => `:${m}`).join(', ');
  if (modifiers) parts.push(rule.modifierRequired ? `Only with ${modifiers}.` : `Modifiers: ${modifiers}.`);
  if (rule.prefixes?.length) parts.push(`Prefixes: ${rule.prefixes.join(', ')}.`);
  if (!parts.length) parts.push('No modifiers.');
  return parts.join(' ');
}

/**
 * What is wrong with a set of rules: a parameter R4 does not define for the type or defines with another
 * type, a modifier or prefix the type cannot take, `:identifier` where HttpStore has no stand-in for it
 * on HAPI, an `_include` of something that is not a reference of the type. An empty list: coherent.
 */
export function ruleProblems(rules: SearchRules): string[] {
  loadFhirDefinitions();
  const problems: string[] = [];
  for (const [type, typeRules] of Object.entries(rules) as [ResourceType, TypeSearchRules][]) {
    for (const [name, rule] of Object.entries(typeRules.params)) {
      const defined = getSearchParameter(type, name);
      if (!defined) problems.push(`${type}.${name} is not an R4 search parameter of ${type}`);
      else if (defined.type !== rule.type) problems.push(`${type}.${name} is a ${defined.type} parameter in R4`);
      const allowed: readonly string[] = MODIFIERS_BY_TYPE[rule.type];
      for (const m of rule.modifiers ?? [])
        if (!allowed.includes(m)) problems.push(`${type}.${name}: :${m} does not apply to a ${rule.type} parameter`);
      if (rule.modifiers?.includes('identifier') && !hasIdentifierParam(type, name))
        problems.push(`${type}.${name}:identifier has no SearchParameter standing in for it on HAPI`);
      if (rule.modifierRequired && !rule.modifiers?.length)
        problems.push(`${type}.${name}: a modifier is required, but none is allowed`);
      if (rule.prefixes?.length && rule.type !== 'date')
        problems.push(`${type}.${name}: prefixes apply to date parameters only`);
      if (RESULT_PARAMETERS.has(name)) problems.push(`${type}.${name} is a result parameter, passed through anyway`);
    }
    for (const [include, targets] of Object.entries(typeRules.includes ?? {})) {
      const [source, param, target, extra] = include.split(':');
      const defined = source === type && param && extra === undefined ? getSearchParameter(type, param) : undefined;
      if (defined?.type !== 'reference') {
        problems.push(`${type}: _include=${include} is not ${type}:<reference parameter>[:<target type>]`);
        continue;
      }
      const possible = target ? [target] : (defined.target ?? []);
      if (!targets.length) problems.push(`${type}: _include=${include} names no target type`);
      for (const t of targets)
        if (!possible.includes(t)) problems.push(`${type}: _include=${include} cannot bring in ${t}`);
      for (const t of possible)
        if (!targets.includes(t as ResourceType)) problems.push(`${type}: _include=${include} can bring in ${t} too`);
    }
  }
  return problems;
}
