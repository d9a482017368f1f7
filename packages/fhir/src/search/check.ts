import type { OperationOutcomeIssue, ResourceType } from '@medplum/fhirtypes';
import { getSearchParameter, getSearchParameterDetails, SearchParameterType } from '@medplum/core';
import { loadFhirDefinitions } from '../definitions.ts';
import { cutShort as shown, invalid, issue, OutcomeError } from '../outcomes.ts';
import { NHS_NUMBER_SYSTEM, ODS_SYSTEM } from '../systems.ts';
import { isFhirId } from '../validation/base.ts';
import { isValidNhsNumber } from '../validation/nhs-number.ts';
import { isValidOdsCode } from '../validation/ods.ts';
import type { ParamRule, SearchRules, SummaryValue, TypeSearchRules } from './rules.ts';
import {
  DATE_PREFIXES,
  PRESENTATION_PARAMETERS,
  RESULT_PARAMETERS,
  SUMMARY_VALUES,
  soleTarget,
  sortableParams,
} from './rules.ts';
import { elementNames } from './subset.ts';
import { countOnlyProblem, isCountOnly } from '../store/paging.ts';

declare const CHECKED: unique symbol;

/**
 * How a search treats what it does not answer (FHIR R4 search, `Prefer: handling=…`): `lenient` (the R4
 * default) leaves out an unknown or unsupported parameter and says so; `strict` refuses it with a 400.
 * Neither leaves out a check: a malformed value, a modifier that would change what a parameter means, a
 * chain or `_has` that would read other resources, or a search on the access labels is refused in both.
 */
export type SearchHandling = 'strict' | 'lenient';

/** How the matches are shown, applied to each match once the store has answered. */
export type SearchSubset = { summary: Exclude<SummaryValue, 'count' | 'false'> } | { elements: readonly string[] };

/** A chain (`patient.identifier=…`) the caller resolves within its own access before the store is asked. */
export interface ChainToResolve {
  /** The reference parameter of the searched type (`patient`). */
  param: string;
  /** The one type it points to (`Patient`). */
  target: ResourceType;
  /** The search of `target` that finds what the chain may point at, checked against the target's rules. */
  query: URLSearchParams;
}

/** A search that passed `checkSearch`: only what the rules allow, with values the store can take as they are. */
export interface CheckedSearch {
  readonly [CHECKED]: true;
  readonly type: ResourceType;
  /**
   * The query for the store: normalised values, in the order given, presentation parameters removed, a
   * declared `.identifier` chain as its `:identifier` form; resolved chains are the caller's to add.
   */
  readonly params: URLSearchParams;
  /** Every resource type this search's `_include`s and `_revinclude`s can bring in. */
  readonly includedTypes: readonly ResourceType[];
  /** Chains to resolve, each to be added to `params` as references to what it found. */
  readonly chains: readonly ChainToResolve[];
  /** `_summary` (other than `count` and `false`) or `_elements`: applied to each match. */
  readonly subset?: SearchSubset;
  /** What was applied, for the self link (R4: the parameters actually used): nothing that was left out. */
  readonly applied: URLSearchParams;
  /**
   * Under lenient handling, a warning for each parameter left out, and a note for each answered in part
   * (an `_include` without its target type, answered for the declared targets only).
   */
  readonly ignored: readonly OperationOutcomeIssue[];
}

export interface CheckOptions {
  /** Default `strict`: a caller that says nothing gets every refusal. */
  handling?: SearchHandling;
}

/** Features not answered, by name, with the reason given: left out under lenient handling. */
const UNSUPPORTED: Readonly<Record<string, string>> = {
  _contained: 'searching contained resources is not supported',
  _containedType: 'searching contained resources is not supported',
  _filter: '_filter is not supported',
  _query: 'named queries (_query) are not supported',
};

/** Refused under either handling: they would read, or test facts about, resources the access filter does not cover. */
const ALWAYS_REFUSED: Readonly<Record<string, string>> = {
  _has: 'reverse chaining (_has) is not supported',
  _security: 'the access labels are not searchable',
};

/** `Prefer` (RFC 7240) may hold several preferences, comma-separated, in one header or several joined. */
const HANDLING_RE = /(?:^|[,;\s])handling\s*=\s*"?(strict|lenient)"?\s*(?:[,;]|$)/i;

/** The handling a client asked for in `Prefer`; lenient, the R4 default, when it asked for none. */
export function searchHandlingOf(prefer: string | null | undefined): SearchHandling {
  const m = prefer ? HANDLING_RE.exec(prefer) : null;
  return m?.[1]?.toLowerCase() === 'strict' ? 'strict' : 'lenient';
}

/** `_format` values that mean JSON, the only format served; they are dropped before the store sees them. */
const JSON_FORMATS = new Set(['json', 'application/json', 'application/fhir+json', 'application/json+fhir']);

const TOTAL_VALUES = new Set(['none', 'estimate', 'accurate']);

/** Per identifier system: the normalised value, or why it cannot be one. One place for both stores. */
const IDENTIFIER_VALUES: Readonly<Record<string, (value: string) => string | { problem: string }>> = {
  [NHS_NUMBER_SYSTEM]: (value) =>
    isValidNhsNumber(value) ? value : { problem: 'an NHS number is 10 digits that pass the Modulus 11 check' },
  [ODS_SYSTEM]: (value) => {
    const code = value.toUpperCase();
    return isValidOdsCode(code) ? code : { problem: 'an ODS code is 3 to 10 letters or digits' };
  },
};

const TYPE_RE = /^[A-Z][A-Za-z]{1,63}$/;
const MAX_VALUE_LENGTH = 1024;
/** FHIR date, or dateTime to the second with its zone: partial times and local times mean different things to different stores. */
const DATE_RE =
  /^(\d{4})(?:-(\d{2})(?:-(\d{2})(?:T([01]\d|2[0-3]):[0-5]\d:[0-5]\d(?:\.\d{1,9})?(?:Z|[+-](?:0\d|1[0-3]):[0-5]\d|[+-]14:00))?)?)?$/;

/**
 * Checks a search against the rules for `type` and returns it normalised, or throws a 400 with one issue
 * per problem, each naming its parameter in `expression`. Nothing outside the rules reaches a store, so the
 * embedded store and a FHIR server over HTTP are asked exactly the same questions. What the rules do not
 * answer (an unknown parameter, an undeclared `_include`, an unsortable `_sort` key) is refused under
 * strict handling and left out, with a warning, under lenient; everything else is refused under both.
 */
export function checkSearch(
  rules: SearchRules,
  type: ResourceType,
  query: URLSearchParams,
  options: CheckOptions = {},
): CheckedSearch {
  const typeRules = own(rules, type);
  if (!typeRules)
    throw new OutcomeError(invalid([issue({ code: 'not-supported', text: `${type} cannot be searched` })]));
  const lenient = options.handling === 'lenient';
  const params = new URLSearchParams();
  const applied = new URLSearchParams();
  const included = new Set<ResourceType>();
  const chains: ChainToResolve[] = [];
  const problems: OperationOutcomeIssue[] = [];
  const ignored: OperationOutcomeIssue[] = [];
  const elements: string[] = [];
  let summary: SummaryValue | undefined;
  let sorted = false;
  // R4 (search.html#count): `_count=0` SHALL be answered as `_summary=count`. Rewritten here, so neither
  // store nor any server behind one is asked `_count=0`, which each would answer its own way.
  const countOnly = isCountOnly(query);
  const refuse = (name: string, text: string, code: OperationOutcomeIssue['code'] = 'not-supported') =>
    problems.push(issue({ code, text, expression: name || '(empty)' }));
  const unsupported = (name: string, text: string) => {
    if (!lenient) refuse(name, text);
    else
      ignored.push(
        issue({
          severity: 'warning',
          code: 'not-supported',
          text: `${text} (left out)`,
          expression: name || '(empty)',
        }),
      );
  };
  /** A parameter applied: asked of the store (unless the caller applies it) and shown in the self link. */
  const use = (key: string, value: string, ofStore = true) => {
    if (ofStore) params.append(key, value);
    applied.append(key, value);
  };

  for (const [key, rawValue] of query) {
    const colon = key.indexOf(':');
    const name = colon < 0 ? key : key.slice(0, colon);
    const modifier = colon < 0 ? undefined : key.slice(colon + 1);
    const value = rawValue.trim();

    if (RESULT_PARAMETERS.has(name)) {
      const problem = resultParameterProblem(name, modifier, value);
      if (problem) refuse(name, problem.text, problem.code);
      // Two values would be two questions, each store answering the one it reads (the paging bounds, read
      // where the page is served, say so for _count and _offset).
      else if (applied.has(name) && (name === '_total' || name === '_page'))
        refuse(name, `${name} is given once`, 'value');
      // The self link shows `_count=0` as asked; the store is asked `_summary=count`, below.
      else use(key, rawValue, !(countOnly && name === '_count'));
    } else if (PRESENTATION_PARAMETERS.has(name)) {
      const problem = presentationProblem(name, modifier, value);
      if (problem) refuse(name, problem);
    } else if (modifier !== undefined && SHAPING.has(name)) {
      unsupported(name, `${name}:${modifier} is not supported`);
    } else if (name === '_sort') {
      if (sorted) refuse(name, '_sort is given once, its keys separated by commas', 'value');
      sorted = true;
      const sortable = sortableParams(typeRules);
      const keys: string[] = [];
      for (const one of value.split(',').map((k) => k.trim())) {
        const param = one.startsWith('-') ? one.slice(1) : one;
        if (!param) refuse(name, '_sort needs a parameter name for each key', 'value');
        else if (!sortable.includes(param))
          unsupported(name, `_sort by '${shown(param)}' is not supported on ${type}; sortable: ${sortable.join(', ')}`);
        else keys.push(one);
      }
      if (keys.length) use(name, keys.join(','));
    } else if (name === '_summary') {
      if (summary !== undefined) refuse(name, '_summary is given once', 'value');
      else if (!isSummaryValue(value)) refuse(name, `_summary is one of ${SUMMARY_VALUES.join(', ')}`, 'value');
      else {
        summary = value;
        // count is the store's to answer; the others shape each match, here.
        use(name, value, value === 'count');
      }
    } else if (name === '_elements') {
      const names = elementNames(type);
      const listed = value.split(',').map((e) => e.trim().replace(new RegExp(`^${type}\\.`), ''));
      const unknown = listed.filter((e) => !names.has(e));
      if (unknown.length)
        refuse(
          name,
          `_elements: ${unknown
            .slice(0, 5)
            .map((e) => `'${shown(e)}'`)
            .join(', ')} is not an element of ${type}`,
          'value',
        );
      else {
        elements.push(...listed);
        use(name, listed.join(','), false);
      }
    } else if (name === '_include' || name === '_revinclude') {
      const brings = name === '_include' ? own(typeRules.includes ?? {}, value) : revincluded(typeRules, value);
      const declared = name === '_include' ? Object.keys(typeRules.includes ?? {}) : (typeRules.revincludes ?? []);
      const typed = name === '_include' && !brings ? typedIncludesOf(typeRules, value) : [];
      const include = (asked: string, types: readonly ResourceType[]) => {
        use(name, asked);
        for (const t of types) included.add(t);
      };
      if (brings) include(value, brings);
      else if (!typed.length)
        unsupported(name, `${name}=${shown(value)} is not supported on ${type}; ${listOf(declared)}`);
      else {
        const answered = `${name}=${shown(value)} is answered on ${type} for ${typed.join(', ')} only`;
        if (!lenient) refuse(name, `${answered}: ask for ${typed.length > 1 ? 'them' : 'it'} by type`);
        else {
          ignored.push(issue({ severity: 'information', code: 'informational', text: answered, expression: name }));
          for (const one of typed) include(one, typeRules.includes?.[one] ?? []);
        }
      }
    } else if (own(ALWAYS_REFUSED, name)) {
      refuse(name, `${shown(key)}: ${own(ALWAYS_REFUSED, name)}`);
    } else if (key.includes('.')) {
      const chain = checkChain(rules, type, typeRules, key, value);
      if ('problem' in chain) refuse(name, `${shown(key)}=${shown(rawValue)}: ${chain.problem}`, chain.code);
      else if ('resolve' in chain) {
        chains.push(chain.resolve);
        use(key, chain.value, false);
      } else use(chain.key, chain.value);
    } else if (own(UNSUPPORTED, name)) {
      unsupported(name, `${shown(key)}: ${own(UNSUPPORTED, name)}`);
    } else {
      const rule = own(typeRules.params, name);
      if (!rule) {
        unsupported(
          name,
          `Search parameter '${shown(name)}' is not supported on ${type}; ${listOf(Object.keys(typeRules.params))}`,
        );
        continue;
      }
      // A modifier changes what a parameter means: leaving one out would answer another question.
      if (modifier === undefined && rule.modifierRequired) {
        refuse(name, `'${name}' is searched only with ${rule.modifiers?.map((m) => `:${m}`).join(' or ')}`);
        continue;
      }
      if (modifier !== undefined && !(rule.modifiers as readonly string[] | undefined)?.includes(modifier)) {
        const allowed = rule.modifiers?.length ? `; allowed: ${rule.modifiers.map((m) => `:${m}`).join(', ')}` : '';
        refuse(name, `Modifier :${shown(modifier)} is not supported on '${name}'${allowed}`);
        continue;
      }
      const normalised = normaliseValue(type, name, rule, modifier, value);
      if (typeof normalised === 'string') use(key, normalised);
      else refuse(name, `${key}=${shown(rawValue)}: ${normalised.problem}`, 'value');
    }
  }
  const subsetting = summary !== undefined && summary !== 'false';
  if (subsetting && elements.length)
    refuse('_elements', '_elements and _summary cannot be combined: give one', 'value');
  if (countOnly) {
    // `_count=0` is `_summary=count`: with another `_summary` (even `false`) or with `_elements` it asks two
    // different things, and is refused as a second `_summary` would be, rather than one being dropped.
    const conflict = countOnlyProblem(summary === undefined ? [] : [summary]);
    if (conflict) problems.push(conflict);
    else if (elements.length && summary === undefined)
      refuse(
        '_count',
        '_count=0 asks for the total only, as _summary=count does: it cannot be combined with _elements',
        'value',
      );
    else if (summary === undefined) params.append('_summary', 'count');
  }
  if (problems.length) throw new OutcomeError(invalid(problems));
  const subset: SearchSubset | undefined =
    summary === 'true' || summary === 'text' || summary === 'data'
      ? { summary }
      : elements.length
        ? { elements: [...new Set(elements)] }
        : undefined;
  return {
    type,
    params,
    includedTypes: [...included],
    chains,
    ...(subset ? { subset } : {}),
    applied,
    ignored,
  } as unknown as CheckedSearch;
}

/** Result parameters that shape the answer, each with its own check; any modifier on one is not supported. */
const SHAPING: ReadonlySet<string> = new Set(['_sort', '_summary', '_elements', '_include', '_revinclude']);

function isSummaryValue(value: string): value is SummaryValue {
  return (SUMMARY_VALUES as readonly string[]).includes(value);
}

/**
 * The declared typed forms (`Task:focus:ServiceRequest`) of an `_include` sent without its target type
 * (`Task:focus`), as most clients send it (HAPI's `Task.INCLUDE_FOCUS`); none for any other value.
 */
function typedIncludesOf(typeRules: TypeSearchRules, value: string): string[] {
  if (value.split(':').length !== 2) return [];
  return Object.keys(typeRules.includes ?? {}).filter((declared) => declared.startsWith(`${value}:`));
}

/** The type a declared `_revinclude` brings in (the type it names first), or undefined. */
function revincluded(typeRules: TypeSearchRules, value: string): ResourceType[] | undefined {
  return (typeRules.revincludes as readonly string[] | undefined)?.includes(value)
    ? [value.split(':')[0] as ResourceType]
    : undefined;
}

type CheckedChain =
  | { key: string; value: string }
  | { resolve: ChainToResolve; value: string }
  | { problem: string; code: OperationOutcomeIssue['code'] };

/**
 * A chain (`owner.identifier`, `patient.identifier`) answered only as its rule declares: as the
 * parameter's `:identifier` modifier, or as a search of the target type the caller resolves itself. Any
 * other is refused under either handling: as a join, it would test facts about resources that the access
 * filter does not cover.
 */
function checkChain(
  rules: SearchRules,
  type: ResourceType,
  typeRules: TypeSearchRules,
  key: string,
  value: string,
): CheckedChain {
  const dot = key.indexOf('.');
  const param = key.slice(0, dot);
  const chained = key.slice(dot + 1);
  const rule = own(typeRules.params, param);
  const how = rule ? own(rule.chains ?? {}, chained) : undefined;
  if (!rule || !how) {
    const declared = Object.entries(typeRules.params).flatMap(([p, r]) =>
      Object.keys(r.chains ?? {}).map((c) => `${p}.${c}`),
    );
    return {
      problem: `chained parameters are not supported, other than ${declared.length ? declared.join(', ') : 'none'}`,
      code: 'not-supported',
    };
  }
  if (how === 'as-identifier') {
    const normalised = normaliseValue(type, param, rule, 'identifier', value);
    return typeof normalised === 'string'
      ? { key: `${param}:identifier`, value: normalised }
      : valueProblem(normalised);
  }
  const target = soleTarget(type, param);
  const targetRule = target ? own(own(rules, target)?.params ?? {}, chained) : undefined;
  if (!target || !targetRule) return { problem: 'this chain cannot be resolved here', code: 'not-supported' };
  const normalised = normaliseValue(target, chained, targetRule, undefined, value);
  if (typeof normalised !== 'string') return valueProblem(normalised);
  return { resolve: { param, target, query: new URLSearchParams([[chained, normalised]]) }, value: normalised };
}

function valueProblem({ problem }: { problem: string }): CheckedChain {
  return { problem, code: 'value' };
}

/** A record's own entry: never one inherited from Object (`constructor`, `toString`), whatever a client sends. */
function own<T>(record: Readonly<Partial<Record<string, T>>>, key: string): T | undefined {
  return Object.hasOwn(record, key) ? record[key] : undefined;
}

/**
 * What is wrong with a result parameter (RESULT_PARAMETERS) as a search is given it, if anything: it takes no
 * modifier, and `_total` is one of its three values. The paging bounds are `pagingOf`'s, where the page is served.
 */
export function resultParameterProblem(
  name: string,
  modifier: string | undefined,
  value: string,
): { text: string; code: 'not-supported' | 'value' } | undefined {
  if (modifier !== undefined) return { text: `${name} takes no modifier`, code: 'not-supported' };
  if (name === '_total' && !TOTAL_VALUES.has(value))
    return { text: '_total is none, estimate or accurate', code: 'value' };
  return undefined;
}

/** What is wrong with a `_format` or `_pretty` parameter, if anything: JSON is the only format served. */
export function presentationProblem(name: string, modifier: string | undefined, value: string): string | undefined {
  if (modifier !== undefined) return `${name} takes no modifier`;
  if (name === '_format')
    return JSON_FORMATS.has(formatOf(value)) ? undefined : `_format=${shown(value)}: only JSON is served`;
  return value === 'true' || value === 'false' ? undefined : '_pretty must be true or false';
}

/**
 * A `_format` as clients write it, for the lookup: a `+` left unescaped in a query string reads as a
 * space (`application/fhir json`), and a media type may carry parameters (`; fhirVersion=4.0`).
 */
function formatOf(value: string): string {
  return (value.split(';', 1)[0] ?? '').trim().toLowerCase().replace(/\s+/g, '+');
}

function listOf(names: readonly string[]): string {
  return names.length ? `supported: ${names.join(', ')}` : 'none is supported';
}

function normaliseValue(
  type: ResourceType,
  name: string,
  rule: ParamRule,
  modifier: string | undefined,
  value: string,
): string | { problem: string } {
  if (!value) return { problem: 'a search parameter needs a value' };
  if (value.length > MAX_VALUE_LENGTH) return { problem: `longer than ${MAX_VALUE_LENGTH} characters` };
  const alternatives: string[] = [];
  // Comma-separated values are alternatives (OR); `\,` is a comma inside one value.
  for (const raw of value.split(/(?<!\\),/)) {
    const one = raw.trim();
    const normalised = !one
      ? { problem: 'an empty value between commas' }
      : name === '_id'
        ? idValue(one)
        : rule.type === 'token' && isBooleanParam(type, name)
          ? booleanValue(one)
          : rule.type === 'token' || (rule.type === 'reference' && modifier === 'identifier')
            ? tokenValue(one)
            : rule.type === 'reference'
              ? referenceValue(type, name, one)
              : rule.type === 'date'
                ? dateValue(rule, one)
                : one;
    if (typeof normalised !== 'string') return normalised;
    alternatives.push(normalised);
  }
  return alternatives.join(',');
}

function idValue(value: string): string | { problem: string } {
  return isFhirId(value) ? value : { problem: 'an id is 1 to 64 letters, digits, - or .' };
}

/**
 * A token on a boolean element (`active`) is true or false: anything else could match nothing, so it is
 * refused rather than answered with an empty page.
 */
function isBooleanParam(type: ResourceType, name: string): boolean {
  // Asked for every token value of every search: the R4 definitions are looked up once per parameter.
  const key = `${type} ${name}`;
  let known = BOOLEAN_PARAMS.get(key);
  if (known === undefined) {
    loadFhirDefinitions();
    const param = getSearchParameter(type, name);
    known = param ? getSearchParameterDetails(type, param).type === SearchParameterType.BOOLEAN : false;
    BOOLEAN_PARAMS.set(key, known);
  }
  return known;
}

const BOOLEAN_PARAMS = new Map<string, boolean>();

function booleanValue(value: string): string | { problem: string } {
  return value === 'true' || value === 'false' ? value : { problem: 'a boolean is true or false' };
}

/** `[system|]code`, each part trimmed, the code checked (and normalised) where its system has a rule. */
function tokenValue(value: string): string | { problem: string } {
  const bar = value.search(/(?<!\\)\|/);
  if (bar < 0) return value;
  const system = value.slice(0, bar).trim();
  const code = value.slice(bar + 1).trim();
  if (!system && !code) return { problem: 'a token needs a system, a code or both' };
  const check = own(IDENTIFIER_VALUES, system);
  if (!check || !code) return `${system}|${code}`;
  const checked = check(code);
  return typeof checked === 'string' ? `${system}|${checked}` : checked;
}

/**
 * `Type/id`, the type one the parameter can point to; a bare id only where the parameter points to one
 * type, and then written `Type/id`, so no store has to guess. No absolute URLs.
 */
function referenceValue(type: ResourceType, name: string, value: string): string | { problem: string } {
  loadFhirDefinitions();
  const targets = (getSearchParameter(type, name)?.target ?? []) as string[];
  const slash = value.indexOf('/');
  if (slash < 0) {
    const [only, ...more] = targets;
    if (!only || more.length) return { problem: `'${name}' can point to several types: give Type/id` };
    const id = idValue(value);
    return typeof id === 'string' ? `${only}/${id}` : id;
  }
  const target = value.slice(0, slash);
  const id = value.slice(slash + 1);
  if (!TYPE_RE.test(target) || !isFhirId(id)) return { problem: 'a reference is an id or Type/id' };
  if (targets.length && !targets.includes(target))
    return { problem: `'${name}' points to ${targets.join(' or ')}, not ${target}` };
  return `${target}/${id}`;
}

function dateValue(rule: ParamRule, value: string): string | { problem: string } {
  const prefix = (DATE_PREFIXES as readonly string[]).includes(value.slice(0, 2)) ? value.slice(0, 2) : undefined;
  const date = prefix ? value.slice(2) : value;
  if (prefix && !(rule.prefixes as readonly string[] | undefined)?.includes(prefix)) {
    const allowed = rule.prefixes?.length ? `; allowed: ${rule.prefixes.join(', ')}` : '';
    return { problem: `the prefix ${prefix} is not supported here${allowed}` };
  }
  if (!isDate(date))
    return { problem: 'a date is YYYY, YYYY-MM, YYYY-MM-DD or YYYY-MM-DDThh:mm:ss with a zone (Z or ±hh:mm)' };
  return value;
}

function isDate(value: string): boolean {
  const m = DATE_RE.exec(value);
  if (!m) return false;
  const [, y, mo, d] = m;
  if (!mo) return true;
  const month = Number(mo);
  if (month < 1 || month > 12) return false;
  if (!d) return true;
  const day = Number(d);
  // The last day of the month: day 0 of the next one.
  return day >= 1 && day <= new Date(Date.UTC(Number(y), month, 0)).getUTCDate();
}
