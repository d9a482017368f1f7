import type { ResourceType } from '@medplum/fhirtypes';
import { getSearchParameter } from '@medplum/core';
import { loadFhirDefinitions } from '../definitions.ts';
import { hasIdentifierParam } from '../store/http/reference-identifiers.ts';

/**
 * A declarative allow-list of searches: per resource type, the parameters a server answers and, per
 * parameter, the modifiers, prefixes and chains it accepts, and the `_include`s and `_revinclude`s with
 * the types they bring in. `checkSearch` answers nothing else; `searchCapability` declares exactly this in
 * a CapabilityStatement. One list drives both, so what a server says it does and what it does cannot drift
 * apart.
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

/**
 * How a chain on a reference parameter (`owner.identifier=…`) is answered: never as a join in a store,
 * because HAPI applies the access filter to the resources searched and not to those a chain reads, so a
 * join would answer questions about resources the caller may not see.
 * - `as-identifier`: the reference is always logical here (an ODS code; no Organization is stored), so the
 *   chain means the parameter's `:identifier` modifier, which reads no other resource;
 * - `resolved`: the caller's own search of the one type the parameter points to, within its access, finds
 *   what the chain may point at, and the search then asks for references to those (`patient=Patient/a,…`).
 */
export type ChainRule = 'as-identifier' | 'resolved';

export interface ParamRule {
  type: SearchParamType;
  /** Modifiers accepted besides none (`identifier` for `owner:identifier`). None unless listed. */
  modifiers?: readonly SearchModifier[];
  /** Only with one of `modifiers`: a reference that is never literal is searched by `:identifier` alone. */
  modifierRequired?: boolean;
  /** Date parameters: the prefixes accepted (`ge2026-01-05`). A bare value (equality) is always accepted. */
  prefixes?: readonly DatePrefix[];
  /** Reference parameters: the chains answered, by the target's parameter (`{ identifier: 'as-identifier' }`). */
  chains?: Readonly<Record<string, ChainRule>>;
}

export interface TypeSearchRules {
  /** The search parameters answered, by code (`_id`, `identifier`, `authored-on`). */
  params: Readonly<Record<string, ParamRule>>;
  /** `_include` values answered (`ImagingStudy:endpoint`), each with the resource types it can bring in. */
  includes?: Readonly<Record<string, readonly ResourceType[]>>;
  /** `_revinclude` values answered (`Task:focus`): each brings in resources of the type it names first. */
  revincludes?: readonly `${ResourceType}:${string}`[];
}

export type SearchRules = Readonly<Partial<Record<ResourceType, TypeSearchRules>>>;

/**
 * Result parameters passed through unchanged: how many, where to start, whether to count. They shape the
 * page, not what matches; their bounds are checked where the page is served.
 */
export const RESULT_PARAMETERS: ReadonlySet<string> = new Set(['_count', '_offset', '_page', '_total']);

/**
 * Presentation parameters: how the answer is written, never what it holds. Any FHIR interaction takes them;
 * their values are checked by `presentationProblem` (JSON is the only format served).
 */
export const PRESENTATION_PARAMETERS: ReadonlySet<string> = new Set(['_format', '_pretty']);

/**
 * The parameter types a search can be sorted by, the same way on both stores: HAPI orders a token by
 * system then code and a date by its value, as the embedded store does. Not references, which HAPI
 * orders by its own internal key, nor `_id`, for the same reason.
 */
const SORTABLE_TYPES: ReadonlySet<SearchParamType> = new Set(['token', 'date', 'string']);

/** The parameters of a type that `_sort` takes (each also as `-name`, descending). */
export function sortableParams(typeRules: TypeSearchRules): string[] {
  return Object.entries(typeRules.params)
    .filter(([name, rule]) => name !== '_id' && SORTABLE_TYPES.has(rule.type))
    .map(([name]) => name);
}

/** The `_summary` values answered: `count` by the store, the others by subsetting each match. */
export const SUMMARY_VALUES = ['true', 'text', 'data', 'count', 'false'] as const;
export type SummaryValue = (typeof SUMMARY_VALUES)[number];

/** The searchParam, searchInclude and searchRevInclude of a CapabilityStatement resource entry, from the rules. */
export interface SearchCapability {
  /** The declared parameters, then the result parameters `_sort`, `_summary` and `_elements` (type `special`). */
  searchParams: { name: string; type: SearchParamType | 'special'; documentation?: string }[];
  searchInclude: string[];
  searchRevInclude: string[];
}

export function searchCapability(rules: SearchRules, type: ResourceType): SearchCapability {
  const typeRules = rules[type];
  if (!typeRules) throw new Error(`No search rules for ${type}`);
  const sortable = sortableParams(typeRules);
  return {
    searchParams: [
      ...Object.entries(typeRules.params).map(([name, rule]) => ({
        name,
        type: rule.type,
        documentation: documentationOf(rule),
      })),
      {
        name: '_sort',
        type: 'special',
        documentation: `Sorts by ${sortable.join(', ')}; -name for descending, a comma between keys.`,
      },
      {
        name: '_summary',
        type: 'special',
        documentation: `${SUMMARY_VALUES.join(', ')}. Subsetted matches are tagged SUBSETTED.`,
      },
      {
        name: '_elements',
        type: 'special',
        documentation: `Top-level elements of ${type}, with id, meta and the mandatory ones. Tagged SUBSETTED.`,
      },
    ],
    searchInclude: Object.keys(typeRules.includes ?? {}),
    searchRevInclude: [...(typeRules.revincludes ?? [])],
  };
}

/** What a CapabilityStatement has no element for: the modifiers, prefixes and chains accepted. */
function documentationOf(rule: ParamRule): string {
  const parts: string[] = [];
  const modifiers = rule.modifiers?.map((m) => `:${m}`).join(', ');
  if (modifiers) parts.push(rule.modifierRequired ? `Only with ${modifiers}.` : `Modifiers: ${modifiers}.`);
  if (rule.prefixes?.length) parts.push(`Prefixes: ${rule.prefixes.join(', ')}.`);
  if (!parts.length) parts.push('No modifiers.');
  const chains = Object.keys(rule.chains ?? {});
  if (chains.length) parts.push(`Chains: ${chains.map((c) => `.${c}`).join(', ')}.`);
  return parts.join(' ');
}

/** The one type a reference parameter points to, or undefined when it can point to several (or none). */
export function soleTarget(type: ResourceType, name: string): ResourceType | undefined {
  loadFhirDefinitions();
  const targets = (getSearchParameter(type, name)?.target ?? []) as ResourceType[];
  return targets.length === 1 ? targets[0] : undefined;
}

/**
 * What is wrong with a set of rules: a parameter R4 does not define for the type or defines with another
 * type, a modifier or prefix the type cannot take, `:identifier` where HttpStore has no stand-in for it
 * on HAPI, a chain that cannot be answered as declared, an `_include` or `_revinclude` of something that is
 * not a reference to the type. An empty list: coherent.
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
      problems.push(...chainProblems(rules, type, name, rule));
    }
    for (const revinclude of typeRules.revincludes ?? []) problems.push(...revincludeProblems(type, revinclude));
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

function chainProblems(rules: SearchRules, type: ResourceType, name: string, rule: ParamRule): string[] {
  const problems: string[] = [];
  for (const [chained, how] of Object.entries(rule.chains ?? {})) {
    const chain = `${type}.${name}.${chained}`;
    if (rule.type !== 'reference') problems.push(`${chain}: only a reference parameter can be chained`);
    else if (how === 'as-identifier') {
      if (chained !== 'identifier') problems.push(`${chain}: only .identifier can stand for :identifier`);
      if (!rule.modifiers?.includes('identifier')) problems.push(`${chain}: ${type}.${name} takes no :identifier`);
    } else {
      const target = soleTarget(type, name);
      if (!target) problems.push(`${chain}: ${type}.${name} points to several types, so nothing says which to search`);
      else if (!rules[target]?.params[chained])
        problems.push(`${chain}: ${target}.${chained} is not a declared search of ${target}`);
    }
  }
  return problems;
}

function revincludeProblems(type: ResourceType, revinclude: string): string[] {
  const [source, param, target, extra] = revinclude.split(':');
  const defined = source && param && extra === undefined ? getSearchParameter(source, param) : undefined;
  if (defined?.type !== 'reference')
    return [`${type}: _revinclude=${revinclude} is not <type>:<reference parameter>[:${type}]`];
  if (target !== undefined && target !== type)
    return [`${type}: _revinclude=${revinclude} names another target than ${type}`];
  return (defined.target ?? []).includes(type) ? [] : [`${type}: _revinclude=${revinclude} cannot point to ${type}`];
}
