import type { AuditEvent, Organization, Patient } from '@medplum/fhirtypes';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { afterAll, describe, expect, it } from 'vitest';
import { expectOutcome } from '../contract/index.ts';
import { PROJECT_INDEX_POLICY } from './index-policy.ts';
import type { IndexPolicy } from './index-policy.ts';
import { SqliteStore } from './sqlite-store.ts';

const dir = mkdtempSync(join(tmpdir(), 'index-policy-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let files = 0;
const freshFile = (): string => join(dir, `store-${++files}.db`);

const event = (subtype: string, entity: string): AuditEvent => ({
  resourceType: 'AuditEvent',
  type: { system: 'http://dicom.nema.org/resources/ontology/DCM', code: '110110' },
  subtype: [{ system: 'urn:subtype', code: subtype }],
  action: 'C',
  outcome: '0',
  recorded: '2026-11-30T09:00:00.000Z',
  agent: [{ requestor: true, who: { reference: 'Patient/p1' }, name: 'Gateway' }],
  source: { observer: { display: 'north' } },
  entity: [{ what: { reference: entity }, role: { code: '4' } }],
});

/** The params a resource type has index rows for, in each table, as `table param`. */
function indexedParams(path: string, type: string): string[] {
  const db = new DatabaseSync(path, { readOnly: true });
  try {
    return ['idx_token', 'idx_reference', 'idx_date', 'idx_string'].flatMap((table) =>
      db
        .prepare(`SELECT DISTINCT param FROM ${table} WHERE type = ? ORDER BY param`)
        .all(type)
        .map((r) => `${table} ${r.param}`),
    );
  } finally {
    db.close();
  }
}

const patient: Patient = {
  resourceType: 'Patient',
  meta: { security: [{ system: 'urn:labels', code: 'north' }] },
  identifier: [{ system: 'https://fhir.nhs.uk/Id/nhs-number', value: '9000000009' }],
  name: [{ family: 'Ash', given: ['Alex'] }],
  gender: 'female',
  birthDate: '1970-01-01',
};

const ids = (page: { resources: { id: string }[] }) => page.resources.map((r) => r.id).sort();

describe('the index policy', () => {
  it('indexes an AuditEvent for its entity, subtype and date only, a Patient for what it is found by, and no resource for _id', async () => {
    const path = freshFile();
    const store = new SqliteStore({ path });
    await store.create(event('delivery-completed', 'Task/t1'));
    await store.create<Patient>(patient);
    await store.create<Organization>({ resourceType: 'Organization', name: 'Leeds', active: true });
    await store.close();
    expect(indexedParams(path, 'AuditEvent')).toEqual(['idx_token subtype', 'idx_reference entity', 'idx_date date']);
    expect(indexedParams(path, 'Patient')).toEqual([
      'idx_token _security',
      'idx_token identifier',
      'idx_date _lastUpdated',
    ]);
    // A type the policy does not list: every parameter but _id.
    expect(indexedParams(path, 'Organization')).toEqual([
      'idx_token active',
      'idx_date _lastUpdated',
      'idx_string name',
      'idx_string phonetic',
    ]);
  });

  it('finds AuditEvents by what it indexes, and by _id from the resource table', async () => {
    const store = new SqliteStore({ path: ':memory:' });
    const a = (await store.create(event('delivery-completed', 'Task/t1'))).resource;
    const b = (await store.create(event('delivery-refused', 'Task/t2'))).resource;
    expect(ids(await store.search('AuditEvent', { entity: 'Task/t1' }))).toEqual([a.id]);
    expect(ids(await store.search('AuditEvent', { subtype: 'urn:subtype|delivery-refused' }))).toEqual([b.id]);
    expect(ids(await store.search('AuditEvent', { date: 'ge2026-11-30' }))).toEqual([a.id, b.id].sort());
    expect(ids(await store.search('AuditEvent', { _id: b.id }))).toEqual([b.id]);
    expect(ids(await store.search('AuditEvent', { _id: b.id, _sort: '-_id' }))).toEqual([b.id]);
  });

  it('refuses a search, a sort, an _include or a _revinclude by a parameter it does not index, with a 400 naming what it does', async () => {
    const store = new SqliteStore({ path: ':memory:' });
    await store.create(event('delivery-completed', 'Task/t1'));
    await store.create<Patient>(patient);
    const refused = [
      ['AuditEvent', { action: 'C' }, 'action'],
      ['AuditEvent', { 'agent-name': 'Gateway' }, 'agent-name'],
      ['AuditEvent', { 'outcome:not': '0' }, 'outcome:not'],
      ['AuditEvent', { _sort: 'type' }, '_sort'],
      ['AuditEvent', { _include: 'AuditEvent:agent' }, '_include'],
      ['Patient', { _revinclude: 'AuditEvent:patient' }, '_revinclude'],
    ] as const;
    for (const [type, query, key] of refused) {
      const { outcome } = await expectOutcome(store.search(type, query), 400);
      expect(outcome.issue[0]?.diagnostics, `${type} ${JSON.stringify(query)}`).toMatch(
        /is not indexed by this store; AuditEvent is searched by _id, date, entity, subtype$/,
      );
      expect(outcome.issue[0]?.expression).toEqual([key]);
    }
    const { outcome } = await expectOutcome(store.search('Patient', { family: 'Ash' }), 400);
    expect(outcome.issue[0]?.diagnostics).toBe(
      "Search parameter 'family' of Patient is not indexed by this store; Patient is searched by _id, _lastUpdated, _security, identifier",
    );
    const nhsNumber = 'https://fhir.nhs.uk/Id/nhs-number|9000000009';
    expect(ids(await store.search('Patient', { identifier: nhsNumber }))).toHaveLength(1);
  });

  it('deletes the rows of the parameters a file no longer indexes, without re-indexing, when it opens under a narrower policy', async () => {
    const path = freshFile();
    const everything = new SqliteStore({ path, indexPolicy: {} });
    const a = (await everything.create(event('delivery-completed', 'Task/t1'))).resource;
    expect(ids(await everything.search('AuditEvent', { action: 'C' }))).toEqual([a.id]);
    await everything.close();
    expect(indexedParams(path, 'AuditEvent')).toContain('idx_token action');

    const project = new SqliteStore({ path });
    expect(project.reindexed).toEqual([]);
    expect(ids(await project.search('AuditEvent', { entity: 'Task/t1' }))).toEqual([a.id]);
    await project.close();
    expect(indexedParams(path, 'AuditEvent')).toEqual(['idx_token subtype', 'idx_reference entity', 'idx_date date']);
  });

  it('re-indexes a type as a file opens under a policy that indexes more of it, so older resources are found', async () => {
    const path = freshFile();
    const project = new SqliteStore({ path });
    const a = (await project.create(event('delivery-completed', 'Task/t1'))).resource;
    await project.delete('AuditEvent', (await project.create(event('delivery-refused', 'Task/t2'))).resource.id);
    await project.close();

    const wider: IndexPolicy = {
      ...PROJECT_INDEX_POLICY,
      AuditEvent: [...(PROJECT_INDEX_POLICY.AuditEvent ?? []), 'action'],
    };
    const reopened = new SqliteStore({ path, indexPolicy: wider });
    expect(reopened.reindexed).toEqual(['AuditEvent']);
    // The deleted one stays out of every index.
    expect(ids(await reopened.search('AuditEvent', { action: 'C' }))).toEqual([a.id]);
    expect(ids(await reopened.search('AuditEvent', { entity: 'Task/t1' }))).toEqual([a.id]);
    await reopened.close();

    const again = new SqliteStore({ path, indexPolicy: wider });
    expect(again.reindexed).toEqual([]);
    await again.close();

    const { AuditEvent: _listed, ...auditEventUnlisted } = PROJECT_INDEX_POLICY;
    const unlisted = new SqliteStore({ path, indexPolicy: auditEventUnlisted });
    expect(unlisted.reindexed).toEqual(['AuditEvent']);
    expect(ids(await unlisted.search('AuditEvent', { 'agent-name': 'Gateway' }))).toEqual([a.id]);
    await unlisted.close();

    // Back to the project's list (only deletes), then parameters swapped: re-indexed, the dropped ones' rows gone.
    await new SqliteStore({ path }).close();
    const swapped = new SqliteStore({ path, indexPolicy: { ...PROJECT_INDEX_POLICY, AuditEvent: ['action', 'date'] } });
    expect(swapped.reindexed).toEqual(['AuditEvent']);
    expect(ids(await swapped.search('AuditEvent', { action: 'C' }))).toEqual([a.id]);
    await swapped.close();
    expect(indexedParams(path, 'AuditEvent')).toEqual(['idx_token action', 'idx_date date']);
  });

  it('brings a file of schema version 1 (every parameter indexed, _id too, no policy recorded) in line as it opens', async () => {
    const path = freshFile();
    const store = new SqliteStore({ path, indexPolicy: {} });
    const patient = (await store.create<Patient>({ resourceType: 'Patient', gender: 'male' })).resource;
    await store.close();
    const db = new DatabaseSync(path);
    db.prepare(
      "INSERT INTO idx_token (pk, type, param, system, code, last_updated) SELECT pk, type, '_id', '', id, last_updated FROM resource",
    ).run();
    db.exec('DROP TABLE index_policy; PRAGMA user_version = 1');
    db.close();
    expect(indexedParams(path, 'Patient')).toEqual([
      'idx_token _id',
      'idx_token deceased',
      'idx_token gender',
      'idx_date _lastUpdated',
    ]);

    const reopened = new SqliteStore({ path });
    expect(reopened.reindexed).toEqual([]);
    expect(ids(await reopened.search('Patient', { _id: patient.id }))).toEqual([patient.id]);
    await reopened.close();
    expect(indexedParams(path, 'Patient')).toEqual(['idx_date _lastUpdated']);
  });
});
