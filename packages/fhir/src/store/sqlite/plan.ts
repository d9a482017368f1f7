import type { SQLInputValue } from 'node:sqlite';
import type { Clause, CompiledSearch, Sort, Sql } from './query.ts';

/**
 * The order in which the candidates list a search's matches: the search's own, or pk order for a `_sort`
 * that no index lists (SyncStore then orders the matches by its sort keys).
 */
export type ListOrder = Exclude<Sort, { by: 'columns' }>;

function listOrder(sort: Sort): ListOrder {
  return sort.by === 'columns' ? { by: 'pk' } : sort;
}

/** The pk values, or the lastUpdated values, between which every match of a search lies. */
export type Window = [from: SQLInputValue, to: SQLInputValue];

/**
 * One way to list a search's matches: rows `(pk, ok)` in its list order (see ListOrder), one per
 * resource that the driving parameter matches; `ok` says whether the resource also matches every other
 * parameter, each checked with one seek. Every candidate of a search lists the same matches in the same
 * order, so whichever is read gives the same answer; they differ only in how many rows they read.
 */
export interface Candidate {
  /** The driving parameter (`resource type` when no parameter can drive). */
  driver: string;
  sql: string;
  /** The arguments; an index range reads only the part of its list inside the window. */
  args: (window: Window) => SQLInputValue[];
  /**
   * For an index range: for each value, its first and last key (pk or lastUpdated, in the list order),
   * as `first` and `last`: two seeks, no reading.
   */
  spans?: Sql[];
}

/**
 * The candidates for a search. A parameter whose index lists each value in the list order (tokens and
 * references, by pk or lastUpdated) can drive, and its reader stops at the end of the page; which of them
 * reads fewest rows depends on the data, so SyncStore races them. A date or string parameter's matches
 * must be gathered before they can be read in order, so beside those it races only when `isShort` says its
 * range is short (`next-check=le<now>` when little is due). Without a token or reference parameter, the
 * matches of a date or string parameter are gathered first, and without any, the resource type is walked.
 */
export function candidatePlans(q: CompiledSearch, isShort: (c: Clause) => boolean = () => false): Candidate[] {
  const order = listOrder(q.sort);
  const others = (driver?: Clause): Sql => all(q.clauses.filter((c) => c !== driver).map((c) => c.filter));
  const ordered = q.clauses.filter((c) => c.ranges?.length && c.ranges.every((r) => orderingIndex(r, order)));
  const byId = q.clauses.filter((c) => c.ids);
  const listed = q.clauses.filter((c) => c.ranges?.length);
  if (ordered.length || byId.length) {
    const short = listed.filter((c) => !ordered.includes(c) && isShort(c));
    return [
      ...short.map((c) => listScan(order, c, others(c))),
      ...ordered.map((c) => indexScan(order, c, others(c))),
      ...byId.map((c) => idLookup(q.type, order, c, others(c))),
    ];
  }
  if (listed.length) return listed.map((c) => listScan(order, c, others(c)));
  return [typeScan(q.type, order, others())];
}

/**
 * How many index rows a date or string parameter's ranges hold, counted no further than `limit`: at most
 * that many rows read, to tell a short range from a long one.
 */
export function rangeRowsUpTo(c: Clause, limit: number): Sql {
  const ranges = c.ranges ?? [];
  const rows = ranges.map((r) => `SELECT 1 FROM ${r.table} AS m WHERE ${r.where.sql}`).join(' UNION ALL ');
  return { sql: `SELECT count(*) AS n FROM (${rows} LIMIT ?)`, args: [...ranges.flatMap((r) => r.where.args), limit] };
}

function all(filters: Sql[]): Sql {
  if (filters.length === 0) return { sql: '1', args: [] };
  return { sql: filters.map((f) => f.sql).join(' AND '), args: filters.flatMap((f) => f.args) };
}

function orderingIndex(range: { byPk?: string; byLastUpdated?: string }, order: ListOrder): string | undefined {
  return order.by === 'pk' ? range.byPk : range.byLastUpdated;
}

/**
 * Each value's index range in the search's order, inside the window, merged (`MERGE (UNION ALL)`, no
 * sort) when there are several.
 */
function indexScan(order: ListOrder, driver: Clause, ok: Sql): Candidate {
  const ranges = driver.ranges ?? [];
  const lastUpdated = order.by === 'lastUpdated';
  const key = lastUpdated ? 'm.last_updated' : 'm.pk';
  const dir = order.by === 'lastUpdated' && order.desc ? ' DESC' : '';
  const from = (r: (typeof ranges)[number]) =>
    `FROM ${r.table} AS m INDEXED BY ${orderingIndex(r, order)} WHERE ${r.where.sql}`;
  const arms = ranges.map(
    (r) =>
      `SELECT m.pk AS pk${lastUpdated ? ', m.last_updated AS lu' : ''}, ${ok.sql} AS ok ${from(r)} AND ${key} BETWEEN ? AND ?`,
  );
  return {
    driver: driver.name,
    sql: `${arms.join(' UNION ALL ')} ORDER BY ${lastUpdated ? `lu${dir}, pk${dir}` : 'pk'}`,
    args: (window) => ranges.flatMap((r) => [...ok.args, ...r.where.args, ...window]),
    spans: ranges.map((r) => ({
      sql: `SELECT (SELECT min(${key}) ${from(r)}) AS first, (SELECT max(${key}) ${from(r)}) AS last`,
      args: [...r.where.args, ...r.where.args],
    })),
  };
}

function idLookup(type: string, order: ListOrder, driver: Clause, ok: Sql): Candidate {
  const ids = driver.ids ?? [];
  return {
    driver: driver.name,
    sql: `SELECT m.pk AS pk, ${ok.sql} AS ok FROM resource AS m WHERE m.type = ? AND m.id IN (${ids.map(() => '?').join(', ')}) AND m.deleted = 0 ORDER BY ${resourceOrder(order)}`,
    args: () => [...ok.args, type, ...ids],
  };
}

/** The driver's matches gathered first (an index range that is not in the search's order), then read in order. */
function listScan(order: ListOrder, driver: Clause, ok: Sql): Candidate {
  const ranges = driver.ranges ?? [];
  const list = ranges.map((r) => `SELECT m.pk FROM ${r.table} AS m WHERE ${r.where.sql}`).join(' UNION ALL ');
  return {
    driver: driver.name,
    sql: `SELECT m.pk AS pk, ${ok.sql} AS ok FROM resource AS m WHERE m.pk IN (${list}) ORDER BY ${resourceOrder(order)}`,
    args: () => [...ok.args, ...ranges.flatMap((r) => r.where.args)],
  };
}

function typeScan(type: string, order: ListOrder, ok: Sql): Candidate {
  return {
    driver: 'resource type',
    sql: `SELECT m.pk AS pk, ${ok.sql} AS ok FROM resource AS m WHERE m.type = ? AND m.deleted = 0 ORDER BY ${resourceOrder(order)}`,
    args: () => [...ok.args, type],
  };
}

function resourceOrder(order: ListOrder): string {
  if (order.by === 'pk') return 'm.pk';
  return order.desc ? 'm.last_updated DESC, m.pk DESC' : 'm.last_updated, m.pk';
}
