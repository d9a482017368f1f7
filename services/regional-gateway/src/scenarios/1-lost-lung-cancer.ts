import type { Catch, Scenario } from './scenario.ts';
import { after, DAY, GUIDELINE, HOUR, staged } from './scenario.ts';
import type { PlacedCase } from './steps.ts';
import { issueReport, placeCase, recordDischarge } from './steps.ts';
import type { ScenarioWorld } from './world.ts';

/**
 * HSIB's reference case (DOMAIN.md §3): an emergency department's chest imaging shows a possible lung cancer,
 * reported 12 days later, by which time the patient had been discharged; the letters to the referrer and the
 * GP were never read. Here: the ED of RN1 (north) orders from its own radiology for a patient registered with
 * a GP practice in the south (S81001), records the discharge the same day, and the CANCER report comes 12
 * days on. Nobody ever acknowledges it.
 *
 * The safety layer must tell, when the report is issued, the requesting ED clinician (and her delegate), the
 * trust's lung cancer MDT and the patient's GP practice in the south; escalate when the 7-day window passes,
 * up to the network's fail-safe officer; and tell the patient after 14 days.
 */
const TICK = 6 * HOUR;

/** The ED of RN1 (north) orders a chest scan from its own radiology; the patient's GP practice is in the south. */
function placeEdChestScan(world: ScenarioWorld) {
  return placeCase(world, {
    referrer: 'ed-rn1',
    requester: 'RN1',
    performer: 'RN1',
    clinician: 'rn1-shah',
    practice: 'S81001',
    encounter: 'in-progress',
  });
}

/** RN1's radiologist reports a suspected primary lung cancer: a CANCER alert. */
function reportLungCancer(world: ScenarioWorld, placed: PlacedCase) {
  return issueReport(world, placed, {
    ris: 'ris-rn1',
    category: 'CANCER',
    site: { code: '45653009', display: 'Structure of upper lobe of right lung' },
    conclusion:
      'Spiculated 25 mm mass in the right upper lobe, suspicious for a primary lung cancer. CT staging advised.',
  });
}

/** The alert as the stores hold it, after the scenario staged what it must (issued, never acknowledged). */
async function unreadAlert(world: ScenarioWorld, placed: PlacedCase) {
  const north = world.trail('north');
  const south = world.trail('south');
  staged(await north.report(placed.report), 'the report was issued, in the north');
  const alert = await north.alert(placed.report);
  staged(alert?.status !== 'completed', 'nobody acknowledged the alert');
  const escalations = await north.escalations(alert);
  const stepTo = (step: string) => escalations.find((e) => e.to === step)?.at;
  return { north, south, alert, stepTo };
}

export async function lostLungCancer(world: ScenarioWorld): Promise<Catch[]> {
  const placed = await placeEdChestScan(world);
  await world.advance(6 * HOUR, TICK);
  await recordDischarge(world, 'ed-rn1', placed);
  // Nothing is due while the report waits: one tick for the 12 days (fewer calls on HAPI).
  await world.advance(12 * DAY - 6 * HOUR, 12 * DAY);
  const issuedAt = world.clock.now();
  await reportLungCancer(world, placed);
  // Nobody reads it, for 15 days.
  await world.advance(15 * DAY, TICK);

  const { north, south, alert, stepTo } = await unreadAlert(world, placed);
  const mdt = await north.communication(`${placed.report}-mdt-notice`);
  const copy = await south.receivedCopy('imaging-north', `${placed.report}-acknowledge-gp-copy`);
  const due = after(issuedAt, GUIDELINE.acknowledge.CANCER);
  const step = GUIDELINE.step.CANCER;

  return [
    {
      what: 'the requesting ED clinician (Dr Priya Shah) is told when the report is issued',
      by: issuedAt,
      at: await north.told(alert, 'rn1-shah'),
    },
    {
      what: 'so is her delegate (Dr Sam Lee)',
      by: issuedAt,
      at: await north.told(alert, 'rn1-lee'),
    },
    {
      what: "the trust's lung cancer MDT is told when the report is issued",
      by: issuedAt,
      at: mdt?.recipient?.some((r) => r.identifier?.value === 'rn1-lung-mdt')
        ? new Date(mdt.sent as string)
        : undefined,
    },
    {
      what: "the patient's GP practice S81001, in another region, gets its copy when the report is issued",
      by: issuedAt,
      at: copy ? await south.recorded(`Communication/${copy.id}`, 'alert-copy-received') : undefined,
    },
    {
      what: 'unacknowledged after 7 days, it is escalated to the delegate',
      notBefore: due,
      by: after(due, TICK),
      at: stepTo('delegate'),
    },
    {
      what: 'then to the responsible consultant (Dr Helen Ward), a day later',
      notBefore: after(due, step),
      by: after(due, step + TICK),
      at: stepTo('responsible'),
    },
    {
      what: "then to the north network's fail-safe officer",
      notBefore: after(due, 2 * step),
      by: after(due, 2 * step + TICK),
      at: stepTo('fail-safe-officer'),
    },
    {
      what: 'the patient is told after 14 days unacknowledged',
      notBefore: after(issuedAt, GUIDELINE.patientToldAfter),
      by: after(issuedAt, GUIDELINE.patientToldAfter + TICK),
      at: await north.patientTold(alert),
    },
  ];
}

export const SCENARIO_1: Scenario = {
  id: 1,
  name: 'lost-lung-cancer',
  title: 'a lung cancer on an ED chest scan, reported after discharge, never read (HSIB)',
  run: lostLungCancer,
};

/**
 * The same case, but the patient is still in when the CANCER report comes (admitted from the ED), and is
 * discharged two days later with the alert still unread. The alert raised for the ED clinician must now
 * also reach the GP practice in the south, when the discharge is recorded, and still climb the ladder.
 */
export async function lostLungCancerDischargedAfterReport(world: ScenarioWorld): Promise<Catch[]> {
  const placed = await placeEdChestScan(world);
  await world.advance(12 * DAY, 12 * DAY);
  const issuedAt = world.clock.now();
  await reportLungCancer(world, placed);
  await world.advance(2 * DAY, TICK);
  const dischargedAt = world.clock.now();
  await recordDischarge(world, 'ed-rn1', placed);
  // Nobody reads it, for 13 more days.
  await world.advance(13 * DAY, TICK);

  const { north, south, alert, stepTo } = await unreadAlert(world, placed);
  const copy = await south.receivedCopy('imaging-north', `${placed.report}-acknowledge-gp-copy`);
  const due = after(issuedAt, GUIDELINE.acknowledge.CANCER);

  return [
    {
      what: 'the requesting ED clinician (Dr Priya Shah) is told when the report is issued',
      by: issuedAt,
      at: await north.told(alert, 'rn1-shah'),
    },
    {
      what: "the patient's GP practice S81001, in another region, gets its copy once the discharge is recorded",
      notBefore: dischargedAt,
      by: after(dischargedAt, TICK),
      at: copy ? await south.recorded(`Communication/${copy.id}`, 'alert-copy-received') : undefined,
    },
    {
      what: 'unacknowledged after 7 days, it is escalated to the delegate',
      notBefore: due,
      by: after(due, TICK),
      at: stepTo('delegate'),
    },
    {
      what: 'the patient is told after 14 days unacknowledged',
      notBefore: after(issuedAt, GUIDELINE.patientToldAfter),
      by: after(issuedAt, GUIDELINE.patientToldAfter + TICK),
      at: await north.patientTold(alert),
    },
  ];
}

export const SCENARIO_1_DISCHARGED_LATER: Scenario = {
  id: 1,
  name: 'lost-lung-cancer',
  title: 'the same lung cancer, the patient discharged two days after the report, still unread',
  run: lostLungCancerDischargedAfterReport,
};
