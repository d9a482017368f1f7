import type { Catch, Scenario } from './scenario.ts';
import { after, GUIDELINE, HOUR, MINUTE, staged } from './scenario.ts';
import { issueReport, placeCase } from './steps.ts';
import type { ScenarioWorld } from './world.ts';

/**
 * A CRITICAL finding nobody acknowledges (the ombudsman's "findings not acted on", DOMAIN.md §2). GP practice
 * N81001 (north) orders a CT chest from RM1 (midlands), naming Dr Asha Patel; RM1 reports a critical finding
 * and the alert reaches the north, and nobody answers it for three hours.
 *
 * The safety layer must climb the whole ladder in the north, each step when the last one's window has passed
 * (60 min to acknowledge, then 30 min a step): the delegate, the responsible GP, the network's fail-safe
 * officer, and remind the officer again; and the midlands, which issued it, must not wait on the north: its
 * own watch tells its own fail-safe officer once the acknowledgement is one step overdue.
 */
const TICK = 5 * MINUTE;

export async function criticalNeverAcknowledged(world: ScenarioWorld): Promise<Catch[]> {
  const placed = await placeCase(world, {
    referrer: 'gp-n81001',
    requester: 'N81001',
    performer: 'RM1',
    clinician: 'n81001-patel',
  });
  const issuedAt = world.clock.now();
  await issueReport(world, placed, {
    ris: 'ris-rm1',
    category: 'CRITICAL',
    conclusion: 'Large saddle pulmonary embolus with right heart strain. Immediate clinical review.',
  });
  await world.advance(3 * HOUR, TICK);

  const north = world.trail('north');
  const midlands = world.trail('midlands');
  staged(await north.report(placed.report), 'the report reached the north');
  const alert = await north.alert(placed.report);
  staged(alert?.status !== 'completed', 'nobody acknowledged the alert');
  const ladder = await north.escalations(alert);
  const officer = ladder.filter((e) => e.to === 'fail-safe-officer');
  const watch = await midlands.watch(placed.report);
  const due = after(issuedAt, GUIDELINE.acknowledge.CRITICAL);
  const step = GUIDELINE.step.CRITICAL;
  const window = (steps: number) => ({ notBefore: after(due, steps * step), by: after(due, steps * step + TICK) });

  return [
    {
      what: 'the requesting GP (Dr Asha Patel) is told when the report arrives',
      by: issuedAt,
      at: await north.told(alert, 'n81001-patel'),
    },
    {
      what: 'unacknowledged at 60 minutes, it is escalated to the delegate',
      ...window(0),
      at: ladder.find((e) => e.to === 'delegate')?.at,
    },
    {
      what: 'then, 30 minutes on, to the responsible GP (Dr Clare Hughes)',
      ...window(1),
      at: ladder.find((e) => e.to === 'responsible')?.at,
    },
    {
      what: "then to the north network's fail-safe officer (Jo Fairweather)",
      ...window(2),
      at: officer[0]?.at,
    },
    {
      what: 'who is reminded each step until it is answered',
      ...window(3),
      at: officer[1]?.at,
    },
    {
      what: "the midlands' own watch tells its fail-safe officer (Chris Dunmore), one step after the due time",
      ...window(1),
      at: await midlands.told(watch, 'midlands-failsafe'),
    },
  ];
}

export const SCENARIO_2: Scenario = {
  id: 2,
  name: 'critical-never-acknowledged',
  title: 'a CRITICAL finding never acknowledged: the ladder runs to the fail-safe officer',
  run: criticalNeverAcknowledged,
};
