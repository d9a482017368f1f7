import type { Catch, Scenario } from './scenario.ts';
import { after, GUIDELINE, HOUR, staged } from './scenario.ts';
import { issueReport, placeCase } from './steps.ts';
import type { ScenarioWorld } from './world.ts';

/**
 * A report addressed to a clinician who has left (the ombudsman's "wrong recipient"): GP practice N81001
 * orders naming Dr Tom Reed, who has since left the practice (inactive in the directory), from RN1; RN1
 * reports an URGENT finding.
 *
 * The safety layer must not wait 24 hours for an answer that cannot come: Dr Reed is passed at once (and the
 * trail says why), his delegate has the alert from the moment it is raised, and it climbs on from there.
 */
const TICK = HOUR;

export async function clinicianHasLeft(world: ScenarioWorld): Promise<Catch[]> {
  const placed = await placeCase(world, {
    referrer: 'gp-n81001',
    requester: 'N81001',
    performer: 'RN1',
    clinician: 'n81001-reed',
  });
  const issuedAt = world.clock.now();
  await issueReport(world, placed, {
    ris: 'ris-rn1',
    category: 'URGENT',
    conclusion: 'New 4 cm pleural effusion with pleural nodularity; urgent respiratory review.',
  });
  await world.advance(26 * HOUR, TICK);

  const north = world.trail('north');
  staged(await north.report(placed.report), 'the report was issued');
  const alert = await north.alert(placed.report);
  staged(alert?.status !== 'completed', 'nobody acknowledged the alert');
  const skipped = (await north.skipped(alert)).find((s) => s.step === 'requester' && /no longer active/.test(s.reason));
  const due = after(issuedAt, GUIDELINE.acknowledge.URGENT);

  return [
    {
      what: 'Dr Reed, who has left, is passed at once, and the trail says why',
      by: issuedAt,
      at: skipped?.at,
    },
    {
      what: 'his delegate (Dr Ben Okafor) has the alert when the report is issued, not after the 24-hour window',
      by: issuedAt,
      at: await north.told(alert, 'n81001-okafor'),
    },
    {
      what: 'unacknowledged at 24 hours, it climbs on to the responsible GP (Dr Clare Hughes)',
      notBefore: due,
      by: after(due, TICK),
      at: (await north.escalations(alert)).find((e) => e.to === 'responsible')?.at,
    },
  ];
}

export const SCENARIO_3: Scenario = {
  id: 3,
  name: 'clinician-has-left',
  title: 'a report addressed to a clinician who has left: escalated at once',
  run: clinicianHasLeft,
};
