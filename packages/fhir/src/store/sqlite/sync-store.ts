import type { Clock } from '../../ports/clock.ts';
import { globalSchema } from '@medplum/core';
import type { Resource } from '@medplum/fhirtypes';
import type { DatabaseSync, StatementSync } from 'node:sqlite';
import { badRequest, gone, multipleMatches, notFound, OutcomeError, preconditionFailed } from '../../outcomes.ts';
import type { CreateOptions, CreateResult, SearchPage, UpdateOptions, WithId } from '../port.ts';
import { indexResource } from './indexer.ts';
import type { CompiledSearch } from './query.ts';
import { compileSearch } from './query.ts';

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
 * The embedded store's operations, synchronous: node:sqlite is synchronous, and a transaction Bundle
 * runs several of them inside one SQLite transaction. Writes expect the caller to hold that
 * transaction; SqliteStore (one operation per transaction) and runTransaction (a Bundle's entries in
 * one) are the callers.
 */
export class SyncStore {
  private readonly db: DatabaseSync;
  private readonly clock: Clock;
  private readonly statements = new Map<string, StatementSync>();
  private lastStamp = 0;

  constructor(db: DatabaseSync, clock: Clock) {
    this.db = db;
    this.clock = clock;
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
    id: string = crypto.randomUUID(),
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
    this.stmt('UPDATE resource SET version = ?, last_updated = ?, deleted = 1 WHERE pk = ?').run(
      version,
      now,
      current.pk,
    );
    this.stmt('INSERT INTO resource_version (pk, version, last_updated, deleted, content) VALUES (?, ?, ?, 1, ?)').run(
      current.pk,
      version,
      now,
      current.content,
    );
    this.clearIndex(current.pk);
  }

  search<T extends Resource>(type: string, params: URLSearchParams): SearchPage<WithId<T>> {
    checkType(type);
    const q = compileSearch(type, params);
    const sql = searchSql(q);
    const total = q.countTotal || q.count === 0 ? ((this.stmt(sql.count).get(...q.args)?.n as number) ?? 0) : undefined;
    // Without a total, one row more than the page tells whether there is a next page.
    const fetched =
      q.count === 0
        ? []
        : this.stmt(sql.page).all(...q.args, ...q.orderArgs, total === undefined ? q.count + 1 : q.count, q.offset);
    const rows = fetched.slice(0, q.count);
    const resources = rows.map((r) => JSON.parse(r.content as string) as WithId<T>);
    const included = this.included(
      type,
      rows.map((r) => r.pk as number),
      q.includes,
    );
    const page: SearchPage<WithId<T>> = {
      resources,
      included: [...included, ...this.revincluded(type, resources, [...resources, ...included], q.revincludes)],
    };
    if (total !== undefined) page.total = total;
    const more = total === undefined ? fetched.length > q.count : q.offset + q.count < total;
    if (q.count > 0 && more) {
      const next = new URLSearchParams(q.base);
      next.set('_offset', String(q.offset + q.count));
      page.next = `${type}?${next.toString()}`;
    }
    return page;
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

  history<T extends Resource>(type: string, id: string): WithId<T>[] {
    const row = this.currentRow(type, id);
    if (!row) throw new OutcomeError(notFound(`${type}/${id}`));
    const versions = this.stmt(
      'SELECT content FROM resource_version WHERE pk = ? AND deleted = 0 ORDER BY version DESC',
    ).all(row.pk);
    return versions.map((v) => JSON.parse(v.content as string) as WithId<T>);
  }

  /** SQLite's query plan for a search (its count and its page query), one line per step. */
  explainSearch(type: string, params: URLSearchParams): string[] {
    checkType(type);
    const q = compileSearch(type, params);
    const sql = searchSql(q);
    const count = this.db.prepare(`EXPLAIN QUERY PLAN ${sql.count}`).all(...q.args);
    const page = this.db.prepare(`EXPLAIN QUERY PLAN ${sql.page}`).all(...q.args, ...q.orderArgs, q.count, q.offset);
    return [...count, ...page].map((row) => String(row.detail));
  }

  private included(type: string, pks: number[], includes: { param: string; targetType?: string }[]): Resource[] {
    if (includes.length === 0 || pks.length === 0) return [];
    const seen = new Set<string>();
    const out: Resource[] = [];
    for (const include of includes) {
      const targets = this.stmt(
        `SELECT DISTINCT target FROM idx_reference WHERE type = ? AND param = ? AND pk IN (${pks.map(() => '?').join(',')})`,
      ).all(type, include.param, ...pks);
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
      this.stmt('UPDATE resource SET version = ?, last_updated = ?, deleted = 0, content = ? WHERE pk = ?').run(
        version,
        now,
        content,
        pk,
      );
      this.clearIndex(pk);
    } else {
      const result = this.stmt(
        'INSERT INTO resource (type, id, version, last_updated, content) VALUES (?, ?, ?, ?, ?)',
      ).run(stored.resourceType, stored.id, version, now, content);
      pk = Number(result.lastInsertRowid);
    }
    this.stmt('INSERT INTO resource_version (pk, version, last_updated, deleted, content) VALUES (?, ?, ?, 0, ?)').run(
      pk,
      version,
      now,
      content,
    );
    this.writeIndex(pk, stored);
    return stored;
  }

  /**
   * The time for a new version: the clock's, but always after this store's previous write and after the
   * resource's previous version, so that versions and `_sort=_lastUpdated` order as they were written
   * even within one millisecond (or under a test clock that stands still).
   */
  private stamp(previous: string | undefined): string {
    let t = this.clock.now().getTime();
    const floor = Math.max(this.lastStamp, previous ? Date.parse(previous) : 0);
    if (t <= floor) t = floor + 1;
    this.lastStamp = t;
    return new Date(t).toISOString();
  }

  private writeIndex(pk: number, resource: Resource): void {
    const rows = indexResource(resource);
    const type = resource.resourceType;
    const token = this.stmt('INSERT INTO idx_token (pk, type, param, system, code) VALUES (?, ?, ?, ?, ?)');
    for (const t of rows.tokens) token.run(pk, type, t.param, t.system, t.code);
    const reference = this.stmt(
      'INSERT INTO idx_reference (pk, type, param, target, target_id) VALUES (?, ?, ?, ?, ?)',
    );
    for (const r of rows.references) reference.run(pk, type, r.param, r.target, r.targetId);
    const date = this.stmt('INSERT INTO idx_date (pk, type, param, lo, hi) VALUES (?, ?, ?, ?, ?)');
    for (const d of rows.dates) date.run(pk, type, d.param, d.lo, d.hi);
    const string = this.stmt('INSERT INTO idx_string (pk, type, param, value, value_lower) VALUES (?, ?, ?, ?, ?)');
    for (const s of rows.strings) string.run(pk, type, s.param, s.value, s.value.toLowerCase());
  }

  private clearIndex(pk: number): void {
    for (const table of ['idx_token', 'idx_reference', 'idx_date', 'idx_string']) {
      this.stmt(`DELETE FROM ${table} WHERE pk = ?`).run(pk);
    }
  }

  private currentRow(type: string, id: string): Row | undefined {
    return this.stmt('SELECT * FROM resource WHERE type = ? AND id = ?').get(type, id) as Row | undefined;
  }

  private stmt(sql: string): StatementSync {
    let statement = this.statements.get(sql);
    if (!statement) {
      statement = this.db.prepare(sql);
      this.statements.set(sql, statement);
    }
    return statement;
  }
}

function searchSql(q: CompiledSearch): { count: string; page: string } {
  return {
    count: `SELECT COUNT(*) AS n FROM resource r WHERE ${q.where}`,
    page: `SELECT r.pk, r.content FROM resource r WHERE ${q.where} ORDER BY ${q.orderBy} LIMIT ? OFFSET ?`,
  };
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
  return canonicalJson(withoutVersion(a)) === canonicalJson(withoutVersion(b));
}

function withoutVersion(r: Resource): Resource {
  const { versionId: _v, lastUpdated: _l, ...meta } = r.meta ?? {};
  return Object.keys(meta).length ? { ...r, meta } : { ...r, meta: undefined };
}

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
