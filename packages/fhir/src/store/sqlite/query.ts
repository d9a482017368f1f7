import type { Filter } from '@medplum/core';
import type { SearchParameter } from '@medplum/fhirtypes';
import { getSearchParameter, Operator, parseSearchRequest } from '@medplum/core';
import type { SQLInputValue } from 'node:sqlite';
import { badRequest, notSupported, OutcomeError } from '../../outcomes.ts';
import { checkPagingParams } from '../paging.ts';
import { dateRange } from './dates.ts';
import { identifierTarget, normalizeReference, searchParametersOf } from './indexer.ts';

/** A FHIR search compiled to SQL over the `resource` table (alias `r`) and the index tables. */
export interface CompiledSearch {
  where: string;
  args: SQLInputValue[];
  orderBy: string;
  /** The parameters `orderBy` binds, after `args`. */
  orderArgs: SQLInputValue[];
  count: number;
  offset: number;
  includes: { param: string; targetType?: string }[];
  /** `_revinclude`: resources of `sourceType` whose `param` points at a match. */
  revincludes: { sourceType: string; param: string }[];
  /** The query without `_offset`, for building `next` links. */
  base: URLSearchParams;
  /** False for `_total=none`: the caller needs no count, so none is made. */
  countTotal: boolean;
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

export function compileSearch(type: string, params: URLSearchParams): CompiledSearch {
  const filters = new URLSearchParams();
  const base = new URLSearchParams();
  const paging = checkPagingParams(params);
  let count = paging.count ?? DEFAULT_COUNT;
  const offset = paging.offset ?? 0;
  let order: { orderBy: string; orderArgs: SQLInputValue[] } = { orderBy: 'r.pk', orderArgs: [] };
  let countTotal = true;
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
        count = 0;
        break;
      case '_sort':
        order = compileSort(type, key, value);
        break;
      case '_total':
        if (!['none', 'estimate', 'accurate'].includes(value))
          throw new OutcomeError(badRequest(`_total must be none, estimate or accurate, not '${value}'`, key));
        countTotal = value !== 'none';
        break;
      case '_include':
        includes.push(compileInclude(type, key, value));
        break;
      case '_revinclude':
        revincludes.push(...compileRevinclude(type, key, value));
        break;
      default:
        appendFilter(filters, type, key, value);
    }
  }

  const request = parseSearchRequest(`${type}?${filters.toString()}`);
  const compiled = mergeDateBounds(
    type,
    (request.filters ?? []).map((filter) => compileFilter(type, filter)),
  );
  // With a positive index-table filter, the index drives: each match is a rowid lookup. The unary `+`
  // keeps SQLite off the (type, ...) indexes of `resource`, which would walk every resource of the type
  // (an `_id` filter is itself an exact lookup on (type, id), so it keeps the plain form).
  const indexDriven = compiled.some((c) => c.drives) && !compiled.some((c) => c.byId);
  const clauses: string[] = indexDriven ? ['+r.type = ?', '+r.deleted = 0'] : ['r.type = ?', 'r.deleted = 0'];
  const args: SQLInputValue[] = [type];
  for (const clause of compiled) {
    clauses.push(clause.sql);
    args.push(...clause.args);
  }
  const where = clauses.join(' AND ');
  return { where, args, ...order, count, offset, includes, revincludes, base, countTotal };
}

/**
 * `_sort=a,-b`: each key a search parameter of the type. A resource with several values sorts by its
 * lowest ascending and its highest descending (as HAPI does); one without any comes last either way.
 * A token sorts by system, then code, as on HAPI.
 */
function compileSort(type: string, key: string, value: string): { orderBy: string; orderArgs: SQLInputValue[] } {
  if (key !== '_sort') throw new OutcomeError(notSupported(`${key} is not supported; sort descending with -name`, key));
  const orderArgs: SQLInputValue[] = [];
  const keys = value.split(',').map((k) => {
    const desc = k.startsWith('-');
    const code = desc ? k.slice(1) : k;
    const direction = desc ? 'DESC' : 'ASC';
    if (code === '_lastUpdated') return `r.last_updated ${direction}`;
    if (code === '_id') return `r.id ${direction}`;
    const param = getSearchParameter(type, code);
    const sortBy = param ? SORT_VALUES[param.type] : undefined;
    if (!sortBy) throw new OutcomeError(badRequest(`_sort by '${code}' is not supported on ${type}`, '_sort'));
    orderArgs.push(code);
    const aggregate = desc ? 'MAX' : 'MIN';
    return `(SELECT ${aggregate}(${sortBy.column}) FROM ${sortBy.table} s WHERE s.pk = r.pk AND s.param = ?) ${direction} NULLS LAST`;
  });
  return { orderBy: [...keys, 'r.pk'].join(', '), orderArgs };
}

/** What a search parameter's values sort by, per parameter type: its index table and column. */
const SORT_VALUES: Partial<Record<string, { table: string; column: string }>> = {
  date: { table: 'idx_date', column: 's.lo' },
  // system, then code: char(1) sorts before anything either holds
  token: { table: 'idx_token', column: 's.system || char(1) || s.code' },
  uri: { table: 'idx_token', column: 's.code' },
  string: { table: 'idx_string', column: 's.value_lower' },
  reference: { table: 'idx_reference', column: 's.target' },
};

/** `_revinclude=Source:param[:Target]`: resources of Source whose `param` points at a match. */
function compileRevinclude(type: string, key: string, value: string): { sourceType: string; param: string }[] {
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
  // A target type other than the searched one can point at none of the matches.
  return targetType && targetType !== type ? [] : [{ sourceType: source as string, param: sp.code }];
}

function compileInclude(type: string, key: string, value: string): { param: string; targetType?: string } {
  if (key !== '_include') throw new OutcomeError(notSupported(`${key} is not supported; only plain _include`, key));
  const [source, param, targetType] = value.split(':');
  const sp = source === type && param ? getSearchParameter(type, param) : undefined;
  if (sp?.type !== 'reference') {
    throw new OutcomeError(
      badRequest(`_include=${value} must name a reference search parameter of ${type}`, '_include'),
    );
  }
  return targetType ? { param: sp.code, targetType } : { param: sp.code };
}

/**
 * Medplum's parser drops a resource-type modifier (`subject:Patient=123`), so it is folded into the
 * value (`subject=Patient/123`) before parsing; other keys pass through after checking the parameter.
 */
function appendFilter(filters: URLSearchParams, type: string, key: string, value: string): void {
  const [code, modifier] = key.split(':') as [string, string | undefined];
  if (code !== '_id' && !searchParametersOf(type).some((p) => p.code === code)) {
    throw new OutcomeError(badRequest(`Unknown search parameter '${code}' for ${type}`, code));
  }
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

interface Clause {
  sql: string;
  args: SQLInputValue[];
  /** A positive lookup in an index table, which can drive the query. */
  drives?: boolean;
  /** An `_id` lookup. */
  byId?: boolean;
  /** A single positive date bound (`ge2026-03-05`), which can share one index range with another. */
  dateBound?: { param: string; condition: Clause };
}

/**
 * `authored-on=ge2026-03-05&authored-on=lt2026-03-06` is one range on one index row (as HAPI reads it),
 * not two half-open scans intersected: single positive bounds on the same date parameter are merged.
 */
function mergeDateBounds(type: string, clauses: Clause[]): Clause[] {
  const byParam = new Map<string, Clause[]>();
  for (const c of clauses)
    if (c.dateBound) byParam.set(c.dateBound.param, [...(byParam.get(c.dateBound.param) ?? []), c]);
  const out: Clause[] = [];
  for (const c of clauses) {
    const group = c.dateBound ? (byParam.get(c.dateBound.param) as Clause[]) : undefined;
    if (!group || group.length < 2) {
      out.push(c);
    } else if (group[0] === c) {
      const conditions = group.map((g) => g.dateBound?.condition as Clause);
      const merged = { sql: conditions.map((x) => x.sql).join(' AND '), args: conditions.flatMap((x) => x.args) };
      out.push(inIndex('idx_date', type, c.dateBound?.param as string, [merged]));
    }
  }
  return out;
}

function compileFilter(type: string, filter: Filter): Clause {
  if (filter.code === '_id') return compileId(filter);
  const param = getSearchParameter(type, filter.code) as SearchParameter;
  if (filter.operator === Operator.MISSING || filter.operator === Operator.PRESENT)
    return compileMissing(type, param, filter);
  switch (param.type) {
    case 'token':
    case 'uri':
      return compileToken(type, param, filter);
    case 'reference':
      return compileReference(type, param, filter);
    case 'date':
      return compileDate(type, param, filter);
    case 'string':
      return compileString(type, param, filter);
    default:
      throw new OutcomeError(
        notSupported(`Searching on ${param.type} parameter '${param.code}' is not supported by this store`, param.code),
      );
  }
}

/** Comma-separated values are ORed; `\,` is a literal comma. */
function splitValues(value: string): string[] {
  return value.split(/(?<!\\),/).map((v) => v.replaceAll('\\,', ','));
}

function inIndex(table: string, type: string, param: string, alternatives: Clause[], negate = false): Clause {
  const sql = `r.pk ${negate ? 'NOT IN' : 'IN'} (SELECT pk FROM ${table} WHERE type = ? AND param = ? AND (${alternatives
    .map((a) => a.sql)
    .join(' OR ')}))`;
  return { sql, args: [type, param, ...alternatives.flatMap((a) => a.args)], drives: !negate };
}

function compileId(filter: Filter): Clause {
  const ids = splitValues(filter.value);
  const negate = filter.operator === Operator.NOT || filter.operator === Operator.NOT_EQUALS;
  return { sql: `r.id ${negate ? 'NOT IN' : 'IN'} (${ids.map(() => '?').join(', ')})`, args: ids, byId: !negate };
}

function compileMissing(type: string, param: SearchParameter, filter: Filter): Clause {
  const table = tableFor(param);
  const missing = (filter.operator === Operator.MISSING) === (filter.value === 'true');
  return {
    sql: `r.pk ${missing ? 'NOT IN' : 'IN'} (SELECT pk FROM ${table} WHERE type = ? AND param = ?)`,
    args: [type, param.code],
  };
}

function tableFor(param: SearchParameter): string {
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

function compileToken(type: string, param: SearchParameter, filter: Filter): Clause {
  const negate = filter.operator === Operator.NOT || filter.operator === Operator.NOT_EQUALS;
  if (!negate && filter.operator !== Operator.EQUALS && filter.operator !== Operator.EXACT) {
    throw new OutcomeError(
      notSupported(`Modifier :${filter.operator} is not supported on '${param.code}'`, param.code),
    );
  }
  const alternatives = splitValues(filter.value).map((value): Clause => {
    if (param.type === 'uri' || !value.includes('|')) return { sql: 'code = ?', args: [value] };
    const bar = value.indexOf('|');
    const system = value.slice(0, bar);
    const code = value.slice(bar + 1);
    if (system && code) return { sql: '(system = ? AND code = ?)', args: [system, code] };
    if (code) return { sql: "(system = '' AND code = ?)", args: [code] };
    return { sql: 'system = ?', args: [system] };
  });
  return inIndex('idx_token', type, param.code, alternatives, negate);
}

function compileReference(type: string, param: SearchParameter, filter: Filter): Clause {
  const negate = filter.operator === Operator.NOT || filter.operator === Operator.NOT_EQUALS;
  const byIdentifier = filter.operator === Operator.IDENTIFIER;
  if (!negate && !byIdentifier && filter.operator !== Operator.EQUALS) {
    throw new OutcomeError(
      notSupported(`Modifier :${filter.operator} is not supported on '${param.code}'`, param.code),
    );
  }
  const alternatives = splitValues(filter.value).map((value): Clause => {
    if (byIdentifier) {
      const bar = value.indexOf('|');
      if (bar < 0) return { sql: 'target LIKE ?', args: [`identifier:%|${value}`] };
      return { sql: 'target = ?', args: [identifierTarget(value.slice(0, bar), value.slice(bar + 1))] };
    }
    if (!value.includes('/')) return { sql: 'target_id = ?', args: [value] };
    return { sql: 'target = ?', args: [normalizeReference(value)?.target ?? value] };
  });
  return inIndex('idx_reference', type, param.code, alternatives, negate);
}

function compileDate(type: string, param: SearchParameter, filter: Filter): Clause {
  const alternatives = splitValues(filter.value).map((value): Clause => {
    const q = dateRange(value);
    if (!q) throw new OutcomeError(badRequest(`Invalid date '${value}' for '${param.code}'`, param.code));
    switch (filter.operator) {
      case Operator.EQUALS:
      case Operator.NOT_EQUALS:
        return { sql: '(lo >= ? AND hi <= ?)', args: [q.lo, q.hi] };
      case Operator.GREATER_THAN:
        return { sql: 'hi > ?', args: [q.hi] };
      case Operator.LESS_THAN:
        return { sql: 'lo < ?', args: [q.lo] };
      case Operator.GREATER_THAN_OR_EQUALS:
        return { sql: 'hi > ?', args: [q.lo] };
      case Operator.LESS_THAN_OR_EQUALS:
        return { sql: 'lo < ?', args: [q.hi] };
      case Operator.STARTS_AFTER:
        return { sql: 'lo >= ?', args: [q.hi] };
      case Operator.ENDS_BEFORE:
        return { sql: 'hi <= ?', args: [q.lo] };
      case Operator.APPROXIMATELY:
        return { sql: '(lo < ? AND hi > ?)', args: [q.hi, q.lo] };
      default:
        throw new OutcomeError(
          notSupported(`Prefix or modifier '${filter.operator}' is not supported on '${param.code}'`, param.code),
        );
    }
  });
  const negate = filter.operator === Operator.NOT_EQUALS;
  const clause = inIndex('idx_date', type, param.code, alternatives, negate);
  if (!negate && alternatives.length === 1)
    clause.dateBound = { param: param.code, condition: alternatives[0] as Clause };
  return clause;
}

function compileString(type: string, param: SearchParameter, filter: Filter): Clause {
  const alternatives = splitValues(filter.value).map((value): Clause => {
    switch (filter.operator) {
      case Operator.EQUALS:
        return { sql: "value_lower LIKE ? ESCAPE '\\'", args: [`${escapeLike(value.toLowerCase())}%`] };
      case Operator.CONTAINS:
        return { sql: "value_lower LIKE ? ESCAPE '\\'", args: [`%${escapeLike(value.toLowerCase())}%`] };
      case Operator.EXACT:
        return { sql: 'value = ?', args: [value] };
      default:
        throw new OutcomeError(
          notSupported(`Modifier :${filter.operator} is not supported on '${param.code}'`, param.code),
        );
    }
  });
  return inIndex('idx_string', type, param.code, alternatives);
}

function escapeLike(value: string): string {
  return value.replace(/[\\%_]/g, (c) => `\\${c}`);
}
