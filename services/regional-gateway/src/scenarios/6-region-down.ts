import type { Task } from '@medplum/fhirtypes';
import type { WithId } from '@imaging/fhir';
import type { Catch, Scenario } from './scenario.ts';
import { after, GUIDELINE, HOUR, MINUTE, staged } from './scenario.ts';
import { acknowledge, issueReport, placeCase } from './steps.ts';
import type { ScenarioWorld } from './world.ts';

/**
 * An alert raised in region B (the midlands, RM1) for a referrer in region A (the north, N81001) while A's
 * gateway is down: the report cannot reach the referrer for three hours. "A region that is down delays
 * delivery; it never loses it" (DESIGN.md), and neither region alone may fail silently.
 *
 * The safety layer must have B's own timer (its watch on the alert) tell B's fail-safe officer once the
 * acknowledgement is a step overdue, without A; give A the alert once it is back, once, already overdue, so
 * it escalates at once; and close the loop at B when A's GP acknowledges it.
 */
const TICK = 5 * MINUTE;
const OUTAGE = 3 * HOUR;

export async function regionDown(world: ScenarioWorld): Promise<Catch[]> {
  const placed = await placeCase(world, {
    referrer: 'gp-n81001',
    requester: 'N81001',
    performer: 'RM1',
    clinician: 'n81001-patel',
  });
  world.setDown('north', true);
  const issuedAt = world.clock.now();
  await issueReport(world, placed, {
    ris: 'ris-rm1',
    category: 'CRITICAL',
    conclusion: 'Free intraperitoneal gas: perforated viscus. Immediate surgical review.',
  });
  await world.advance(OUTAGE, TICK);
  const north = world.trail('north');
  staged(!(await north.report(placed.report)), 'the report could not reach the north while it was down');
  world.setDown('north', false);
  const backAt = world.clock.now();
  // B retries with a backoff of at most a minute (the delivery settings), so within a tick.
  await world.advance(TICK, TICK);
  staged(await north.report(placed.report), 'the report reached the north once it was back');
  const alert = await north.alert(placed.report);
  // The GP practice answers what it is shown, as soon as it is shown it.
  if (alert) await acknowledge(world, 'gp-n81001', alert as WithId<Task>, 'Dr Asha Patel', { by: 'Dr Eva Novak, RM1' });
  const acknowledgedAt = world.clock.now();
  await world.advance(HOUR, TICK);

  const midlands = world.trail('midlands');
  const watch = await midlands.watch(placed.report);
  const due = after(issuedAt, GUIDELINE.acknowledge.CRITICAL);
  const raised = alert?.authoredOn ? new Date(alert.authoredOn) : undefined;
  return [
    {
      what: "B's own watch tells B's fail-safe officer while A is down, one step after the due time",
      notBefore: after(due, GUIDELINE.step.CRITICAL),
      by: after(due, GUIDELINE.step.CRITICAL + TICK),
      at: await midlands.told(watch, 'midlands-failsafe'),
    },
    {
      what: "A gets the alert once it is back, at B's next retry: told late, never lost",
      notBefore: backAt,
      by: after(backAt, TICK),
      at: raised,
    },
    {
      what: 'already overdue on arrival, it escalates in A at once',
      notBefore: backAt,
      by: raised ?? after(backAt, TICK),
      at: (await north.escalations(alert)).find((e) => e.to === 'delegate')?.at,
    },
    {
      what: "A's acknowledgement reaches B's watch, which stops reminding",
      notBefore: acknowledgedAt,
      by: after(acknowledgedAt, TICK),
      at:
        (await midlands.watch(placed.report))?.status === 'in-progress'
          ? await midlands.watchUpdated(watch)
          : undefined,
    },
  ];
}

export const SCENARIO_6: Scenario = {
  id: 6,
  name: 'region-down',
  title: "an alert for a region whose gateway is down: told late, never lost, the sender's timer escalates",
  run: regionDown,
};
