import type { Filter } from '@medplum/core';
import type { SearchParameter } from '@medplum/fhirtypes';
import { getSearchParameter, Operator, parseSearchRequest } from '@medplum/core';
import type { SQLInputValue } from 'node:sqlite';
import { badRequest, notSupported, OutcomeError } from '../../outcomes.ts';
import { checkPagingParams } from '../paging.ts';
import { dateRange } from './dates.ts';
import { identifierTarget, normalizeReference, searchParametersOf } from './indexer.ts';
import type { IndexPolicy } from './index-policy.ts';
import { checkIndexed } from './index-policy.ts';

/** SQL text with its `?` arguments. */
export interface Sql {
  sql: string;
  args: SQLInputValue[];
}

/** One search parameter of a query, compiled. */
export interface Clause {
  /** The parameter, to explain which one drives a search. */
  name: string;
  /** True when the resource whose pk is `m.pk` matches: one seek on the index table's `*_resource` index. */
  filter: Sql;
  /** For a positive index-table parameter: one index range per value; their union is the matches. */
  ranges?: Range[];
  /** For a positive `_id`: the ids. */
  ids?: string[];
}

/** The index rows (alias `m`) of one parameter value. */
export interface Range {
  table: string;
  /** Conditions on `m`, its type and parameter included. */
  where: Sql;
  /** An index that lists the range in pk order, when there is one. */
  byPk?: string;
  /** An index that lists the range in lastUpdated order, when there is one. */
  byLastUpdated?: string;
}

/**
 * `pk` is the order of creation, the default; `columns` is any other `_sort`, as SQL over `resource m` with
 * its arguments: an order no index lists, so the matches are gathered first and then ordered by it.
 */
export type Sort = { by: 'pk' } | { by: 'lastUpdated'; desc: boolean } | { by: 'columns'; orderBy: Sql };

/**
 * `none`: nothing is counted. `bounded` (the default, and `estimate`): the total is given when reading a
 * few rows past the page reaches the end of the matches (see TOTAL_LOOKAHEAD). `accurate`: every match
 * is counted.
 */
export type TotalMode = 'none' | 'bounded' | 'accurate';

/** A FHIR search, compiled: its parameters as SQL over the index tables, and how to page and sort. */
export interface CompiledSearch {
  type: string;
  clauses: Clause[];
  sort: Sort;
  count: number;
  offset: number;
  includes: { param: string; targetType?: string }[];
  /** `_revinclude`: resources of `sourceType` whose `param` points at a match. */
  revincludes: { sourceType: string; param: string }[];
  /** The query without `_offset`, for building `next` links. */
  base: URLSearchParams;
  total: TotalMode;
}

export const DEFAULT_COUNT = 20;

/** Result parameters we honour, and those we accept but that change nothing here. */
const IGNORED = new Set(['_format', '_pretty']);
const UNSUPPORTED = new Set([
  '_has',
  '_elements',
  '_contained',
  '_containedType',
  '_list',
  '_text',
  '_content',
  '_query',
  '_filter',
  '_type',
]);

export function compileSearch(type: string, params: URLSearchParams, policy: IndexPolicy): CompiledSearch {
  const filters = new URLSearchParams();
  const base = new URLSearchParams();
  const paging = checkPagingParams(params);
  let count = paging.count ?? DEFAULT_COUNT;
  const offset = paging.offset ?? 0;
  let sort: Sort = { by: 'pk' };
  let total: TotalMode = 'bounded';
  let summaryCount = false;
  const includes: CompiledSearch['includes'] = [];
  const revincludes: CompiledSearch['revincludes'] = [];

  for (const [key, value] of params) {
    const name = key.split(':')[0] as string;
    if (key !== '_offset') base.append(key, value);
    if (IGNORED.has(name)) continue;
    if (UNSUPPORTED.has(name) || key.includes('.')) {
      throw new OutcomeError(notSupported(`Search parameter '${key}' is not supported by this store`, key));
    }
    switch (name) {
      case '_count':
      case '_offset':
        break; // read by checkPagingParams
      case '_summary':
        if (value !== 'count')
          throw new OutcomeError(notSupported(`_summary=${value} is not supported; only _summary=count`, key));
        summaryCount = true;
        break;
      case '_sort':
        sort = compileSort(type, key, value, policy);
        break;
      case '_total':
        if (!['none', 'estimate', 'accurate'].includes(value))
          throw new OutcomeError(badRequest(`_total must be none, estimate or accurate, not '${value}'`, key));
        total = value === 'none' ? 'none' : value === 'accurate' ? 'accurate' : 'bounded';
        break;
      case '_include':
        includes.push(compileInclude(type, key, value, policy));
        break;
      case '_revinclude':
        revincludes.push(...compileRevinclude(type, key, value, policy));
        break;
      default:
        appendFilter(filters, type, key, value, policy);
    }
  }

  const request = parseSearchRequest(`${type}?${filters.toString()}`);
  const tests = mergeDateBounds((request.filters ?? []).map((filter) => compileFilter(type, filter)));
  const clauses = tests.map((test) => toClause(type, test));
  // A count of nothing is a question about the total, which is then counted in full.
  if (summaryCount) count = 0;
  if (count === 0) total = 'accurate';
  return { type, clauses, sort, count, offset, includes, revincludes, base, total };
}

/**
 * `_sort=a,-b`: each key a search parameter of the type. A resource with several values sorts by its
 * lowest ascending and its highest descending (as HAPI does); one without any comes last either way.
 * A token sorts by system, then code, as on HAPI. `_sort=_lastUpdated` alone is an order the index
 * lists give; any other is SQL over `resource m`.
 */
function compileSort(type: string, key: string, value: string, policy: IndexPolicy): Sort {
  if (key !== '_sort') throw new OutcomeError(notSupported(`${key} is not supported; sort descending with -name`, key));
  const args: SQLInputValue[] = [];
  const keys = value.split(',').map((k) => {
    const desc = k.startsWith('-');
    const code = desc ? k.slice(1) : k;
    const direction = desc ? 'DESC' : 'ASC';
    if (code === '_lastUpdated') return { code, desc, sql: `m.last_updated ${direction}` };
    if (code === '_id') return { code, desc, sql: `m.id ${direction}` };
    const param = getSearchParameter(type, code);
    const sortBy = param ? SORT_VALUES[param.type] : undefined;
    if (!sortBy) throw new OutcomeError(badRequest(`_sort by '${code}' is not supported on ${type}`, '_sort'));
    checkIndexed(policy, type, code, '_sort');
    args.push(code);
    const aggregate = desc ? 'MAX' : 'MIN';
    const sql = `(SELECT ${aggregate}(${sortBy.column}) FROM ${sortBy.table} AS s WHERE s.pk = m.pk AND s.param = ?) ${direction} NULLS LAST`;
    return { code, desc, sql };
  });
  const [first] = keys;
  if (keys.length === 1 && first?.code === '_lastUpdated') return { by: 'lastUpdated', desc: first.desc };
  return { by: 'columns', orderBy: { sql: [...keys.map((k) => k.sql), 'm.pk'].join(', '), args } };
}

/** What a search parameter's values sort by, per parameter type: its index table and column. */
const SORT_VALUES: Partial<Record<string, { table: IndexTable; column: string }>> = {
  date: { table: 'idx_date', column: 's.lo' },
  // system, then code: char(1) sorts before anything either holds
  token: { table: 'idx_token', column: 's.system || char(1) || s.code' },
  uri: { table: 'idx_token', column: 's.code' },
  string: { table: 'idx_string', column: 's.value_lower' },
  reference: { table: 'idx_reference', column: 's.target' },
};

/** `_revinclude=Source:param[:Target]`: resources of Source whose `param` points at a match. */
function compileRevinclude(
  type: string,
  key: string,
  value: string,
  policy: IndexPolicy,
): { sourceType: string; param: string }[] {
  if (key !== '_revinclude')
    throw new OutcomeError(notSupported(`${key} is not supported; only plain _revinclude`, key));
  const [source, param, targetType, extra] = value.split(':');
  const sp = source && param && extra === undefined ? getSearchParameter(source, param) : undefined;
  if (sp?.type !== 'reference' || !(sp.target ?? []).includes(type as never)) {
    throw new OutcomeError(
      badRequest(
        `_revinclude=${value} must name a reference search parameter that can point to ${type}`,
        '_revinclude',
      ),
    );
  }
  checkIndexed(policy, source as string, sp.code, '_revinclude');
  // A target type other than the searched one can point at none of the matches.
  return targetType && targetType !== type ? [] : [{ sourceType: source as string, param: sp.code }];
}

function compileInclude(
  type: string,
  key: string,
  value: string,
  policy: IndexPolicy,
): { param: string; targetType?: string } {
  if (key !== '_include') throw new OutcomeError(notSupported(`${key} is not supported; only plain _include`, key));
  const [source, param, targetType] = value.split(':');
  const sp = source === type && param ? getSearchParameter(type, param) : undefined;
  if (sp?.type !== 'reference') {
    throw new OutcomeError(
      badRequest(`_include=${value} must name a reference search parameter of ${type}`, '_include'),
    );
  }
  checkIndexed(policy, type, sp.code, '_include');
  return targetType ? { param: sp.code, targetType } : { param: sp.code };
}

/**
 * Medplum's parser drops a resource-type modifier (`subject:Patient=123`), so it is folded into the
 * value (`subject=Patient/123`) before parsing; other keys pass through after checking the parameter.
 */
function appendFilter(filters: URLSearchParams, type: string, key: string, value: string, policy: IndexPolicy): void {
  const [code, modifier] = key.split(':') as [string, string | undefined];
  if (code !== '_id' && !searchParametersOf(type).some((p) => p.code === code)) {
    throw new OutcomeError(badRequest(`Unknown search parameter '${code}' for ${type}`, code));
  }
  if (code !== '_id') checkIndexed(policy, type, code, key);
  if (modifier && /^[A-Z]/.test(modifier)) {
    filters.append(
      code,
      value
        .split(',')
        .map((v) => (v.includes('/') ? v : `${modifier}/${v}`))
        .join(','),
    );
    return;
  }
  filters.append(key, value);
}

/** One condition on a column of an index row: `op` holds the `?` placeholders for `args`. */
interface Condition {
  column: string;
  op: string;
  args: SQLInputValue[];
}

const eq = (column: string, value: SQLInputValue): Condition => ({ column, op: '= ?', args: [value] });

/**
 * A parameter's test before it becomes SQL: the values (ORed) of one parameter, each a set of conditions
 * on one row of an index table; or a test of the resource's id; or of whether the parameter has a value.
 */
type Test =
  | { kind: 'values'; name: string; table: IndexTable; param: string; values: Condition[][]; negate: boolean }
  | { kind: 'id'; name: string; ids: string[]; negate: boolean }
  | { kind: 'missing'; name: string; table: IndexTable; param: string; missing: boolean };

type IndexTable = 'idx_token' | 'idx_reference' | 'idx_date' | 'idx_string';

/** The index with which an index table answers "does resource pk have this value?" in one seek. */
const BY_RESOURCE: Record<IndexTable, string> = {
  idx_token: 'idx_token_resource',
  idx_reference: 'idx_reference_resource',
  idx_date: 'idx_date_resource',
  idx_string: 'idx_string_resource',
};

/** The indexes that list the rows of one value (an equality on this column) in pk and in lastUpdated order. */
const ORDERED: Record<string, { byPk: string; byLastUpdated?: string }> = {
  'idx_token.code': { byPk: 'idx_token_value', byLastUpdated: 'idx_token_updated' },
  'idx_reference.target': { byPk: 'idx_reference_target', byLastUpdated: 'idx_reference_updated' },
};

function conditions(alias: string, values: Condition[]): Sql {
  return {
    sql: values.map((c) => `${alias}.${c.column} ${c.op}`).join(' AND '),
    args: values.flatMap((c) => c.args),
  };
}

function toClause(type: string, test: Test): Clause {
  const not = (test.kind === 'missing' ? test.missing : test.negate) ? 'NOT ' : '';
  if (test.kind === 'id') {
    const sql = `${not}EXISTS (SELECT 1 FROM resource AS f WHERE f.pk = m.pk AND f.id IN (${test.ids.map(() => '?').join(', ')}))`;
    return { name: test.name, filter: { sql, args: test.ids }, ...(test.negate ? {} : { ids: test.ids }) };
  }
  const seek = `SELECT 1 FROM ${test.table} AS f INDEXED BY ${BY_RESOURCE[test.table]} WHERE f.pk = m.pk AND f.param = ?`;
  if (test.kind === 'missing')
    return { name: test.name, filter: { sql: `${not}EXISTS (${seek})`, args: [test.param] } };
  const alternatives = test.values.map((v) => conditions('f', v));
  const filter: Sql = {
    sql: `${not}EXISTS (${seek} AND (${alternatives.map((a) => a.sql).join(' OR ')}))`,
    args: [test.param, ...alternatives.flatMap((a) => a.args)],
  };
  if (test.negate) return { name: test.name, filter };
  const ranges = test.values.map((value): Range => {
    const own = conditions('m', value);
    const where = { sql: `m.type = ? AND m.param = ? AND ${own.sql}`, args: [type, test.param, ...own.args] };
    const key = value.find((c) => c.op === '= ?' && ORDERED[`${test.table}.${c.column}`]);
    return { table: test.table, where, ...(key ? ORDERED[`${test.table}.${key.column}`] : {}) };
  });
  return { name: test.name, filter, ranges };
}

/**
 * `authored-on=ge2026-03-05&authored-on=lt2026-03-06` is one range on one index row (as HAPI reads it),
 * not two half-open ranges intersected: single positive bounds on the same date parameter are merged.
 */
function mergeDateBounds(tests: Test[]): Test[] {
  const bound = (t: Test): t is Extract<Test, { kind: 'values' }> =>
    t.kind === 'values' && t.table === 'idx_date' && !t.negate && t.values.length === 1;
  const out: Test[] = [];
  for (const test of tests) {
    const into = bound(test) ? out.find((o) => bound(o) && o.param === test.param) : undefined;
    if (into?.kind === 'values' && test.kind === 'values') {
      into.values = [[...(into.values[0] as Condition[]), ...(test.values[0] as Condition[])]];
    } else out.push(bound(test) ? { ...test } : test);
  }
  return out;
}

function compileFilter(type: string, filter: Filter): Test {
  if (filter.code === '_id') return compileId(filter);
  const param = getSearchParameter(type, filter.code) as SearchParameter;
  if (filter.operator === Operator.MISSING || filter.operator === Operator.PRESENT) {
    const missing = (filter.operator === Operator.MISSING) === (filter.value === 'true');
    return { kind: 'missing', name: param.code, table: tableFor(param), param: param.code, missing };
  }
  switch (param.type) {
    case 'token':
    case 'uri':
      return compileToken(param, filter);
    case 'reference':
      return compileReference(param, filter);
    case 'date':
      return compileDate(param, filter);
    case 'string':
      return compileString(param, filter);
    default:
      throw new OutcomeError(
        notSupported(`Searching on ${param.type} parameter '${param.code}' is not supported by this store`, param.code),
      );
  }
}

/**
 * Comma-separated values are ORed, each unescaped. A backslash makes the next `\`, `,`, `|` or `$` a literal
 * character (R4 search.html#escaping), as HAPI reads it: `N81002-9\,N81001-1` is one value, never two.
 */
function splitValues(value: string): string[] {
  return splitUnescaped(value, ',').map(unescapeValue);
}

/** A token's `system|code`, split at its first unescaped bar, each part unescaped; no bar is a code alone. */
function systemAndCode(raw: string): { system?: string; code: string } {
  const [first = '', ...rest] = splitUnescaped(raw, '|');
  if (!rest.length) return { code: unescapeValue(first) };
  return { system: unescapeValue(first), code: unescapeValue(rest.join('|')) };
}

/** `value` cut at each `separator` no backslash escapes; the parts keep their escapes. */
function splitUnescaped(value: string, separator: string): string[] {
  const parts: string[] = [];
  let start = 0;
  for (let i = 0; i < value.length; i++) {
    if (value[i] === '\\') i++;
    else if (value[i] === separator) {
      parts.push(value.slice(start, i));
      start = i + 1;
    }
  }
  parts.push(value.slice(start));
  return parts;
}

function unescapeValue(value: string): string {
  return value.replace(/\\([\\,|$])/g, '$1');
}

function compileId(filter: Filter): Test {
  const negate = filter.operator === Operator.NOT || filter.operator === Operator.NOT_EQUALS;
  return { kind: 'id', name: '_id', ids: splitValues(filter.value), negate };
}

function tableFor(param: SearchParameter): IndexTable {
  switch (param.type) {
    case 'token':
    case 'uri':
      return 'idx_token';
    case 'reference':
      return 'idx_reference';
    case 'date':
      return 'idx_date';
    case 'string':
      return 'idx_string';
    default:
      throw new OutcomeError(
        notSupported(`Searching on ${param.type} parameter '${param.code}' is not supported by this store`, param.code),
      );
  }
}

function valuesTest(param: SearchParameter, values: Condition[][], negate = false): Test {
  return { kind: 'values', name: param.code, table: tableFor(param), param: param.code, values, negate };
}

function compileToken(param: SearchParameter, filter: Filter): Test {
  const negate = filter.operator === Operator.NOT || filter.operator === Operator.NOT_EQUALS;
  if (!negate && filter.operator !== Operator.EQUALS && filter.operator !== Operator.EXACT) {
    throw new OutcomeError(
      notSupported(`Modifier :${filter.operator} is not supported on '${param.code}'`, param.code),
    );
  }
  const values = splitUnescaped(filter.value, ',').map((raw): Condition[] => {
    if (param.type === 'uri') return [eq('code', unescapeValue(raw))];
    const { system, code } = systemAndCode(raw);
    if (system === undefined) return [eq('code', code)];
    if (code) return [eq('code', code), eq('system', system)];
    return [eq('system', system)];
  });
  return valuesTest(param, values, negate);
}

function compileReference(param: SearchParameter, filter: Filter): Test {
  const negate = filter.operator === Operator.NOT || filter.operator === Operator.NOT_EQUALS;
  const byIdentifier = filter.operator === Operator.IDENTIFIER;
  if (!negate && !byIdentifier && filter.operator !== Operator.EQUALS) {
    throw new OutcomeError(
      notSupported(`Modifier :${filter.operator} is not supported on '${param.code}'`, param.code),
    );
  }
  const values = splitUnescaped(filter.value, ',').flatMap((raw): Condition[][] => {
    if (byIdentifier) {
      const { system, code } = systemAndCode(raw);
      if (system === undefined)
        return [[{ column: 'target', op: "LIKE ? ESCAPE '\\'", args: [`identifier:%|${escapeLike(code)}`] }]];
      return [[eq('target', identifierTarget(system, code))]];
    }
    const value = unescapeValue(raw);
    if (!value.includes('/')) return bareIdTargets(param, value);
    return [[eq('target', normalizeReference(value)?.target ?? value)]];
  });
  return valuesTest(param, values, negate);
}

/** A bare id is looked up under each target type up to this many; beyond, the parameter's rows are read. */
const MAX_BARE_ID_TYPES = 16;

/**
 * A bare id (`patient=123`) matches a reference to that id of any of the parameter's target types: one
 * exact `target` per type, each an index range, for a parameter of a few types (most: `patient` has one,
 * `owner` eight). A parameter that may point at any resource (`focus`, `subject`: 145 types) is answered
 * from its rows' `target_id`, which no index orders (a random-keyed index written for every reference
 * cost more on each write than this rare search saves): the parameter's rows are read.
 */
function bareIdTargets(param: SearchParameter, id: string): Condition[][] {
  const types = param.target ?? [];
  if (types.length === 0 || types.length > MAX_BARE_ID_TYPES) return [[eq('target_id', id)]];
  return types.map((type) => [eq('target', `${type}/${id}`)]);
}

function compileDate(param: SearchParameter, filter: Filter): Test {
  const at = (column: string, op: string, value: string): Condition => ({ column, op: `${op} ?`, args: [value] });
  const values = splitValues(filter.value).map((value): Condition[] => {
    const q = dateRange(value);
    if (!q) throw new OutcomeError(badRequest(`Invalid date '${value}' for '${param.code}'`, param.code));
    switch (filter.operator) {
      case Operator.EQUALS:
      case Operator.NOT_EQUALS:
        return [at('lo', '>=', q.lo), at('hi', '<=', q.hi)];
      case Operator.GREATER_THAN:
        return [at('hi', '>', q.hi)];
      case Operator.LESS_THAN:
        return [at('lo', '<', q.lo)];
      case Operator.GREATER_THAN_OR_EQUALS:
        return [at('hi', '>', q.lo)];
      case Operator.LESS_THAN_OR_EQUALS:
        return [at('lo', '<', q.hi)];
      case Operator.STARTS_AFTER:
        return [at('lo', '>=', q.hi)];
      case Operator.ENDS_BEFORE:
        return [at('hi', '<=', q.lo)];
      case Operator.APPROXIMATELY:
        return [at('lo', '<', q.hi), at('hi', '>', q.lo)];
      default:
        throw new OutcomeError(
          notSupported(`Prefix or modifier '${filter.operator}' is not supported on '${param.code}'`, param.code),
        );
    }
  });
  return valuesTest(param, values, filter.operator === Operator.NOT_EQUALS);
}

function compileString(param: SearchParameter, filter: Filter): Test {
  const like = (pattern: string): Condition => ({ column: 'value_lower', op: "LIKE ? ESCAPE '\\'", args: [pattern] });
  const values = splitValues(filter.value).map((value): Condition[] => {
    switch (filter.operator) {
      case Operator.EQUALS:
        return [like(`${escapeLike(value.toLowerCase())}%`)];
      case Operator.CONTAINS:
        return [like(`%${escapeLike(value.toLowerCase())}%`)];
      case Operator.EXACT:
        return [eq('value', value)];
      default:
        throw new OutcomeError(
          notSupported(`Modifier :${filter.operator} is not supported on '${param.code}'`, param.code),
        );
    }
  });
  return valuesTest(param, values);
}

function escapeLike(value: string): string {
  return value.replace(/[\\%_]/g, (c) => `\\${c}`);
}
