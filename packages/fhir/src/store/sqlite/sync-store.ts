import type { Clock } from '../../ports/clock.ts';
import { globalSchema } from '@medplum/core';
import type { Resource } from '@medplum/fhirtypes';
import type { DatabaseSync, SQLInputValue, StatementSync } from 'node:sqlite';
import { badRequest, gone, multipleMatches, notFound, OutcomeError, preconditionFailed } from '../../outcomes.ts';
import type { CreateOptions, CreateResult, SearchPage, UpdateOptions, WithId } from '../port.ts';
import { indexResource } from './indexer.ts';
import type { IdentifierQuery } from './identifier-search.ts';
import { hasIdentifierToken, IDENTIFIER_MATCHES_SQL, identifierOnly } from './identifier-search.ts';
import type { IndexPolicy } from './index-policy.ts';
import { isIndexed } from './index-policy.ts';
import { clearIndexRows, writeIndexRows } from './index-writer.ts';
import type { Candidate, Window } from './plan.ts';
import { candidatePlans, rangeRowsUpTo } from './plan.ts';
import type { Clause, CompiledSearch, Sql } from './query.ts';
import { compileSearch } from './query.ts';
import { newResourceId } from './resource-id.ts';
import { Stamps } from './stamp.ts';

interface Row {
  pk: number;
  type: string;
  id: string;
  version: number;
  last_updated: string;
  deleted: number;
  content: string;
}

const ID_RE = /^[A-Za-z0-9\-.]{1,64}$/;

/**
 * Without `_total`, a search reads this many rows past its page and gives the total if that brings it to
 * the end of the matches: a total that comes almost free. Counting every match would cost reading them all.
 */
export const TOTAL_LOOKAHEAD = 32;

/** In the race, the reader that has found the most matches reads this many rows for each row of the others. */
const LEADER_STEPS = 8;

/**
 * A date or string range with at most this many index rows races the token and reference lists of its
 * search: gathering and sorting that few costs less than a page of theirs.
 */
const SHORT_RANGE_ROWS = 64;

/** How the embedded store runs a search (see SyncStore.explainSearch). */
export interface SearchExplanation {
  /** Each way of listing the matches: the driving parameter, its plan, and its plan for finding the window. */
  candidates: { driver: string; plan: string[]; spans: string[] }[];
  /** The plans for counting a date or string parameter's range, to tell whether it is short enough to race. */
  rangeCounts: string[][];
  /** The candidate that answered on the data as it stands, and how many rows all the candidates read. */
  drivenBy: string;
  rowsRead: number;
  /** For a `_sort` that no index lists: the plan for ordering the matches by its keys. */
  order?: string[];
  /** The plan for reading the page's resources. */
  page: string[];
  /** For each `_include`: the plan for finding what the page's matches point at. */
  includes: string[][];
}

/** A search's matches in order: all of them when `complete`, and which candidate found them. */
interface Matches {
  pks: number[];
  complete: boolean;
  driver: string;
  rowsRead: number;
}

/**
 * The embedded store's operations, synchronous: node:sqlite is synchronous, and a transaction Bundle
 * runs several of them inside one SQLite transaction. Writes expect the caller to hold that
 * transaction; SqliteStore (one operation per transaction) and runTransaction (a Bundle's entries in
 * one) are the callers.
 */
export class SyncStore {
  private readonly db: DatabaseSync;
  private readonly clock: Clock;
  private readonly policy: IndexPolicy;
  private readonly statements = new Map<string, StatementSync>();
  private readonly stamps = new Stamps();

  constructor(db: DatabaseSync, clock: Clock, policy: IndexPolicy) {
    this.db = db;
    this.clock = clock;
    this.policy = policy;
  }

  read<T extends Resource>(type: string, id: string): WithId<T> {
    checkType(type);
    const row = this.currentRow(type, id);
    if (!row) throw new OutcomeError(notFound(`${type}/${id}`));
    if (row.deleted) throw new OutcomeError(gone(`${type}/${id}`));
    return JSON.parse(row.content) as WithId<T>;
  }

  create<T extends Resource>(
    resource: T,
    options: CreateOptions = {},
    id: string = newResourceId(),
  ): CreateResult<WithId<T>> {
    checkType(resource.resourceType);
    if (options.ifNoneExist) {
      const existing = this.matchOne<T>(resource.resourceType, options.ifNoneExist);
      if (existing) return { resource: existing, created: false };
    }
    return { resource: this.writeVersion({ ...resource, id } as WithId<T>, undefined), created: true };
  }

  update<T extends Resource>(resource: WithId<T>, options: UpdateOptions = {}): WithId<T> {
    checkType(resource.resourceType);
    if (!resource.id || !ID_RE.test(resource.id)) {
      throw new OutcomeError(badRequest(`Invalid or missing id '${resource.id ?? ''}'`, `${resource.resourceType}.id`));
    }
    const current = this.currentRow(resource.resourceType, resource.id);
    if (options.ifMatch !== undefined) {
      const wanted = parseVersion(options.ifMatch);
      // No current version matches any If-Match (RFC 7232 3.1): 412, as for a stale version.
      if (!current || current.deleted) {
        throw new OutcomeError(
          preconditionFailed(
            `${resource.resourceType}/${resource.id} does not exist, so it is not at version ${wanted}`,
          ),
        );
      }
      if (String(current.version) !== wanted) {
        throw new OutcomeError(
          preconditionFailed(`${resource.resourceType}/${resource.id} is at version ${current.version}, not ${wanted}`),
        );
      }
    }
    if (current && !current.deleted && sameContent(JSON.parse(current.content) as Resource, resource)) {
      return JSON.parse(current.content) as WithId<T>; // nothing changed: no new version
    }
    return this.writeVersion(resource, current);
  }

  delete(type: string, id: string): void {
    checkType(type);
    const current = this.currentRow(type, id);
    if (!current || current.deleted) return;
    const now = this.stamp(current.last_updated);
    const version = current.version + 1;
    this.keepAsHistory(current);
    this.stmt('UPDATE resource SET version = ?, last_updated = ?, deleted = 1 WHERE pk = ?').run(
      version,
      now,
      current.pk,
    );
    clearIndexRows((sql) => this.stmt(sql), current.pk);
  }

  search<T extends Resource>(type: string, params: URLSearchParams): SearchPage<WithId<T>> {
    checkType(type);
    const byIdentifier = identifierOnly(params);
    if (byIdentifier && isIndexed(this.policy, type, 'identifier') && hasIdentifierToken(type))
      return this.reading(() => this.identifierPage<T>(type, params, byIdentifier));
    const q = compileSearch(type, params, this.policy);
    const pageEnd = q.offset + q.count;
    // One snapshot for the window, the race, the order and the page: another replica's write in between
    // could otherwise move a match out of the window, or delete one before its content is read.
    return this.reading(() => {
      const found = this.match(q, matchesNeeded(q));
      const pks =
        q.sort.by === 'columns'
          ? this.ordered(q.sort.orderBy, found.pks, q.count, q.offset)
          : found.pks.slice(q.offset, pageEnd);
      const resources = this.contents<T>(pks);
      const included = this.included(pks, q.includes);
      const page: SearchPage<WithId<T>> = {
        resources,
        included: [...included, ...this.revincluded(type, resources, [...resources, ...included], q.revincludes)],
      };
      if (q.total !== 'none' && found.complete) page.total = found.pks.length;
      if (q.count > 0 && found.pks.length > pageEnd) {
        const next = new URLSearchParams(q.base);
        next.set('_offset', String(pageEnd));
        page.next = `${type}?${next.toString()}`;
      }
      return page;
    });
  }

  /** The one resource matching a conditional query, undefined for none, 412 for several. */
  matchOne<T extends Resource>(type: string, query: string): WithId<T> | undefined {
    const params = new URLSearchParams(query);
    params.set('_count', '2');
    params.set('_total', 'none');
    const page = this.search<T>(type, params);
    if (page.resources.length > 1) throw new OutcomeError(multipleMatches(`More than one ${type} matches ${query}`));
    return page.resources[0];
  }

  /**
   * The first page of `identifier=system|value` (identifierOnly): what the search would answer, from the
   * same rows (idx_token_value, one range, in pk order), without compiling and planning a search. Nearly
   * every conditional create and every lookup by business identifier asks this.
   */
  private identifierPage<T extends Resource>(
    type: string,
    params: URLSearchParams,
    { system, code, count }: IdentifierQuery,
  ): SearchPage<WithId<T>> {
    const matches = this.stmt(IDENTIFIER_MATCHES_SQL)
      .all(type, code, system, count + 1)
      .map((row) => row.pk as number);
    const page: SearchPage<WithId<T>> = { resources: this.contents<T>(matches.slice(0, count)), included: [] };
    if (matches.length > count) {
      const next = new URLSearchParams(params);
      next.set('_offset', String(count));
      page.next = `${type}?${next.toString()}`;
    }
    return page;
  }

  /** The current content of each resource, in the order of `pks`. */
  private contents<T extends Resource>(pks: number[]): WithId<T>[] {
    const content = new Map<number, string>();
    if (pks.length) {
      for (const row of this.stmt(CONTENT_SQL).all(JSON.stringify(pks)))
        content.set(row.pk as number, row.content as string);
    }
    return pks.map((pk) => JSON.parse(content.get(pk) as string) as WithId<T>);
  }

  history<T extends Resource>(type: string, id: string): WithId<T>[] {
    const row = this.currentRow(type, id);
    if (!row) throw new OutcomeError(notFound(`${type}/${id}`));
    // The current version is the resource row's; a file written before that kept it in resource_version
    // too, so only the older versions are read from there.
    const older = this.stmt(
      'SELECT content FROM resource_version WHERE pk = ? AND version < ? AND deleted = 0 ORDER BY version DESC',
    ).all(row.pk, row.version);
    return [...(row.deleted ? [] : [row]), ...older].map((v) => JSON.parse(v.content as string) as WithId<T>);
  }

  /**
   * How a search runs: SQLite's plan for each candidate way of listing its matches, the candidate that
   * answered on the data as it stands, and the plan for reading the page's resources.
   */
  explainSearch(type: string, params: URLSearchParams): SearchExplanation {
    checkType(type);
    const q = compileSearch(type, params, this.policy);
    const explain = (sql: string, args: SQLInputValue[]): string[] =>
      this.db
        .prepare(`EXPLAIN QUERY PLAN ${sql}`)
        .all(...args)
        .map((row) => String(row.detail));
    const rangeCounts: Sql[] = [];
    const plans = candidatePlans(q, (c) => {
      rangeCounts.push(rangeRowsUpTo(c, SHORT_RANGE_ROWS + 1));
      return this.isShortRange(c);
    });
    const window = this.reading(() => this.window(plans)) ?? [null, null];
    const { driver, rowsRead } = this.reading(() => this.match(q, matchesNeeded(q)));
    const sort = q.sort.by === 'columns' ? q.sort.orderBy : undefined;
    return {
      candidates: plans.map((c) => ({
        driver: c.driver,
        plan: explain(c.sql, c.args(window)),
        spans: (c.spans ?? []).flatMap((span) => explain(span.sql, span.args)),
      })),
      rangeCounts: rangeCounts.map((count) => explain(count.sql, count.args)),
      drivenBy: driver,
      rowsRead,
      ...(sort ? { order: explain(orderSql(sort), ['[]', ...sort.args, 0, 0]) } : {}),
      page: explain(CONTENT_SQL, ['[]']),
      includes: q.includes.map((include) => explain(includeTargetsSql(2), [1, 2, include.param])),
    };
  }

  /**
   * The search's matches in order, up to `need` of them. Which parameter should drive depends on the data
   * (a status that only pending work has, an owner with years of history), so no guess is made: the
   * candidates race, and the first to find `need` matches or come to the end of its list answers. They read
   * in turn, one row each, except that the one that has found the most matches so far reads LEADER_STEPS
   * rows to the others' one: the others cost little once one is plainly better, and a list that is short, or
   * whose matches come late, still overtakes. Each candidate first skips to where every other candidate's
   * list begins, since no match lies before: an owner's years of history are skipped when the status lists
   * only recent work.
   *
   * With a bounded total, the winner then reads on for up to TOTAL_LOOKAHEAD rows: if that brings it to the
   * end of its list, the total is known.
   */
  private match(q: CompiledSearch, need: number): Matches {
    const plans = candidatePlans(q, this.isShortRange);
    const window = this.window(plans);
    if (!window) return { pks: [], complete: true, driver: (plans[0] as Candidate).driver, rowsRead: 0 };
    let rowsRead = 0;
    // Two parameters of one form (`code=s|a&_security=s|b`) give the same SQL: each reader has its own statement.
    const readers = plans.map((plan, copy) => {
      const statement = this.stmt(plan.sql, copy);
      statement.setReturnArrays(true);
      return { plan, rows: statement.iterate(...plan.args(window)), pks: [] as number[], last: -1 };
    });
    const advance = (reader: (typeof readers)[number]): boolean => {
      const next = reader.rows.next();
      if (next.done) return false;
      const row = next.value as unknown as number[]; // [pk, (lastUpdated,) ok]
      const pk = row[0] as number;
      // A resource with two values of the driving parameter comes twice, one after the other.
      if (row[row.length - 1] && pk !== reader.last) reader.pks.push(pk);
      reader.last = pk;
      rowsRead++;
      return true;
    };
    try {
      for (;;) {
        const leader = leading(readers);
        for (const reader of readers) {
          for (let step = reader === leader ? LEADER_STEPS : 1; step > 0; step--) {
            if (!advance(reader)) return { pks: reader.pks, complete: true, driver: reader.plan.driver, rowsRead };
            if (reader.pks.length < need) continue;
            let complete = false;
            if (q.total === 'bounded') {
              for (let extra = TOTAL_LOOKAHEAD; extra > 0 && !complete; extra--) complete = !advance(reader);
            }
            return { pks: reader.pks, complete, driver: reader.plan.driver, rowsRead };
          }
        }
      }
    } finally {
      for (const reader of readers) reader.rows.return?.();
    }
  }

  /**
   * The keys (pk or lastUpdated) between which every match lies: from the latest first key of the index
   * lists to the earliest last one. Undefined when a list is empty or the lists do not overlap: nothing
   * matches. Lists that are not index ranges do not narrow it.
   */
  private window(plans: Candidate[]): Window | undefined {
    type Key = number | string; // pk, or lastUpdated as an ISO instant: both compare in order
    let from: Key | undefined;
    let to: Key | undefined;
    for (const [copy, plan] of plans.entries()) {
      if (!plan.spans) continue;
      let first: Key | undefined;
      let last: Key | undefined;
      for (const span of plan.spans) {
        const row = this.stmt(span.sql, copy).get(...span.args) as { first: Key | null; last: Key | null };
        if (row.first === null || row.last === null) continue; // this value has no rows
        if (first === undefined || row.first < first) first = row.first;
        if (last === undefined || row.last > last) last = row.last;
      }
      if (first === undefined || last === undefined) return undefined;
      if (from === undefined || first > from) from = first;
      if (to === undefined || last < to) to = last;
    }
    // No index list to narrow it: the candidates read without a window.
    if (from === undefined || to === undefined) return [null, null];
    return from <= to ? [from, to] : undefined;
  }

  /**
   * A page of the matches in a `_sort` order that no index lists: each match's sort keys are read with one
   * seek per key, and the matches sorted (a temporary B-tree, over the matches only).
   */
  private ordered(orderBy: Sql, pks: number[], count: number, offset: number): number[] {
    if (count === 0 || pks.length <= offset) return [];
    return this.stmt(orderSql(orderBy))
      .all(JSON.stringify(pks), ...orderBy.args, count, offset)
      .map((row) => row.pk as number);
  }

  private included(pks: number[], includes: { param: string; targetType?: string }[]): Resource[] {
    if (includes.length === 0 || pks.length === 0) return [];
    const seen = new Set<string>();
    const out: Resource[] = [];
    for (const include of includes) {
      const targets = this.stmt(includeTargetsSql(pks.length)).all(...pks, include.param);
      for (const { target } of targets) {
        const [targetType, targetId] = String(target).split('/');
        if (
          !targetType ||
          !targetId ||
          (include.targetType && include.targetType !== targetType) ||
          seen.has(String(target))
        )
          continue;
        seen.add(String(target));
        const row = this.currentRow(targetType, targetId);
        if (row && !row.deleted) out.push(JSON.parse(row.content) as Resource);
      }
    }
    return out;
  }

  /** `_revinclude`: what points at the matches, each once, and none already on the page. */
  private revincluded(
    type: string,
    matches: Resource[],
    onPage: Resource[],
    revincludes: { sourceType: string; param: string }[],
  ): Resource[] {
    if (revincludes.length === 0 || matches.length === 0) return [];
    const targets = matches.map((m) => `${type}/${m.id}`);
    const seen = new Set(onPage.map((r) => `${r.resourceType}/${r.id}`));
    const out: Resource[] = [];
    for (const { sourceType, param } of revincludes) {
      // Index rows exist only for current, undeleted versions.
      const rows = this.stmt(
        `SELECT DISTINCT r.pk, r.content FROM idx_reference x JOIN resource r ON r.pk = x.pk WHERE x.type = ? AND x.param = ? AND x.target IN (${targets.map(() => '?').join(',')}) ORDER BY r.pk`,
      ).all(sourceType, param, ...targets);
      for (const row of rows) {
        const resource = JSON.parse(row.content as string) as Resource;
        const key = `${resource.resourceType}/${resource.id}`;
        if (seen.has(key)) continue;
        seen.add(key);
        out.push(resource);
      }
    }
    return out;
  }

  private writeVersion<T extends Resource>(resource: WithId<T>, current: Row | undefined): WithId<T> {
    const now = this.stamp(current?.last_updated);
    const version = (current?.version ?? 0) + 1;
    const stored = {
      ...resource,
      meta: { ...resource.meta, versionId: String(version), lastUpdated: now },
    } as WithId<T>;
    const content = JSON.stringify(stored);
    let pk: number;
    if (current) {
      pk = current.pk;
      this.keepAsHistory(current);
      this.stmt('UPDATE resource SET version = ?, last_updated = ?, deleted = 0, content = ? WHERE pk = ?').run(
        version,
        now,
        content,
        pk,
      );
    } else {
      const result = this.stmt(
        'INSERT INTO resource (type, id, version, last_updated, content) VALUES (?, ?, ?, ?, ?)',
      ).run(stored.resourceType, stored.id, version, now, content);
      pk = Number(result.lastInsertRowid);
    }
    // A deleted resource has no index rows: its new version's are all new.
    const replacing = current !== undefined && !current.deleted;
    writeIndexRows(
      (sql) => this.stmt(sql),
      pk,
      stored.resourceType,
      now,
      indexResource(stored, this.policy),
      replacing,
    );
    return stored;
  }

  /**
   * Writes the index rows of every current resource of `type` again, under this store's policy (the caller
   * holds the write transaction): for a file indexed under another policy (index-policy.ts). Each goes
   * through the writer's own comparison with the stored rows, as an update does: only what the policy
   * adds or drops is written.
   */
  reindexType(type: string): void {
    const prepare = (sql: string) => this.stmt(sql);
    for (const row of this.db
      .prepare('SELECT pk, last_updated, content FROM resource WHERE type = ? AND deleted = 0')
      .iterate(type)) {
      const rows = indexResource(JSON.parse(String(row.content)) as Resource, this.policy);
      writeIndexRows(prepare, Number(row.pk), type, String(row.last_updated), rows, true);
    }
  }

  /**
   * Keeps the version a write is about to replace in resource_version, which holds every version but the
   * current one (the resource row holds that): a create writes its content once, not twice. A file written
   * before that holds the current version there too, hence OR IGNORE.
   */
  private keepAsHistory(current: Row): void {
    this.stmt(
      'INSERT OR IGNORE INTO resource_version (pk, version, last_updated, deleted, content) VALUES (?, ?, ?, ?, ?)',
    ).run(current.pk, current.version, current.last_updated, current.deleted, current.content);
  }

  /** The time for a new version: the clock's, after this store's previous write and the resource's previous version. */
  private stamp(previous: string | undefined): string {
    return this.stamps.next(this.clock.now().getTime(), previous);
  }

  /** Runs `work` in a read transaction, unless the caller already holds a transaction. */
  private reading<R>(work: () => R): R {
    if (this.db.isTransaction) return work();
    this.db.exec('BEGIN');
    try {
      return work();
    } finally {
      this.db.exec('COMMIT');
    }
  }

  private currentRow(type: string, id: string): Row | undefined {
    return this.stmt('SELECT * FROM resource WHERE type = ? AND id = ?').get(type, id) as Row | undefined;
  }

  /** Whether a date or string parameter's index range is short enough to race (SHORT_RANGE_ROWS). */
  private readonly isShortRange = (c: Clause): boolean => {
    const { sql, args } = rangeRowsUpTo(c, SHORT_RANGE_ROWS + 1);
    return Number(this.stmt(sql).get(...args)?.n) <= SHORT_RANGE_ROWS;
  };

  /** A prepared statement, kept for reuse; `copy` tells apart statements of one SQL read at the same time. */
  private stmt(sql: string, copy = 0): StatementSync {
    const key = copy ? `${copy}\u0000${sql}` : sql;
    let statement = this.statements.get(key);
    if (!statement) {
      statement = this.db.prepare(sql);
      this.statements.set(key, statement);
    }
    return statement;
  }
}

/** The reader that has found the most matches, if one has found more than every other. */
function leading<R extends { pks: number[] }>(readers: R[]): R | undefined {
  let best: R | undefined;
  let tie = false;
  for (const reader of readers) {
    if (!best || reader.pks.length > best.pks.length) [best, tie] = [reader, false];
    else if (reader.pks.length === best.pks.length) tie = true;
  }
  return tie || !best?.pks.length ? undefined : best;
}

/**
 * How many matches a search reads: one past its page, which tells whether there is a next page; all of
 * them for an accurate total, or for a `_sort` no index lists, which orders every match.
 */
function matchesNeeded(q: CompiledSearch): number {
  if (q.total === 'accurate' || q.sort.by === 'columns') return Number.POSITIVE_INFINITY;
  return q.offset + q.count + 1;
}

/** A page of the matches in the order of `orderBy`: the pks as one JSON array, then its arguments, LIMIT and OFFSET. */
function orderSql(orderBy: Sql): string {
  return `SELECT m.pk AS pk FROM resource AS m WHERE m.pk IN (SELECT value FROM json_each(?)) ORDER BY ${orderBy.sql} LIMIT ? OFFSET ?`;
}

/** A page's resources by pk, the pks passed as one JSON array. */
const CONTENT_SQL = 'SELECT pk, content FROM resource WHERE pk IN (SELECT value FROM json_each(?))';

/**
 * What a page's matches point at through one `_include` parameter. Driven by the page's pks
 * (idx_reference_resource): the type and param as a prefix would read every row of the param, a list that
 * grows with the store. The pks are all of the searched type, so the type needs no test.
 */
function includeTargetsSql(pkCount: number): string {
  return `SELECT DISTINCT target FROM idx_reference WHERE pk IN (${Array(pkCount).fill('?').join(',')}) AND param = ?`;
}

function checkType(type: string): void {
  if (!globalSchema.types[type] || !/^[A-Z][A-Za-z]+$/.test(type) || type === 'Resource' || type === 'DomainResource') {
    throw new OutcomeError(badRequest(`Unknown resource type '${type}'`, 'resourceType'));
  }
}

/** Accepts `3`, `"3"` and `W/"3"`. */
function parseVersion(ifMatch: string): string {
  return ifMatch.replace(/^W\//, '').replaceAll('"', '');
}

/** Same content, ignoring the version and timestamp the store itself sets. */
function sameContent(a: Resource, b: Resource): boolean {
  const [x, y] = [withoutVersion(a), withoutVersion(b)];
  return sameJson(x, y) ?? canonicalJson(x) === canonicalJson(y);
}

function withoutVersion(r: Resource): Resource {
  const { versionId: _v, lastUpdated: _l, ...meta } = r.meta ?? {};
  return Object.keys(meta).length ? { ...r, meta } : { ...r, meta: undefined };
}

/** The JSON of a value with its objects' keys in order and undefined members left out. */
function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(
          Object.entries(v as Record<string, unknown>)
            .filter(([, x]) => x !== undefined)
            .sort(([a], [b]) => (a < b ? -1 : 1)),
        )
      : v,
  );
}

/**
 * Whether two values have the same canonicalJson, found by walking them, so that it stops at the first
 * difference and builds no strings: an update almost always changes something. Undefined when a value is
 * not plain JSON data (a Date, a function, NaN…), which only canonicalJson itself can tell.
 */
function sameJson(a: unknown, b: unknown): boolean | undefined {
  if (a === b) return true;
  const [kindA, kindB] = [jsonKind(a), jsonKind(b)];
  if (kindA === undefined || kindB === undefined) return undefined;
  if (kindA !== kindB || (kindA !== 'array' && kindA !== 'object')) return false;
  if (kindA === 'array') {
    const [x, y] = [a as unknown[], b as unknown[]];
    if (x.length !== y.length) return false;
    for (let i = 0; i < x.length; i++) {
      // JSON writes an undefined array member as null
      const same = sameJson(x[i] ?? null, y[i] ?? null);
      if (same !== true) return same;
    }
    return true;
  }
  const [x, y] = [a as Record<string, unknown>, b as Record<string, unknown>];
  let members = 0;
  for (const key of Object.keys(x)) {
    if (x[key] === undefined) continue;
    members++;
    if (y[key] === undefined || !Object.hasOwn(y, key)) return jsonKind(x[key]) === undefined ? undefined : false;
    const same = sameJson(x[key], y[key]);
    if (same !== true) return same;
  }
  for (const key of Object.keys(y)) {
    if (y[key] === undefined) continue;
    if (jsonKind(y[key]) === undefined) return undefined;
    members--;
  }
  return members === 0;
}

/** The JSON type of plain data; undefined for what JSON.stringify turns into something else or leaves out. */
function jsonKind(v: unknown): 'null' | 'string' | 'number' | 'boolean' | 'array' | 'object' | undefined {
  if (v === null) return 'null';
  switch (typeof v) {
    case 'string':
      return 'string';
    case 'boolean':
      return 'boolean';
    case 'number':
      return Number.isFinite(v) ? 'number' : undefined;
    case 'object': {
      if (Array.isArray(v)) return 'array';
      const proto = Object.getPrototypeOf(v);
      return (proto === Object.prototype || proto === null) && !('toJSON' in v) ? 'object' : undefined;
    }
    default:
      return undefined;
  }
}
