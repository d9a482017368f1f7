import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Communication, Task } from '@medplum/fhirtypes';
import { CODE_SYSTEMS, SqliteStore, SYSTEMS, validatingStore } from '@imaging/fhir';
import type { FhirStore, memoryLogger } from '@imaging/fhir';
import { afterAll, describe, expect, it } from 'vitest';
import { startJobs } from '../jobs.ts';
import { acknowledgementTasks, alertCase, auditsOf, communications, theAlert, watchTasks } from '../testing/alerts.ts';
import { GP, testRegions } from '../testing/regions.ts';
import { meetingPoint, recordingSearches } from '../testing/stores.ts';
import { acknowledgeAlert } from './alert-operations.ts';
import { deliverDue } from './delivery.ts';
import { escalateOverdueAlerts } from './escalation.ts';

const MINUTE = 60_000;
const DAY = 24 * 60 * MINUTE;
const role = (id: string, display: string) => ({
  type: 'PractitionerRole',
  identifier: { system: SYSTEMS.practitionerRole, value: id },
  display,
});
const step = (task: Task) => task.businessStatus?.coding?.[0]?.code;
/** Communications to one recipient, by the identifier of the role or organisation they went to. */
const to = (all: Communication[], id: string) =>
  all.filter((c) => c.recipient?.some((r) => r.identifier?.value === id));
const detail = (event: { entity?: { detail?: { type: string; valueString?: string }[] }[] } | undefined) =>
  Object.fromEntries((event?.entity ?? []).flatMap((e) => e.detail ?? []).map((d) => [d.type, d.valueString]));

const temp = mkdtempSync(join(tmpdir(), 'escalation-'));
afterAll(() => rmSync(temp, { recursive: true, force: true }));

describe('escalating an overdue alert', () => {
  it('climbs delegate → responsible → fail-safe officer, a Communication and an AuditEvent at each step, then repeats', async () => {
    const regions = testRegions();
    const { clock } = regions;
    const { requester: north } = await alertCase(regions, { category: 'CRITICAL' });

    clock.advance(59 * MINUTE);
    expect(await escalateOverdueAlerts(north)).toEqual({ escalated: 0, notified: 0, raced: 0, failed: 0 });
    expect(step(await theAlert(north))).toBe('requester');

    const ladder: [string, string][] = [
      ['delegate', 'n81001-okafor'],
      ['responsible', 'n81001-hughes'],
      ['fail-safe-officer', 'north-failsafe'],
      ['fail-safe-officer', 'north-failsafe'],
    ];
    clock.advance(MINUTE); // 60 min: acknowledgement was due
    for (const [expected, recipient] of ladder) {
      const before = (await communications(north)).length;
      expect(await escalateOverdueAlerts(north)).toMatchObject({ escalated: 1, failed: 0 });
      const alert = await theAlert(north);
      expect(step(alert)).toBe(expected);
      // The next step is one CRITICAL step window (30 min) away, and searchable as such.
      const next = new Date(clock.now().getTime() + 30 * MINUTE).toISOString();
      expect(alert.extension?.[0]?.valueDateTime).toBe(next);
      const all = await communications(north);
      expect(all).toHaveLength(before + 1);
      expect(all.at(-1)?.recipient?.[0]?.identifier?.value).toBe(recipient);
      // Nothing more until the step window has passed.
      clock.advance(29 * MINUTE);
      expect(await escalateOverdueAlerts(north)).toMatchObject({ escalated: 0 });
      clock.advance(MINUTE);
    }
    const escalations = await auditsOf(north, 'alert-escalated');
    expect(escalations.map((e) => [detail(e).from, detail(e).to, detail(e).reminder])).toEqual([
      ['requester', 'delegate', undefined],
      ['delegate', 'responsible', undefined],
      ['responsible', 'fail-safe-officer', undefined],
      ['fail-safe-officer', 'fail-safe-officer', 'true'],
    ]);
    expect(to(await communications(north), 'north-failsafe')).toHaveLength(2);
  });

  it('passes at once a delegate who has left, audited, and carries on from the responsible clinician', async () => {
    const regions = testRegions();
    const delegate = regions.hub.topology.organisations
      .find((o) => o.ods === 'N81001')
      ?.people?.find((p) => p.role === 'delegate');
    const { requester: north } = await alertCase(regions, { category: 'URGENT' });
    if (delegate) delegate.active = false; // the delegate leaves after the alert was raised
    regions.clock.advance(DAY);
    expect(await escalateOverdueAlerts(north)).toMatchObject({ escalated: 1 });
    expect(step(await theAlert(north))).toBe('responsible');
    const [skipped] = await auditsOf(north, 'alert-step-skipped');
    expect(detail(skipped)).toEqual({
      step: 'delegate',
      reason: 'N81001 has no active delegate',
      'X-Correlation-ID': 'case-1',
    });
    expect(to(await communications(north), 'n81001-hughes')).toHaveLength(1);
  });

  it("escalates from the performer's side to its own fail-safe officer when the requester's region is down", async () => {
    const regions = testRegions();
    const { hub, clock } = regions;
    hub.down.add('imaging-north');
    const { requester: north, performer: midlands } = await alertCase(regions, { category: 'CRITICAL' });
    expect(await acknowledgementTasks(north)).toHaveLength(0); // the report never arrived

    clock.advance(89 * MINUTE);
    await deliverDue(midlands); // still failing, still queued
    expect(await escalateOverdueAlerts(midlands)).toMatchObject({ escalated: 0 });
    clock.advance(MINUTE); // 60 min acknowledgement + one 30 min step
    expect(await escalateOverdueAlerts(midlands)).toMatchObject({ escalated: 1 });
    const [watch] = await watchTasks(midlands);
    expect(step(watch as Task)).toBe('fail-safe-officer');
    const [told] = await communications(midlands);
    expect(told?.recipient).toEqual([role('midlands-failsafe', 'Chris Dunmore')]);
    expect(told?.reasonCode?.[0]?.text).toBe('Critical alert not acknowledged in time');
    expect(await auditsOf(midlands, 'alert-escalated')).toHaveLength(1);
    clock.advance(30 * MINUTE); // reminded each step until an acknowledgement reaches it
    expect(await escalateOverdueAlerts(midlands)).toMatchObject({ escalated: 1 });
    expect(to(await communications(midlands), 'midlands-failsafe')).toHaveLength(2);

    // The north comes back: the report arrives already overdue, and the alert climbs at once.
    hub.down.delete('imaging-north');
    clock.advance(60 * MINUTE);
    await deliverDue(midlands);
    expect(step(await theAlert(north))).toBe('requester');
    expect(await escalateOverdueAlerts(north)).toMatchObject({ escalated: 1 });
    expect(step(await theAlert(north))).toBe('delegate');
    // Its acknowledgement reaches the watch, which stops reminding.
    const alert = await theAlert(north);
    await acknowledgeAlert(
      north,
      GP,
      alert.id,
      { resourceType: 'Parameters', parameter: [{ name: 'acknowledgedBy', valueString: 'Dr Ben Okafor' }] },
      undefined,
    );
    await deliverDue(north);
    const [acknowledged] = await watchTasks(midlands);
    expect(acknowledged?.status).toBe('in-progress');
  });

  it('fires each step exactly once with two gateway replicas on one store, each running the real job runner', async () => {
    const regions = testRegions();
    const file = join(temp, 'north.sqlite');
    const replicaA = regions.open('north', validatingStore(new SqliteStore({ path: file })));
    const replicaB = regions.open('north', validatingStore(new SqliteStore({ path: file })));
    regions.north = replicaA;
    const { clock } = regions;
    await alertCase(regions, { category: 'CRITICAL' });
    // Both replicas read the due alert before either writes: they meet at their directory lookup.
    const meet = meetingPoint(2);
    for (const replica of [replicaA, replicaB])
      replica.hub = {
        ...regions.hub,
        findAlertRoles: async (holder) => {
          await meet();
          return regions.hub.findAlertRoles(holder);
        },
      };
    const runBothOnce = async () => {
      // Two replicas' job runners, woken together; stop() waits for each pass to finish. No real waiting.
      const jobs = [replicaA, replicaB].map((r) =>
        startJobs(r, { deliveryIntervalMs: 3_600_000, safetyIntervalMs: 3_600_000 }),
      );
      for (const j of jobs) j.safety.wake();
      // A wake schedules its pass (off the request path): let both start before stopping.
      await new Promise((started) => setImmediate(started));
      await Promise.all(jobs.map((j) => j.stop()));
    };
    clock.advance(60 * MINUTE);
    for (let i = 0; i < 4; i++) {
      await runBothOnce();
      await runBothOnce(); // a second round at the same time: nothing new is due
      clock.advance(30 * MINUTE);
    }
    const escalated = await auditsOf(replicaA, 'alert-escalated');
    expect(escalated.map((e) => detail(e).to)).toEqual([
      'delegate',
      'responsible',
      'fail-safe-officer',
      'fail-safe-officer',
    ]);
    expect(to(await communications(replicaB), 'n81001-okafor')).toHaveLength(2); // raised, then escalated
    expect(to(await communications(replicaB), 'n81001-hughes')).toHaveLength(1);
    expect(to(await communications(replicaB), 'north-failsafe')).toHaveLength(2);
    // Each step was tried by both: one did it, the other's versioned update lost (412) and moved on.
    const passes = [replicaA, replicaB].flatMap((r) =>
      (r.logger as ReturnType<typeof memoryLogger>).entries.filter((e) => e.message === 'safety pass'),
    );
    const total = (key: string) => passes.reduce((n, e) => n + Number(e[key] ?? 0), 0);
    expect([total('escalated'), total('raced'), total('failed')]).toEqual([4, 4, 0]);
    await closeStores(replicaA.store, replicaB.store);
  });

  it('reads only the alerts that are due, through the next-check index', async () => {
    const regions = testRegions();
    const { requester: north } = await alertCase(regions, { category: 'SIGNIFICANT' });
    const queries: string[] = [];
    regions.clock.advance(8 * DAY);
    const pass = await escalateOverdueAlerts({ ...north, store: recordingSearches(north.store, queries) });
    expect(pass).toMatchObject({ escalated: 1 });
    const codes = ['acknowledge-result', 'watch-acknowledgement'].map((c) => `${CODE_SYSTEMS.taskCode}|${c}`).join(',');
    expect(queries).toEqual([
      `Task?next-check=le${encodeURIComponent(regions.clock.now().toISOString())}&code=${encodeURIComponent(codes)}&_count=100&_total=none&_sort=next-check`,
    ]);
  });

  it('tries again next pass when the directory cannot be reached, and loses nothing', async () => {
    const regions = testRegions();
    const { requester: north } = await alertCase(regions, { category: 'URGENT' });
    regions.hub.down.add('directory');
    regions.clock.advance(DAY);
    expect(await escalateOverdueAlerts(north)).toMatchObject({ escalated: 0, failed: 1 });
    expect(step(await theAlert(north))).toBe('requester');
    regions.hub.down.delete('directory');
    expect(await escalateOverdueAlerts(north)).toMatchObject({ escalated: 1, failed: 0 });
    expect(step(await theAlert(north))).toBe('delegate');
  });
});

describe('telling the patient', () => {
  it('tells the patient of an alert still unacknowledged 14 days after it was raised, exactly once', async () => {
    const regions = testRegions();
    const { clock } = regions;
    const { requester: north } = await alertCase(regions, { category: 'SIGNIFICANT' });
    const patient = (await theAlert(north)).for;
    const toPatient = async () =>
      (await communications(north)).filter((c) => c.recipient?.[0]?.reference === patient?.reference);
    for (let day = 1; day < 14; day++) {
      clock.advance(DAY);
      await escalateOverdueAlerts(north);
    }
    expect(await toPatient()).toHaveLength(0);
    clock.advance(DAY);
    expect(await escalateOverdueAlerts(north)).toMatchObject({ notified: 1 });
    const [notice] = await toPatient();
    expect(notice).toMatchObject({ subject: patient, medium: [{ text: 'Letter' }] });
    expect(notice?.payload?.[0]?.contentString).not.toContain('nodule'); // no finding in a letter or an SMS
    expect(await auditsOf(north, 'alert-patient-notified')).toHaveLength(1);
    for (let day = 0; day < 3; day++) {
      clock.advance(DAY);
      await escalateOverdueAlerts(north);
    }
    expect(await toPatient()).toHaveLength(1);
  });

  it('never tells the patient of an alert acknowledged in time', async () => {
    const regions = testRegions();
    const { requester: north } = await alertCase(regions, {
      category: 'URGENT',
      patient: { telecom: [{ system: 'sms', value: '07700900123' }] },
    });
    const alert = await theAlert(north);
    await acknowledgeAlert(
      north,
      GP,
      alert.id,
      { resourceType: 'Parameters', parameter: [{ name: 'acknowledgedBy', valueString: 'Dr Asha Patel' }] },
      undefined,
    );
    regions.clock.advance(20 * DAY);
    expect(await escalateOverdueAlerts(north)).toEqual({ escalated: 0, notified: 0, raced: 0, failed: 0 });
    expect(await auditsOf(north, 'alert-patient-notified')).toHaveLength(0);
  });

  it('sends it again after the claim lapses when the notifier failed, and only then', async () => {
    const regions = testRegions();
    const { requester: north } = await alertCase(regions, {
      category: 'SIGNIFICANT',
      patient: { telecom: [{ system: 'sms', value: '07700900123' }] },
    });
    const real = north.notifications;
    let calls = 0;
    north.notifications = {
      notifyPatient: async (n) => {
        calls++;
        if (calls === 1) throw new Error('NHS Notify unavailable');
        return real.notifyPatient(n);
      },
    };
    regions.clock.advance(14 * DAY);
    expect(await escalateOverdueAlerts(north)).toMatchObject({ notified: 0, failed: 1 });
    expect(await escalateOverdueAlerts(north)).toMatchObject({ notified: 0 }); // claimed: not yet lapsed
    regions.clock.advance(north.alerts.notificationLeaseMs);
    expect(await escalateOverdueAlerts(north)).toMatchObject({ notified: 1 });
    expect(calls).toBe(2);
    const sent = (await communications(north)).filter((c) => c.medium?.[0]?.text === 'SMS');
    expect(sent).toHaveLength(1);
  });
});

async function closeStores(...stores: FhirStore[]): Promise<void> {
  for (const store of stores) await store.close();
}
