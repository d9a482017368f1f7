import type { Flag } from '@medplum/fhirtypes';
import { CODE_SYSTEMS, odsReference, suspectedCancerCategory, SYSTEMS } from '@imaging/fhir';
import { exampleServiceRequest } from '@imaging/fhir/examples';
import { expect } from 'vitest';
import type { SafetyWorld } from './safety-world.ts';
import {
  auditDetails,
  communicationsTo,
  expectStatus,
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
const DAY = 24 * HOUR;

/**
 * Scenario 5 (requirement 16, and the ombudsman's delayed reports): a GP refers a patient with suspected
 * lung cancer, urgently, for a CT chest at RM1. RM1 scans the next day, but the report is not issued by
 * its due time, 3 days after the exam (REPORT_DUE for suspected cancer): the midlands raises a breach on
 * the study for RM1, with a Flag on the patient, and climbs RM1's ladder every 4 hours, audited, until the
 * report is issued; then the breach closes. The RIS completes its Task with the version it read before
 * all this: the safety layer never writes to the fulfilment Task. With the safety layer off the same
 * steps raise nothing: the late report goes unnoticed.
 */
export async function delayedCancerReportScenario(world: SafetyWorld): Promise<void> {
  const on = world.safety;
  const start = world.clock.now();
  await gpPlacesOrder(
    world,
    exampleServiceRequest({
      identifier: [{ system: SYSTEMS.placerOrder, value: 'N81001-2WW-000001' }],
      priority: 'urgent',
      category: [...(exampleServiceRequest().category ?? []), suspectedCancerCategory()],
      reasonCode: [{ text: 'Haemoptysis and weight loss: suspected lung cancer' }],
      authoredOn: start.toISOString(),
    }),
  );
  const { task, order } = await risWorksOrder(world, ['accepted', 'in-progress']);

  // Scanned the next day: the report is due 3 days after the exam.
  world.clock.advance(DAY);
  const study = await risRecordsStudy(world, order, world.clock.now());
  const dueAt = new Date(world.clock.now().getTime() + 3 * DAY).toISOString();
  // Nothing a minute before; the report is not issued by its due time: a breach on the study, for RM1.
  const { breaches, flags } = await breachWhenDue(world, 3 * DAY);
  if (on) {
    expect(breaches).toHaveLength(1);
    expect(breaches[0]).toMatchObject({
      status: 'requested',
      priority: 'urgent',
      owner: odsReference('RM1'),
      focus: { reference: `ImagingStudy/${study.id}` },
      basedOn: [{ reference: `ServiceRequest/${order.id}` }],
      input: [
        { valueCoding: { system: CODE_SYSTEMS.turnaroundBreach, code: 'report-overdue' } },
        { valueCoding: { system: CODE_SYSTEMS.referralPathway, code: 'suspected-cancer' } },
        { valueDateTime: dueAt },
      ],
    });
    expect(flags).toMatchObject([
      {
        status: 'active',
        subject: order.subject,
        code: { coding: [{ code: 'report-overdue' }] },
        period: { start: dueAt },
      },
    ]);
    expect(await communicationsTo(world, 'midlands', 'RM1')).toHaveLength(1);
  } else {
    expect(breaches).toEqual([]);
    expect(flags).toEqual([]);
  }

  // Still no report: every 4 hours the breach climbs RM1's ladder, an AuditEvent at each step.
  for (let step = 0; step < 2; step++) {
    world.clock.advance(4 * HOUR);
    await world.runSafetyJob();
  }
  const escalated = await auditDetails(world, 'midlands', 'breach-escalated');
  if (on) {
    expect(escalated.map((d) => [d.breach, d.from, d.to, d.recipient])).toEqual([
      ['report-overdue', 'provider', 'delegate', 'Dr Owen Grant'],
      ['report-overdue', 'delegate', 'responsible', 'Dr Lily Hall'],
    ]);
    expect(await communicationsTo(world, 'midlands', 'rm1-hall')).toHaveLength(1);
  } else {
    expect(escalated).toEqual([]);
  }

  // The report is issued at last, with a CANCER alert; the RIS completes its Task with the version it
  // read when it started the work, days ago.
  const report = await risIssuesReport(world, order, study, {
    category: 'CANCER',
    conclusion: 'Spiculated 32 mm right upper lobe mass: suspected primary lung cancer.',
    identifier: 'RM1-REP-2WW-000001',
  });
  await expectStatus(
    await world.request(
      'midlands',
      RIS_CLIENT,
      'PUT',
      `/Task/${task.id}`,
      {
        ...task,
        status: 'completed',
        output: [{ type: { text: 'report' }, valueReference: { reference: `DiagnosticReport/${report.id}` } }],
      },
      task.meta?.versionId,
    ),
    200,
  );
  expect(await tasksSeen(world, 'north', GP_CLIENT, 'acknowledge-result')).toHaveLength(on ? 1 : 0);

  // At the breach's next step the safety job finds the report issued: the breach closes, its Flag ends.
  world.clock.advance(4 * HOUR);
  await world.runSafetyJob();
  const [closed] = await tasksSeen(world, 'midlands', RIS_CLIENT, 'resolve-breach');
  const [flag] = await stored<Flag>(world, 'midlands', 'Flag');
  if (on) {
    expect(closed?.status).toBe('completed');
    expect(flag?.status).toBe('inactive');
    expect(await auditDetails(world, 'midlands', 'breach-resolved')).toHaveLength(1);
  } else {
    expect([closed, flag]).toEqual([undefined, undefined]);
    expect(await auditDetails(world, 'midlands', 'breach-raised')).toEqual([]);
  }
}
