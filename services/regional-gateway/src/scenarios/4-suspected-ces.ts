import type { Flag, Task } from '@medplum/fhirtypes';
import {
  CAUDA_EQUINA_SYNDROME,
  CODE_SYSTEMS,
  IMAGING_PROCEDURE_CODES,
  odsReference,
  procedureCodings,
  SYSTEMS,
} from '@imaging/fhir';
import { exampleServiceRequest } from '@imaging/fhir/examples';
import { expect } from 'vitest';
import type { SafetyWorld } from './safety-world.ts';
import {
  auditDetails,
  communicationsTo,
  GP_CLIENT,
  gpPlacesOrder,
  RIS_CLIENT,
  risIssuesReport,
  risRecordsStudy,
  risWorksOrder,
  breachWhenDue,
  stored,
  tasksSeen,
} from './safety-world.ts';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const SPINAL_TEAM = 'rm1-spinal-on-call';

/**
 * Scenario 4 (requirement 19): a GP asks RM1 for an emergency MRI for suspected cauda equina syndrome.
 * No scanner is free: at 4 hours the MRI is not done, so the midlands raises a breach for RM1 (a Task it
 * sees, a Flag on the patient), and escalates it to RM1's delegate half an hour later. The MRI is then
 * done and shows compression of the cauda equina: the CRITICAL report goes to the GP and, at once, to
 * RM1's spinal on-call team; the breach closes. With the safety layer off the same steps raise nothing:
 * no breach, no Flag, no escalation, no alert, and the spinal team never hears.
 */
export async function suspectedCesScenario(world: SafetyWorld): Promise<void> {
  const on = world.safety;
  const start = world.clock.now();
  const at = (ms: number) => new Date(start.getTime() + ms).toISOString();

  await gpPlacesOrder(
    world,
    exampleServiceRequest({
      identifier: [{ system: SYSTEMS.placerOrder, value: 'N81001-CES-000001' }],
      priority: 'stat',
      code: { coding: procedureCodings(IMAGING_PROCEDURE_CODES.mriLumbosacralSpine) },
      reasonCode: [{ coding: [CAUDA_EQUINA_SYNDROME], text: 'Saddle anaesthesia and urinary retention' }],
      authoredOn: start.toISOString(),
    }),
  );
  const { order } = await risWorksOrder(world, ['accepted']);

  // Nothing a minute before the 4 hours are up; at 4 hours the MRI is not done: a breach RM1 sees, and a
  // Flag on the patient.
  const { breaches, flags } = await breachWhenDue(world, 4 * HOUR);
  if (on) {
    expect(breaches).toHaveLength(1);
    expect(breaches[0]).toMatchObject({
      status: 'requested',
      priority: 'stat',
      owner: odsReference('RM1'),
      focus: { reference: `ServiceRequest/${order.id}` },
      input: [
        { valueCoding: { system: CODE_SYSTEMS.turnaroundBreach, code: 'ces-imaging' } },
        {},
        { valueDateTime: at(4 * HOUR) },
      ],
    });
    expect(flags).toHaveLength(1);
    expect(flags[0]).toMatchObject({
      status: 'active',
      subject: order.subject,
      code: { coding: [{ code: 'ces-imaging' }] },
      period: { start: at(4 * HOUR) },
    });
    expect(await communicationsTo(world, 'midlands', 'RM1')).toHaveLength(1);
  } else {
    expect(breaches).toEqual([]);
    expect(flags).toEqual([]);
  }

  // Half an hour on, still no MRI: the breach climbs to RM1's delegate, audited.
  world.clock.advance(30 * MINUTE);
  await world.runSafetyJob();
  const escalated = await auditDetails(world, 'midlands', 'breach-escalated');
  if (on) {
    expect(escalated.map((d) => [d.breach, d.from, d.to, d.recipient])).toEqual([
      ['ces-imaging', 'provider', 'delegate', 'Dr Owen Grant'],
    ]);
    expect(await communicationsTo(world, 'midlands', 'rm1-grant')).toHaveLength(1);
  } else {
    expect(escalated).toEqual([]);
    expect(await auditDetails(world, 'midlands', 'breach-raised')).toEqual([]);
  }

  // The MRI is done at 4 h 40 and shows the cauda equina compressed: a CRITICAL report at 5 h.
  world.clock.advance(10 * MINUTE);
  const scanned = world.clock.now();
  const study = await risRecordsStudy(world, order, scanned);
  world.clock.advance(20 * MINUTE);
  await risIssuesReport(world, order, study, {
    category: 'CRITICAL',
    conclusion: 'Large L4/5 disc extrusion compressing the cauda equina.',
    identifier: 'RM1-REP-CES-000001',
  });

  // The CRITICAL alert goes to the GP and, with it, to RM1's spinal on-call team.
  const alerts = await tasksSeen(world, 'north', GP_CLIENT, 'acknowledge-result');
  const toSpinalTeam = await communicationsTo(world, 'north', SPINAL_TEAM);
  if (on) {
    expect(alerts).toHaveLength(1);
    expect(alerts[0]?.input?.[0]?.valueCoding?.code).toBe('CRITICAL');
    const recipients = (alerts[0] as Task).restriction?.recipient?.map((r) => r.identifier?.value);
    expect(recipients).toEqual(expect.arrayContaining(['N81001', SPINAL_TEAM]));
    expect(toSpinalTeam).toHaveLength(1);
    expect(toSpinalTeam[0]?.payload?.map((p) => p.contentString)).toContain(
      'Conclusion: Large L4/5 disc extrusion compressing the cauda equina.',
    );
  } else {
    expect(alerts).toEqual([]);
    expect(toSpinalTeam).toEqual([]);
  }

  // At its next step the safety job finds the MRI done: the breach closes, and its Flag ends.
  await world.runSafetyJob();
  const [closed] = await tasksSeen(world, 'midlands', RIS_CLIENT, 'resolve-breach');
  const [flag] = await stored<Flag>(world, 'midlands', 'Flag');
  if (on) {
    expect(closed?.status).toBe('completed');
    expect(flag).toMatchObject({ status: 'inactive', period: { start: at(4 * HOUR), end: scanned.toISOString() } });
    expect((await auditDetails(world, 'midlands', 'breach-resolved')).map((d) => d.resolution)).toEqual(['done']);
  } else {
    expect([closed, flag]).toEqual([undefined, undefined]);
  }
}
