import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type {
  AuditEvent,
  Communication,
  DiagnosticReport,
  ImagingStudy,
  ServiceRequest,
  Task,
} from '@medplum/fhirtypes';
import {
  CAUDA_EQUINA_SYNDROME,
  CODE_SYSTEMS,
  DICOM_UID_SYSTEM,
  EXTENSIONS,
  IMAGING_PROCEDURE_CODES,
  odsReference,
  procedureCodings,
  searchAll,
  SqliteStore,
  suspectedCancerCategory,
  SYSTEMS,
  validatingStore,
} from '@imaging/fhir';
import type { FhirStore, WithId } from '@imaging/fhir';
import { exampleEndpoint, exampleImagingStudy } from '@imaging/fhir/examples';
import { twoDeliveredOrders } from '../testing/pathway.ts';
import { afterAll, describe, expect, it } from 'vitest';
import { auditsOf, communications } from '../testing/alerts.ts';
import { GP, RIS, testRegions } from '../testing/regions.ts';
import { meetingPoint, recordingSearches } from '../testing/stores.ts';
import {
  breachTasks,
  flags,
  issueFinalReport,
  recordStudy,
  turnaroundCase,
  turnaroundWatches,
} from '../testing/turnaround.ts';
import { checkTurnarounds } from './breaches.ts';
import { deliverDue } from './delivery.ts';
import type { GatewayDeps } from './ports.ts';
import { registerEndpoint } from './registrations.ts';
import { recordImagingStudy } from './results.ts';
import { runSafetyPass } from './safety.ts';
import { updateTask } from './tasks.ts';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const CES_ORDER = {
  priority: 'stat' as const,
  code: { coding: procedureCodings(IMAGING_PROCEDURE_CODES.mriLumbosacralSpine) },
  reasonCode: [{ coding: [CAUDA_EQUINA_SYNDROME] }],
};
const step = (task: Task | undefined) => task?.businessStatus?.coding?.[0]?.code;
const nextCheck = (task: Task | undefined) =>
  task?.extension?.find((e) => e.url === EXTENSIONS.nextCheck)?.valueDateTime;
const dueTimes = (task: Task | undefined) =>
  task?.input?.filter((i) => i.type?.text === 'due').map((i) => [i.type?.coding?.[0]?.code, i.valueDateTime]);
const detail = (event: AuditEvent | undefined) =>
  Object.fromEntries((event?.entity ?? []).flatMap((e) => e.detail ?? []).map((d) => [d.type, d.valueString]));
const to = (all: Communication[], id: string) =>
  all.filter((c) => c.recipient?.some((r) => r.identifier?.value === id));
const later = (start: Date, ms: number) => new Date(start.getTime() + ms).toISOString();

const temp = mkdtempSync(join(tmpdir(), 'breaches-'));
afterAll(() => rmSync(temp, { recursive: true, force: true }));

describe('watching an order', () => {
  it("is done in the region that serves the performer, from the order's arrival, with its pathway's due times", async () => {
    const regions = testRegions();
    const start = regions.clock.now();
    const { deps: midlands, order } = await turnaroundCase(regions, { order: CES_ORDER });
    expect(await turnaroundWatches(regions.north)).toEqual([]);
    const [watch] = await turnaroundWatches(midlands);
    expect(watch).toMatchObject({
      status: 'in-progress',
      priority: 'stat',
      focus: { reference: `ServiceRequest/${order.id}` },
      owner: odsReference('RM1'),
      identifier: [{ system: SYSTEMS.task, value: 'N81001-000123-turnaround-test' }],
    });
    expect(dueTimes(watch)).toEqual([
      ['ces-imaging', later(start, 4 * HOUR)],
      ['dm01', later(start, 42 * DAY)],
    ]);
    expect(nextCheck(watch)).toBe(later(start, 4 * HOUR));
  });

  it('is done where the order is placed when that region also serves the performer', async () => {
    const regions = testRegions();
    const { deps: north } = await turnaroundCase(regions, { performer: 'RN1' });
    expect(await turnaroundWatches(north)).toHaveLength(1);
    expect(await turnaroundWatches(regions.midlands)).toEqual([]);
  });

  it('runs the due times from when the request reached the region, if it claims to be made later', async () => {
    const regions = testRegions();
    const start = regions.clock.now();
    const { deps } = await turnaroundCase(regions, { order: { authoredOn: later(start, 30 * DAY) } });
    expect(dueTimes((await turnaroundWatches(deps))[0])).toEqual([['dm01', later(start, 42 * DAY)]]);
  });

  it('is not done with the safety layer off', async () => {
    const regions = testRegions();
    regions.midlands.safety = false;
    const { deps } = await turnaroundCase(regions, { order: CES_ORDER });
    expect(await turnaroundWatches(deps)).toEqual([]);
    expect(await runSafetyPass(deps)).toBeUndefined();
  });
});

describe('a suspected-CES MRI not done within 4 hours', () => {
  it('raises a breach: a Task for the provider, a Flag on the patient, the provider told, audited', async () => {
    const regions = testRegions();
    const start = regions.clock.now();
    const { deps: midlands, order } = await turnaroundCase(regions, { order: CES_ORDER });
    regions.clock.advance(4 * HOUR - 1);
    expect(await checkTurnarounds(midlands)).toEqual({ breached: 0, escalated: 0, resolved: 0, raced: 0, failed: 0 });
    regions.clock.advance(1);
    expect(await checkTurnarounds(midlands)).toMatchObject({ breached: 1, failed: 0 });

    const [breach] = await breachTasks(midlands);
    expect(breach).toMatchObject({
      status: 'requested',
      priority: 'stat',
      owner: odsReference('RM1'),
      focus: { reference: `ServiceRequest/${order.id}` },
      basedOn: [{ reference: `ServiceRequest/${order.id}` }],
      for: order.subject,
      restriction: { recipient: [odsReference('RM1')] },
    });
    expect(step(breach)).toBe('provider');
    expect(nextCheck(breach)).toBe(later(start, 4 * HOUR + 30 * MINUTE));
    // Visible to the provider (and the requester), like the rest of the case.
    expect(breach?.meta?.security?.map((s) => s.code).sort()).toEqual(['N81001', 'RM1']);

    const [flag] = await flags(midlands);
    expect(flag).toMatchObject({
      status: 'active',
      subject: order.subject,
      code: { coding: [{ system: CODE_SYSTEMS.turnaroundBreach, code: 'ces-imaging' }] },
      period: { start: later(start, 4 * HOUR) },
    });
    const [told] = to(await communications(midlands), 'RM1');
    expect(told?.payload?.[0]?.contentString).toBe(
      'Suspected cauda equina syndrome: MRI not done in time (Suspected cauda equina syndrome).',
    );
    const [raised] = await auditsOf(midlands, 'breach-raised');
    expect(detail(raised)).toMatchObject({
      breach: 'ces-imaging',
      pathway: 'ces',
      due: later(start, 4 * HOUR),
      recipient: 'RM1',
    });
    // The watch raised it, and waits for DM01 now.
    const [watch] = await turnaroundWatches(midlands);
    expect(watch?.output?.map((o) => o.type?.coding?.[0]?.code)).toEqual(['ces-imaging']);
    expect(nextCheck(watch)).toBe(later(start, 42 * DAY));
    // Nothing more until the breach's first step window has passed.
    expect(await checkTurnarounds(midlands)).toMatchObject({ breached: 0, escalated: 0 });
  });

  it("climbs the provider's ladder one step per window, an AuditEvent each, and closes when the MRI is done", async () => {
    const regions = testRegions();
    const start = regions.clock.now();
    const { deps: midlands, provider, order } = await turnaroundCase(regions, { order: CES_ORDER });
    regions.clock.advance(4 * HOUR);
    await checkTurnarounds(midlands);
    const ladder: [string, string][] = [
      ['delegate', 'rm1-grant'],
      ['responsible', 'rm1-hall'],
      ['fail-safe-officer', 'midlands-failsafe'],
      ['fail-safe-officer', 'midlands-failsafe'],
    ];
    for (const [expected, recipient] of ladder) {
      regions.clock.advance(30 * MINUTE - 1);
      expect(await checkTurnarounds(midlands)).toMatchObject({ escalated: 0 });
      regions.clock.advance(1);
      expect(await checkTurnarounds(midlands)).toMatchObject({ escalated: 1, failed: 0 });
      const [breach] = await breachTasks(midlands);
      expect(step(breach)).toBe(expected);
      expect(to(await communications(midlands), recipient).at(-1)?.reasonCode?.[0]?.text).toBe(
        'Suspected cauda equina syndrome: MRI not done in time: not resolved in time',
      );
    }
    const escalations = await auditsOf(midlands, 'breach-escalated');
    expect(escalations.map((e) => [detail(e).from, detail(e).to, detail(e).reminder])).toEqual([
      ['provider', 'delegate', undefined],
      ['delegate', 'responsible', undefined],
      ['responsible', 'fail-safe-officer', undefined],
      ['fail-safe-officer', 'fail-safe-officer', 'true'],
    ]);

    // Recorded ten minutes on, for a scan it says was five minutes on: the breach ends when it was recorded.
    const scanned = new Date(regions.clock.now().getTime() + 5 * MINUTE);
    regions.clock.advance(10 * MINUTE);
    const recorded = regions.clock.now();
    await recordStudy(midlands, provider, order, scanned);
    regions.clock.advance(20 * MINUTE); // the next step was due: the breach is found resolved instead
    expect(await checkTurnarounds(midlands)).toMatchObject({ resolved: 1, escalated: 0 });
    const [breach] = await breachTasks(midlands);
    expect(breach?.status).toBe('completed');
    expect(nextCheck(breach)).toBeUndefined();
    expect(breach?.output).toEqual([
      { type: { text: 'resolved-at' }, valueDateTime: recorded.toISOString() },
      { type: { text: 'resolution' }, valueString: 'done' },
    ]);
    const [flag] = await flags(midlands);
    expect(flag).toMatchObject({
      status: 'inactive',
      period: { start: later(start, 4 * HOUR), end: recorded.toISOString() },
    });
    expect(detail((await auditsOf(midlands, 'breach-resolved'))[0])).toMatchObject({
      breach: 'ces-imaging',
      resolution: 'done',
    });
    regions.clock.advance(30 * MINUTE);
    expect(await checkTurnarounds(midlands)).toMatchObject({ escalated: 0, breached: 0 });
  });

  it('is no breach when the MRI is done in time: the watch finishes at its due time', async () => {
    const regions = testRegions();
    const { deps: midlands, provider, order } = await turnaroundCase(regions, { order: CES_ORDER });
    regions.clock.advance(3.5 * HOUR);
    await recordStudy(midlands, provider, order, regions.clock.now());
    regions.clock.advance(0.5 * HOUR);
    expect(await checkTurnarounds(midlands)).toMatchObject({ breached: 0, failed: 0 });
    const watches = await turnaroundWatches(midlands);
    const test = watches.find((w) => w.identifier?.[0]?.value?.endsWith('-test'));
    expect(test?.status).toBe('completed');
    expect(nextCheck(test)).toBeUndefined();
    expect(await breachTasks(midlands)).toEqual([]);
  });

  it('is recorded, already resolved, when the MRI came late while the safety job was not running', async () => {
    const regions = testRegions();
    const start = regions.clock.now();
    const { deps: midlands, provider, order } = await turnaroundCase(regions, { order: CES_ORDER });
    regions.clock.advance(5 * HOUR);
    await recordStudy(midlands, provider, order, regions.clock.now());
    regions.clock.advance(0.5 * HOUR); // before the CES report itself is due, an hour after the exam
    expect(await checkTurnarounds(midlands)).toMatchObject({ breached: 1 });
    const [breach] = await breachTasks(midlands);
    expect(breach?.status).toBe('completed');
    expect(nextCheck(breach)).toBeUndefined();
    expect((await flags(midlands))[0]).toMatchObject({
      status: 'inactive',
      period: { start: later(start, 4 * HOUR), end: later(start, 5 * HOUR) },
    });
    expect(to(await communications(midlands), 'RM1')).toEqual([]); // nothing left for anyone to do
    expect(detail((await auditsOf(midlands, 'breach-raised'))[0])).toMatchObject({ resolved: 'done' });
  });

  it('is no breach when the order was cancelled before its due time', async () => {
    const regions = testRegions();
    const { deps: midlands } = await turnaroundCase(regions, { order: CES_ORDER });
    const [task] = await searchAll<Task>(regions.north.store, 'Task', {
      code: `${CODE_SYSTEMS.taskCode}|fulfil`,
    });
    await updateTask(
      regions.north,
      GP,
      task?.id as string,
      { ...task, status: 'cancelled' } as Task,
      task?.meta?.versionId,
      'case-1',
    );
    await deliverDue(regions.north);
    regions.clock.advance(4 * HOUR);
    expect(await checkTurnarounds(midlands)).toMatchObject({ breached: 0, failed: 0 });
    const [watch] = await turnaroundWatches(midlands);
    expect(watch?.status).toBe('cancelled');
    expect(nextCheck(watch)).toBeUndefined();
  });
});

describe('the other due times', () => {
  it('raises DM01 for a request untested 6 weeks after it was made, escalating a day at a time', async () => {
    const regions = testRegions();
    const { deps: midlands, order } = await turnaroundCase(regions);
    regions.clock.advance(42 * DAY - 1);
    expect(await checkTurnarounds(midlands)).toMatchObject({ breached: 0 });
    regions.clock.advance(1);
    expect(await checkTurnarounds(midlands)).toMatchObject({ breached: 1 });
    const [breach] = await breachTasks(midlands);
    expect(breach).toMatchObject({ priority: 'routine', focus: { reference: `ServiceRequest/${order.id}` } });
    expect((await flags(midlands))[0]?.code?.coding?.[0]?.code).toBe('dm01');
    regions.clock.advance(DAY);
    expect(await checkTurnarounds(midlands)).toMatchObject({ escalated: 1 });
    expect(step((await breachTasks(midlands))[0])).toBe('delegate');
  });

  it('raises an urgent report not issued by its due time, then the 28-day maximum, each on the study, until it is', async () => {
    const regions = testRegions();
    const { deps: midlands, provider, order } = await turnaroundCase(regions, { order: { priority: 'urgent' } });
    regions.clock.advance(DAY);
    const study = await recordStudy(midlands, provider, order, regions.clock.now());
    const report = (await turnaroundWatches(midlands)).find((w) => w.identifier?.[0]?.value?.endsWith('-report'));
    expect(report?.focus).toEqual({ reference: `ImagingStudy/${study.id}` });
    expect(dueTimes(report)).toEqual([
      ['report-overdue', later(regions.clock.now(), 2 * DAY)],
      ['reporting-tat', later(regions.clock.now(), 28 * DAY)],
    ]);
    regions.clock.advance(2 * DAY);
    expect(await checkTurnarounds(midlands)).toMatchObject({ breached: 1 });
    regions.clock.advance(26 * DAY);
    expect(await checkTurnarounds(midlands)).toMatchObject({ breached: 1 });
    const breaches = await breachTasks(midlands);
    expect(breaches.map((b) => [b.input?.[0]?.valueCoding?.code, b.focus?.reference]).sort()).toEqual([
      ['report-overdue', `ImagingStudy/${study.id}`],
      ['reporting-tat', `ImagingStudy/${study.id}`],
    ]);
    await issueFinalReport(midlands, provider, order, { category: 'NONE', issued: regions.clock.now() });
    regions.clock.advance(4 * HOUR); // both breaches' next steps were due: both are found resolved instead
    expect(await checkTurnarounds(midlands)).toMatchObject({ resolved: 2, escalated: 0 });
    expect((await breachTasks(midlands)).map((b) => b.status)).toEqual(['completed', 'completed']);
    expect((await flags(midlands)).map((f) => f.status)).toEqual(['inactive', 'inactive']);
  });

  it('puts a suspected-cancer report on its own due time', async () => {
    const regions = testRegions();
    const {
      deps: midlands,
      provider,
      order,
    } = await turnaroundCase(regions, {
      order: { category: [suspectedCancerCategory()] },
    });
    await recordStudy(midlands, provider, order, regions.clock.now());
    const report = (await turnaroundWatches(midlands)).find((w) => w.identifier?.[0]?.value?.endsWith('-report'));
    expect(report?.priority).toBe('urgent');
    expect(dueTimes(report)?.[0]).toEqual(['report-overdue', later(regions.clock.now(), 3 * DAY)]);
  });
});

describe('the turnaround pass', () => {
  it('reads only what is due, through the next-check index', async () => {
    const regions = testRegions();
    const { deps: midlands, order } = await turnaroundCase(regions, { order: CES_ORDER });
    regions.clock.advance(4 * HOUR);
    const queries: string[] = [];
    await checkTurnarounds({ ...midlands, store: recordingSearches(midlands.store, queries) });
    const codes = ['watch-turnaround', 'resolve-breach'].map((c) => `${CODE_SYSTEMS.taskCode}|${c}`).join(',');
    expect(queries[0]).toBe(
      `Task?next-check=le${encodeURIComponent(regions.clock.now().toISOString())}&code=${encodeURIComponent(codes)}&_count=100&_total=none&_sort=next-check`,
    );
    // Then only the case's own resources, by its order: nothing else of the store's history.
    const orderRef = encodeURIComponent(`ServiceRequest/${order.id}`);
    expect(queries.slice(1)).toEqual([
      `Task?focus=${orderRef}&code=${encodeURIComponent(`${CODE_SYSTEMS.taskCode}|fulfil`)}&_count=2&_total=none`,
      `ImagingStudy?basedon=${orderRef}&_count=100&_total=none`,
    ]);
  });

  it('raises each breach and takes each step once with two replicas on one store', async () => {
    const regions = testRegions();
    const file = join(temp, 'midlands.sqlite');
    const replicaA = regions.open('midlands', validatingStore(new SqliteStore({ path: file })));
    const replicaB = regions.open('midlands', validatingStore(new SqliteStore({ path: file })));
    regions.midlands = replicaA;
    await turnaroundCase(regions, { order: CES_ORDER });
    // Both replicas read what is due before either writes: they meet at their directory lookup.
    const meet = meetingPoint(2);
    for (const replica of [replicaA, replicaB])
      replica.hub = {
        ...regions.hub,
        findAlertRoles: async (holder) => {
          await meet();
          return regions.hub.findAlertRoles(holder);
        },
      };
    regions.clock.advance(4 * HOUR);
    const first = await Promise.all([checkTurnarounds(replicaA), checkTurnarounds(replicaB)]);
    expect(first.map((p) => p.breached).sort()).toEqual([0, 1]);
    expect(first.map((p) => p.raced).sort()).toEqual([0, 1]);
    regions.clock.advance(30 * MINUTE);
    const second = await Promise.all([checkTurnarounds(replicaA), checkTurnarounds(replicaB)]);
    expect(second.map((p) => p.escalated).sort()).toEqual([0, 1]);
    expect(await breachTasks(replicaA)).toHaveLength(1);
    expect(await flags(replicaB)).toHaveLength(1);
    expect(await auditsOf(replicaA, 'breach-raised')).toHaveLength(1);
    expect(await auditsOf(replicaB, 'breach-escalated')).toHaveLength(1);
    expect(to(await communications(replicaA), 'rm1-grant')).toHaveLength(1);
    await closeStores(replicaA.store, replicaB.store);
  });

  it('tries a breach again next pass when the directory cannot be reached at its step, losing nothing', async () => {
    const regions = testRegions();
    const { deps: midlands } = await turnaroundCase(regions, { order: CES_ORDER });
    regions.clock.advance(4 * HOUR);
    await checkTurnarounds(midlands);
    regions.hub.down.add('directory');
    regions.clock.advance(30 * MINUTE);
    expect(await checkTurnarounds(midlands)).toMatchObject({ escalated: 0, failed: 1 });
    regions.hub.down.delete('directory');
    expect(await checkTurnarounds(midlands)).toMatchObject({ escalated: 1, failed: 0 });
    expect(step((await breachTasks(midlands))[0])).toBe('delegate');
  });
});

/**
 * A second copy of a result, under its own identifier, based on its order and on `also` too: what a RIS could
 * write before the one-order rule (results.ts), still in the store.
 */
async function plantedCopy<T extends ImagingStudy | DiagnosticReport>(
  deps: GatewayDeps,
  result: WithId<T>,
  also: ServiceRequest,
  identifier: NonNullable<T['identifier']>,
) {
  const { id: _id, ...copy } = result;
  return deps.store.create<T>({
    ...copy,
    meta: { ...copy.meta, versionId: undefined, lastUpdated: undefined },
    identifier,
    basedOn: [...(result.basedOn ?? []), { reference: `ServiceRequest/${also.id}` }],
  } as T);
}

/** RM1's RIS records a study of an order through the gateway, with the given status and start. */
async function recordStudyAs(
  deps: GatewayDeps,
  order: WithId<ServiceRequest>,
  study: { status: ImagingStudy['status']; started: Date; uid?: string },
) {
  const address = exampleEndpoint().address;
  const endpoint = await registerEndpoint(
    deps,
    RIS,
    exampleEndpoint({ id: undefined, identifier: [{ system: 'urn:ietf:rfc:3986', value: address }] }),
  );
  return recordImagingStudy(
    deps,
    RIS,
    exampleImagingStudy({
      ...(study.uid
        ? {
            identifier: [
              { system: DICOM_UID_SYSTEM, value: study.uid },
              { system: SYSTEMS.accession, value: 'RM1-ACC-9' },
            ],
          }
        : {}),
      status: study.status,
      basedOn: [{ reference: `ServiceRequest/${order.id}` }],
      subject: order.subject as ImagingStudy['subject'],
      endpoint: [{ reference: `Endpoint/${endpoint.resource.id}` }],
      started: study.started.toISOString(),
    }),
    'case-1',
  );
}

const focusedOn = (tasks: Task[], order: ServiceRequest) =>
  tasks.filter((t) => t.focus?.reference === `ServiceRequest/${order.id}`);

describe('what counts as the test or the report done', () => {
  const PLANTED_UID = [
    { system: DICOM_UID_SYSTEM, value: 'urn:oid:1.2.826.0.1.3680043.10.8' },
    { system: SYSTEMS.accession, value: 'RM1-ACC-PLANTED' },
  ];

  it("a study based on several orders meets no order's due time: B's DM01 still breaches", async () => {
    const regions = testRegions();
    const { midlands, A, B } = await twoDeliveredOrders(regions);
    regions.clock.advance(DAY);
    const study = await recordStudy(midlands, RIS, A, regions.clock.now());
    await plantedCopy(midlands, study, B, PLANTED_UID);
    regions.clock.advance(41 * DAY);
    // B's DM01, and A's report (28 days after its exam): A's DM01 is met by A's own study.
    expect(await checkTurnarounds(midlands)).toMatchObject({ breached: 2, failed: 0 });
    const breaches = await breachTasks(midlands);
    expect(focusedOn(breaches, B).map((b) => [b.status, b.input?.[0]?.valueCoding?.code])).toEqual([
      ['requested', 'dm01'],
    ]);
    expect(focusedOn(breaches, A)).toEqual([]);
  });

  it("a study based on several orders closes no other order's breach, nor its Flag", async () => {
    const regions = testRegions();
    const { midlands, A, B } = await twoDeliveredOrders(regions);
    regions.clock.advance(42 * DAY);
    expect(await checkTurnarounds(midlands)).toMatchObject({ breached: 2 });
    const study = await recordStudy(midlands, RIS, A, regions.clock.now());
    await plantedCopy(midlands, study, B, PLANTED_UID);
    regions.clock.advance(DAY);
    expect(await checkTurnarounds(midlands)).toMatchObject({ resolved: 1, escalated: 1 });
    expect(focusedOn(await breachTasks(midlands), B).map((b) => b.status)).toEqual(['requested']);
    expect(focusedOn(await breachTasks(midlands), A).map((b) => b.status)).toEqual(['completed']);
    const flagsOf = async (order: ServiceRequest) =>
      (await flags(midlands)).filter((f) => f.subject?.reference === order.subject?.reference).map((f) => f.status);
    expect(await flagsOf(B)).toEqual(['active']);
    expect(await flagsOf(A)).toEqual(['inactive']);
  });

  it("a report based on several orders meets no order's report due time: B's still breaches", async () => {
    const regions = testRegions();
    const { midlands, A, B } = await twoDeliveredOrders(regions);
    const studyA = await recordStudy(midlands, RIS, A, regions.clock.now());
    const studyB = await recordStudyAs(midlands, B, {
      status: 'available',
      started: regions.clock.now(),
      uid: 'urn:oid:1.2.826.0.1.3680043.10.7',
    });
    regions.clock.advance(DAY);
    const report = await issueFinalReport(midlands, RIS, A, { category: 'NONE', issued: regions.clock.now() });
    await plantedCopy(midlands, report, B, [{ system: SYSTEMS.report, value: 'RM1-REP-PLANTED' }]);
    regions.clock.advance(27 * DAY);
    expect(await checkTurnarounds(midlands)).toMatchObject({ breached: 1, failed: 0 });
    expect((await breachTasks(midlands)).map((b) => [b.focus?.reference, b.input?.[0]?.valueCoding?.code])).toEqual([
      [`ImagingStudy/${studyB.resource.id}`, 'reporting-tat'],
    ]);
    expect(studyA.id).not.toBe(studyB.resource.id);
  });

  it.each([['registered'], ['cancelled']] as const)(
    'a %s study is not the test done: DM01 still breaches, and no report is due',
    async (status) => {
      const regions = testRegions();
      const { deps: midlands, order } = await turnaroundCase(regions);
      regions.clock.advance(DAY);
      await recordStudyAs(midlands, order, { status, started: regions.clock.now() });
      expect((await turnaroundWatches(midlands)).map((w) => w.identifier?.[0]?.value)).toEqual([
        'N81001-000123-turnaround-test',
      ]);
      regions.clock.advance(41 * DAY);
      expect(await checkTurnarounds(midlands)).toMatchObject({ breached: 1 });
      expect((await breachTasks(midlands)).map((b) => [b.status, b.input?.[0]?.valueCoding?.code])).toEqual([
        ['requested', 'dm01'],
      ]);
    },
  );

  it('a study started before the order was made counts as done when it was recorded: late, so DM01 breaches', async () => {
    const regions = testRegions();
    // The store stamps meta.lastUpdated on the test clock, as a production store does on its own.
    regions.midlands = regions.open(
      'midlands',
      validatingStore(new SqliteStore({ path: ':memory:', clock: regions.clock })),
    );
    const start = regions.clock.now();
    const { deps: midlands, order } = await turnaroundCase(regions);
    regions.clock.advance(43 * DAY);
    await recordStudyAs(midlands, order, { status: 'available', started: new Date(start.getTime() - DAY) });
    expect(await checkTurnarounds(midlands)).toMatchObject({ breached: 1 });
    const [breach] = await breachTasks(midlands);
    expect(breach?.status).toBe('completed'); // resolved: the test is done, six weeks and a day late
    expect((await flags(midlands))[0]).toMatchObject({
      status: 'inactive',
      period: { start: later(start, 42 * DAY), end: later(start, 43 * DAY) },
    });
    // The report's due times run from when the study was recorded, not from the claimed start.
    const report = (await turnaroundWatches(midlands)).find((w) => w.identifier?.[0]?.value?.endsWith('-report'));
    expect(dueTimes(report)).toEqual([['reporting-tat', later(start, (43 + 28) * DAY)]]);
  });
});

describe('a result recorded after its due time', () => {
  it('is late whatever exam time it claims: the CES breach is raised, done when the study was recorded', async () => {
    const regions = testRegions();
    const start = regions.clock.now();
    const { deps: midlands, provider, order } = await turnaroundCase(regions, { order: CES_ORDER });
    regions.clock.advance(5 * HOUR);
    // Recorded an hour after the 4-hour due time, claiming the MRI started half an hour before it.
    await recordStudy(midlands, provider, order, new Date(start.getTime() + 3.5 * HOUR));
    // The MRI's breach, done late; and the CES report's, due an hour after the claimed exam, already missed.
    expect(await checkTurnarounds(midlands)).toMatchObject({ breached: 2, failed: 0 });
    const breaches = await breachTasks(midlands);
    expect(breaches.map((b) => [b.input?.[0]?.valueCoding?.code, b.status]).sort()).toEqual([
      ['ces-imaging', 'completed'],
      ['report-overdue', 'requested'],
    ]);
    const mriFlag = (await flags(midlands)).find((f) => f.code?.coding?.[0]?.code === 'ces-imaging');
    expect(mriFlag).toMatchObject({
      status: 'inactive',
      period: { start: later(start, 4 * HOUR), end: later(start, 5 * HOUR) },
    });
  });

  it('meets its due time when recorded in time: the claimed exam time stands', async () => {
    const regions = testRegions();
    const start = regions.clock.now();
    const { deps: midlands, provider, order } = await turnaroundCase(regions, { order: CES_ORDER });
    regions.clock.advance(3.75 * HOUR);
    await recordStudy(midlands, provider, order, new Date(start.getTime() + 3.5 * HOUR));
    regions.clock.advance(0.5 * HOUR); // past the MRI's due time, before the CES report's
    expect(await checkTurnarounds(midlands)).toMatchObject({ breached: 0, failed: 0 });
    expect(await breachTasks(midlands)).toEqual([]);
    // The report's due times still run from the exam the RIS claims.
    const report = (await turnaroundWatches(midlands)).find((w) => w.identifier?.[0]?.value?.endsWith('-report'));
    expect(dueTimes(report)?.[0]?.[1]).toBe(later(start, 4.5 * HOUR));
  });

  it('is late whatever issued time it claims: the urgent report breaches, done when the report was issued here', async () => {
    const regions = testRegions();
    const { deps: midlands, provider, order } = await turnaroundCase(regions, { order: { priority: 'urgent' } });
    const examined = regions.clock.now();
    await recordStudy(midlands, provider, order, examined);
    regions.clock.advance(3 * DAY);
    // Issued a day after its 2-day due time, claiming it was issued a day before it.
    await issueFinalReport(midlands, provider, order, { category: 'NONE', issued: new Date(examined.getTime() + DAY) });
    expect(await checkTurnarounds(midlands)).toMatchObject({ breached: 1, failed: 0 });
    const [breach] = await breachTasks(midlands);
    expect([breach?.status, breach?.input?.[0]?.valueCoding?.code]).toEqual(['completed', 'report-overdue']);
    expect((await flags(midlands))[0]?.period).toEqual({
      start: later(examined, 2 * DAY),
      end: later(examined, 3 * DAY),
    });
  });
});

describe('a due Task that cannot be checked', () => {
  it('is logged with its Task as a failure, not counted as raced, when its search finds several matches (412)', async () => {
    const regions = testRegions();
    const { midlands, A } = await twoDeliveredOrders(regions);
    // A second fulfilment Task on A (the placer-number attack of docs/security.md): its watch's search for
    // the one fulfilment Task finds two.
    const [fulfil] = await searchAll<Task>(midlands.store, 'Task', {
      focus: `ServiceRequest/${A.id}`,
      code: `${CODE_SYSTEMS.taskCode}|fulfil`,
    });
    const { id: _id, meta: _meta, ...copy } = fulfil as WithId<Task>;
    await midlands.store.create<Task>({ ...copy, identifier: [{ system: SYSTEMS.task, value: 'N81001-000123-x' }] });
    regions.clock.advance(42 * DAY);
    expect(await checkTurnarounds(midlands)).toMatchObject({ raced: 0, failed: 1, breached: 1 });
    const [watchA] = focusedOn(await turnaroundWatches(midlands), A);
    const errors = (midlands.logger as unknown as { entries: { level: string; task?: string }[] }).entries.filter(
      (e) => e.level === 'error',
    );
    expect(errors.map((e) => e.task)).toEqual([`Task/${watchA?.id}`]);
  });
});

async function closeStores(...stores: FhirStore[]): Promise<void> {
  for (const store of stores) await store.close();
}
