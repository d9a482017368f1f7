import type { Task } from '@medplum/fhirtypes';
import { assertValid, CODE_SYSTEMS, EXTENSIONS, odsReference, SqliteStore, SYSTEMS } from '@imaging/fhir';
import { outcomeErrorOf } from '@imaging/fhir/testing';
import { describe, expect, it } from 'vitest';
import type { NewBreach, NewWatch } from './turnaround-task.ts';
import {
  breachFlag,
  breachIdentifier,
  breachOf,
  breachParties,
  breachTask,
  dueTurnaroundQuery,
  watchIdentifier,
  watchOf,
  watchTask,
  withBreachCheck,
} from './turnaround-task.ts';

const at = (iso: string) => new Date(iso);
const stored = <T extends Task>(task: T, id = 'w1'): T & { id: string } => ({
  ...task,
  id,
  meta: { ...task.meta, versionId: '3', lastUpdated: '2026-11-23T13:00:00Z' },
});

const watch: NewWatch = {
  identifier: watchIdentifier('N81001-000123', 'test'),
  correlationId: 'case-1',
  stage: 'test',
  pathway: 'ces',
  order: { reference: 'ServiceRequest/o1' },
  focus: { reference: 'ServiceRequest/o1' },
  patient: { reference: 'Patient/p1' },
  performer: 'RM1',
  from: at('2026-11-23T09:00:00Z'),
  deadlines: [
    { kind: 'ces-imaging', dueAt: at('2026-11-23T13:00:00Z') },
    { kind: 'dm01', dueAt: at('2027-01-04T09:00:00Z') },
  ],
  raised: [{ kind: 'ces-imaging', task: { reference: 'Task/b1' } }],
  state: 'watching',
  nextCheckAt: at('2027-01-04T09:00:00Z'),
  createdAt: at('2026-11-23T09:00:01Z'),
  lastModified: at('2026-11-23T13:00:00Z'),
};

const breach: NewBreach = withBreachCheck({
  identifier: breachIdentifier(watch, 'ces-imaging'),
  correlationId: 'case-1',
  kind: 'ces-imaging',
  pathway: 'ces',
  dueAt: at('2026-11-23T13:00:00Z'),
  order: { reference: 'ServiceRequest/o1' },
  focus: { reference: 'ServiceRequest/o1' },
  patient: { reference: 'Patient/p1' },
  performer: 'RM1',
  raisedAt: at('2026-11-23T13:00:05Z'),
  step: 'delegate',
  stepDueAt: at('2026-11-23T14:00:05Z'),
  recipients: [
    odsReference('RM1'),
    { type: 'PractitionerRole', identifier: { system: SYSTEMS.practitionerRole, value: 'rm1-grant' } },
  ],
  lastModified: at('2026-11-23T13:30:05Z'),
});

describe('a turnaround watch as a Task', () => {
  it('is a valid Task of our profile, owned by the provider, its due times as inputs, searchable by next check', () => {
    const task = watchTask(watch);
    expect(() => assertValid(task)).not.toThrow();
    expect(task).toMatchObject({
      status: 'in-progress',
      priority: 'stat',
      code: { coding: [{ system: CODE_SYSTEMS.taskCode, code: 'watch-turnaround' }] },
      identifier: [{ system: SYSTEMS.task, value: 'N81001-000123-turnaround-test' }],
      owner: odsReference('RM1'),
      restriction: { period: { start: '2026-11-23T09:00:00.000Z', end: '2027-01-04T09:00:00.000Z' } },
      extension: [{ url: EXTENSIONS.nextCheck, valueDateTime: '2027-01-04T09:00:00.000Z' }],
    });
    expect(
      task.input?.filter((i) => i.type?.text === 'due').map((i) => [i.type?.coding?.[0]?.code, i.valueDateTime]),
    ).toEqual([
      ['ces-imaging', '2026-11-23T13:00:00.000Z'],
      ['dm01', '2027-01-04T09:00:00.000Z'],
    ]);
  });

  it('decodes to what was encoded', () => {
    const task = stored(watchTask(watch));
    expect(watchOf(task)).toEqual({ ...watch, id: 'w1', versionId: '3', meta: task.meta });
    const finished = watchTask({ ...watch, state: 'finished', nextCheckAt: undefined });
    expect(finished.status).toBe('completed');
    expect(finished.extension).toBeUndefined();
    expect(watchTask({ ...watch, state: 'void', nextCheckAt: undefined }).status).toBe('cancelled');
  });

  it('refuses a Task that does not hold a watch, naming each problem (422)', async () => {
    const broken = stored({
      ...watchTask(watch),
      status: 'requested',
      owner: { display: 'somebody' },
      input: [{ type: { text: 'due' }, valueDateTime: 'soon' }],
    } as Task);
    const err = await outcomeErrorOf(Promise.resolve().then(() => watchOf(broken)));
    expect(err.status).toBe(422);
    expect(err.outcome.issue.map((i) => i.expression?.[0])).toEqual([
      "Task.input.where(type.text = 'pathway')",
      'Task.owner',
      'Task.status',
      "Task.input.where(type.text = 'due')[0]",
      "Task.input.where(type.text = 'due')[0]",
    ]);
  });
});

describe('a turnaround breach as a Task and a Flag', () => {
  it('is a valid Task for the provider, on the alert ladder, due for its next step', () => {
    const task = breachTask(breach);
    expect(() => assertValid(task)).not.toThrow();
    expect(task).toMatchObject({
      status: 'requested',
      priority: 'stat',
      code: { coding: [{ system: CODE_SYSTEMS.taskCode, code: 'resolve-breach' }] },
      businessStatus: { coding: [{ system: CODE_SYSTEMS.alertStep, code: 'delegate' }] },
      identifier: [{ system: SYSTEMS.task, value: 'N81001-000123-turnaround-test-ces-imaging' }],
      owner: odsReference('RM1'),
      focus: { reference: 'ServiceRequest/o1' },
      restriction: { period: { start: '2026-11-23T13:00:05.000Z', end: '2026-11-23T14:00:05.000Z' } },
      extension: [{ url: EXTENSIONS.nextCheck, valueDateTime: '2026-11-23T14:00:05.000Z' }],
    });
    expect(breachOf(stored(task, 'b1'))).toEqual({ ...breach, id: 'b1', versionId: '3', meta: stored(task).meta });
  });

  it('once resolved, is completed with when and how, and no longer checked', () => {
    const resolved = withBreachCheck({ ...breach, resolution: { at: at('2026-11-23T15:00:00Z'), how: 'done' } });
    const task = breachTask(resolved);
    expect(task.status).toBe('completed');
    expect(task.extension).toBeUndefined();
    expect(task.output).toEqual([
      { type: { text: 'resolved-at' }, valueDateTime: '2026-11-23T15:00:00.000Z' },
      { type: { text: 'resolution' }, valueString: 'done' },
    ]);
    expect(breachOf(stored(task)).resolution).toEqual({ at: at('2026-11-23T15:00:00Z'), how: 'done' });
  });

  it("climbs the provider's ladder", () => {
    expect(breachParties(breach)).toEqual({
      kind: 'resolve-breach',
      identifier: breach.identifier,
      owner: odsReference('RM1'),
      ownerOrganisation: 'RM1',
      performer: 'RM1',
    });
  });

  it('puts a valid Flag on the patient: which due time was missed, from when, until when', () => {
    const author = { identifier: { system: SYSTEMS.serviceId, value: 'imaging-midlands' } };
    const flag = breachFlag(breach, { reference: 'Patient/p1' }, author);
    expect(() => assertValid(flag)).not.toThrow();
    expect(flag).toMatchObject({
      status: 'active',
      identifier: [{ system: SYSTEMS.flag, value: breach.identifier }],
      code: { coding: [{ system: CODE_SYSTEMS.turnaroundBreach, code: 'ces-imaging' }] },
      subject: { reference: 'Patient/p1' },
      period: { start: '2026-11-23T13:00:00.000Z' },
    });
    const ended = breachFlag(
      { ...breach, resolution: { at: at('2026-11-23T15:00:00Z'), how: 'done' } },
      { reference: 'Patient/p1' },
      author,
    );
    expect(ended).toMatchObject({ status: 'inactive', period: { end: '2026-11-23T15:00:00.000Z' } });
  });
});

describe('the turnaround search', () => {
  it('finds due watches and breaches through the next-check index, by code', () => {
    expect(dueTurnaroundQuery(at('2026-11-23T10:00:00Z'), 50)).toEqual({
      'next-check': 'le2026-11-23T10:00:00.000Z',
      code: `${CODE_SYSTEMS.taskCode}|watch-turnaround,${CODE_SYSTEMS.taskCode}|resolve-breach`,
      _count: '50',
      _total: 'none',
    });
  });

  it('reads only what is due on the embedded store, however many watches wait, in the order they were made', async () => {
    const store = new SqliteStore({ path: ':memory:' });
    const due: string[] = [];
    for (let i = 0; i < 300; i++) {
      const isDue = i % 100 === 50;
      const nextCheckAt = at(isDue ? '2026-11-23T09:30:00Z' : '2027-01-04T09:00:00Z');
      const { resource } = await store.create(
        watchTask({ ...watch, identifier: watchIdentifier(`N81001-${i}`, 'test'), nextCheckAt }),
      );
      if (isDue) due.push(resource.id);
    }
    const query = dueTurnaroundQuery(at('2026-11-23T10:00:00Z'), 50);
    expect((await store.search('Task', query)).resources.map((t) => t.id)).toEqual(due);
    const { drivenBy, rowsRead } = store.explainSearch('Task', query);
    expect(drivenBy).toBe('next-check');
    // The due list's rows, and as many of the code's as the race gives it meanwhile: not the 300 watches.
    expect(rowsRead).toBeLessThanOrEqual(2 * due.length + 1);
    await store.close();
  });
});
