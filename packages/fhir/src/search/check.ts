import type { OperationOutcomeIssue, ResourceType } from '@medplum/fhirtypes';
import { getSearchParameter } from '@medplum/core';
import { loadFhirDefinitions } from '../definitions.ts';
import { invalid, issue, OutcomeError } from '../outcomes.ts';
import { NHS_NUMBER_SYSTEM, ODS_SYSTEM } from '../systems.ts';
import { isFhirId } from '../validation/base.ts';
import { isValidNhsNumber } from '../validation/nhs-number.ts';
import { isValidOdsCode } from '../validation/ods.ts';
import type { ParamRule, SearchRules } from './rules.ts';
import { DATE_PREFIXES, RESULT_PARAMETERS } from './rules.ts';

declare const CHECKED: unique symbol;

/** A search that passed `checkSearch`: only what the rules allow, with values the store can take as they are. */
export interface CheckedSearch {
  readonly [CHECKED]: true;
  readonly type: ResourceType;
  /** The query for the store: normalised values, in the order given, presentation parameters removed. */
  readonly params: URLSearchParams;
  /** Every resource type this search's `_include`s can bring in. */
  readonly includedTypes: readonly ResourceType[];
}

/** Features refused by name, with the reason given to the client. */
const REFUSED: Readonly<Record<string, string>> = {
  _has: 'reverse chaining (_has) is not supported',
  _revinclude: '_revinclude is not supported',
  _contained: 'searching contained resources is not supported',
  _containedType: 'searching contained resources is not supported',
  _filter: '_filter is not supported',
  _query: 'named queries (_query) are not supported',
  _elements: '_elements is not supported: resources are returned whole',
  _summary: '_summary is not supported: resources are returned whole',
};

/** `_format` values that mean JSON, the only format served; they are dropped before the store sees them. */
const JSON_FORMATS = new Set(['json', 'application/json', 'application/fhir+json', 'application/json+fhir']);

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
 * per problem, each naming its parameter in `expression`. Nothing outside the rules reaches a store, and
 * nothing is silently ignored: an unknown parameter, modifier, prefix, `_include` or malformed value is
 * refused, so the embedded store and a FHIR server over HTTP are asked exactly the same questions.
 */
export function checkSearch(rules: SearchRules, type: ResourceType, query: URLSearchParams): CheckedSearch {
  const typeRules = own(rules, type);
  if (!typeRules)
    throw new OutcomeError(invalid([issue({ code: 'not-supported', text: `${type} cannot be searched` })]));
  const params = new URLSearchParams();
  const included = new Set<ResourceType>();
  const problems: OperationOutcomeIssue[] = [];
  const refuse = (name: string, text: string, code: OperationOutcomeIssue['code'] = 'not-supported') =>
    problems.push(issue({ code, text, expression: name || '(empty)' }));

  for (const [key, rawValue] of query) {
    const colon = key.indexOf(':');
    const name = colon < 0 ? key : key.slice(0, colon);
    const modifier = colon < 0 ? undefined : key.slice(colon + 1);
    const value = rawValue.trim();

    if (RESULT_PARAMETERS.has(name)) {
      if (modifier !== undefined) refuse(name, `${name} takes no modifier`);
      else params.append(key, rawValue);
    } else if (name === '_format' || name === '_pretty') {
      const problem = presentationProblem(name, modifier, value);
      if (problem) refuse(name, problem);
    } else if (name === '_include') {
      const targets = own(typeRules.includes ?? {}, value);
      if (modifier !== undefined) refuse(name, `_include:${modifier} is not supported`);
      else if (!targets)
        refuse(name, `_include=${shown(value)} is not supported on ${type}; ${listOf(typeRules.includes)}`);
      else {
        params.append(name, value);
        for (const t of targets) included.add(t);
      }
    } else if (own(REFUSED, name)) {
      refuse(name, `${shown(key)}: ${own(REFUSED, name)}`);
    } else if (key.includes('.')) {
      refuse(name, `${shown(key)}: chained parameters are not supported`);
    } else {
      const rule = own(typeRules.params, name);
      if (!rule) {
        refuse(name, `Search parameter '${name}' is not supported on ${type}; ${listOf(typeRules.params)}`);
        continue;
      }
      if (modifier === undefined && rule.modifierRequired) {
        refuse(name, `'${name}' is searched only with ${rule.modifiers?.map((m) => `:${m}`).join(' or ')}`);
        continue;
      }
      if (modifier !== undefined && !(rule.modifiers as readonly string[] | undefined)?.includes(modifier)) {
        const allowed = rule.modifiers?.length ? `; allowed: ${rule.modifiers.map((m) => `:${m}`).join(', ')}` : '';
        refuse(name, `Modifier :${modifier} is not supported on '${name}'${allowed}`);
        continue;
      }
      const normalised = normaliseValue(type, name, rule, modifier, value);
      if (typeof normalised === 'string') params.append(key, normalised);
      else refuse(name, `${key}=${shown(rawValue)}: ${normalised.problem}`, 'value');
    }
  }
  if (problems.length) throw new OutcomeError(invalid(problems));
  return { type, params, includedTypes: [...included] } as unknown as CheckedSearch;
}

/** A record's own entry: never one inherited from Object (`constructor`, `toString`), whatever a client sends. */
function own<T>(record: Readonly<Partial<Record<string, T>>>, key: string): T | undefined {
  return Object.hasOwn(record, key) ? record[key] : undefined;
}

function presentationProblem(name: string, modifier: string | undefined, value: string): string | undefined {
  if (modifier !== undefined) return `${name} takes no modifier`;
  if (name === '_format')
    return JSON_FORMATS.has(value.toLowerCase()) ? undefined : `_format=${shown(value)}: only JSON is served`;
  return value === 'true' || value === 'false' ? undefined : '_pretty must be true or false';
}

function listOf(allowed: Readonly<Record<string, unknown>> | undefined): string {
  const names = Object.keys(allowed ?? {});
  return names.length ? `supported: ${names.join(', ')}` : 'none is supported';
}

/** The value as the client sent it, cut short: enough to recognise, never a page of echo. */
function shown(value: string): string {
  return value.length > 64 ? `${value.slice(0, 64)}…` : value;
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
