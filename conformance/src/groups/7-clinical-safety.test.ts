import { expectEachStepOnce, raceEscalationOnTwoReplicas } from '@imaging/demo/replicas';
import { HttpStore, prepareReferenceIdentifierSearch } from '@imaging/fhir';
import { describeScenarios, SCENARIOS } from '@imaging/regional-gateway/scenarios';
import { connectedWorld, delayedCancerReportScenario, suspectedCesScenario } from '@imaging/regional-gateway/testing';
import type { SafetyWorld } from '@imaging/regional-gateway/testing';
import { describe, it } from 'vitest';
import { ensurePartitions } from '../server/resolve.ts';
import { note, requireTarget } from '../suite/context.ts';

/**
 * Group 7: the clinical safety scenarios (services/regional-gateway/src/scenarios/, every one its registry
 * lists) — the very runs the unit tests make on the embedded store — with the hub and every gateway storing
 * in their own HAPI partition. Each scenario stages a failure the ombudsman or HSIB found and must be caught
 * within the guideline time, and its control run, the same steps without the safety layer, must raise
 * nothing. The clock is the scenarios' own (no real waiting), so HAPI's speed changes how long a run takes,
 * not what it proves. The gateways' partitions are the group's own (`safety-*`); the hub stores in the
 * pathway's, as HAPI keeps the directory's client-assigned ids unique across partitions.
 *
 * Scenarios 4 and 5 (turnaround: a suspected-CES MRI, a delayed suspected-cancer report) take a world of
 * their own: they run here with the safety layer on, each on gateway partitions of its own.
 */
const target = requireTarget();
const PARTITIONS: Readonly<Record<string, string>> = {
  hub: 'hub',
  north: 'safety-north',
  midlands: 'safety-midlands',
  south: 'safety-south',
};

const storeOf = (service: string) => {
  const partition = PARTITIONS[service];
  if (!partition) throw new Error(`no partition for ${service}`);
  return new HttpStore({ baseUrl: `${target.root}/${partition}`, timeoutMs: 60_000 });
};

describeScenarios(SCENARIOS, {
  label: `${target.software} (${target.root})`,
  // A scenario's clock runs days in ticks: each tick is a few searches per region on HAPI.
  timeoutMs: 15 * 60_000,
  record: note,
  store: storeOf,
  prepare: async () => {
    if (!target.partitioned)
      throw new Error(`${target.root} has no URL partitions: the scenarios store each service in one`);
    await ensurePartitions(target.root, Object.values(PARTITIONS));
    // `next-check` (the safety job's index) and `owner:identifier` and friends are SearchParameters on HAPI,
    // installed where definitions live and searchable in every partition before anything is written.
    await prepareReferenceIdentifierSearch(
      new HttpStore({ baseUrl: target.definitionsBase, timeoutMs: 120_000 }),
      Object.keys(PARTITIONS).map(storeOf),
    );
  },
});

const TURNAROUND_SCENARIOS: readonly [string, string, (world: SafetyWorld) => Promise<void>][] = [
  [
    '4',
    'a suspected-CES MRI breaches its 4-hour SLA, then a positive finding reaches the spinal team',
    suspectedCesScenario,
  ],
  ['5', 'an urgent suspected-cancer report is delayed past its due time', delayedCancerReportScenario],
];

describe.each(TURNAROUND_SCENARIOS)(`scenario %s on ${target.software}`, (id, title, scenario) => {
  it(`${title}: caught, escalated and audited`, { timeout: 15 * 60_000 }, async () => {
    const partition = (service: string) => (service === 'hub' ? 'hub' : `tat${id}-${service}`);
    const stores = ['hub', 'north', 'midlands', 'south'];
    await ensurePartitions(target.root, stores.map(partition));
    const storeAt = (service: string) =>
      new HttpStore({ baseUrl: `${target.root}/${partition(service)}`, timeoutMs: 60_000 });
    await prepareReferenceIdentifierSearch(
      new HttpStore({ baseUrl: target.definitionsBase, timeoutMs: 120_000 }),
      stores.map(storeAt),
    );
    const world = await connectedWorld({ safety: true, store: storeAt });
    try {
      await scenario(world);
    } finally {
      await world.close();
    }
  });
});

describe(`replicas on ${target.software}`, () => {
  it('two north gateway processes on one partition escalate each step of a CRITICAL alert exactly once', {
    timeout: 10 * 60_000,
  }, async () => {
    // The gateways' partitions are the test's own; the hub stores in the pathway's (see above).
    const stores = { hub: 'hub', north: 'replica-north', midlands: 'replica-midlands' };
    await ensurePartitions(target.root, Object.values(stores));
    const at = (partition: string) => `${target.root}/${partition}`;
    await prepareReferenceIdentifierSearch(
      new HttpStore({ baseUrl: target.definitionsBase, timeoutMs: 120_000 }),
      Object.values(stores).map((p) => new HttpStore({ baseUrl: at(p), timeoutMs: 60_000 })),
    );
    // Every hop is slower on HAPI: a step of 5 s lets a pass finish well within it.
    const race = await raceEscalationOnTwoReplicas({
      stores: { hub: at(stores.hub), north: at(stores.north), midlands: at(stores.midlands) },
      stepMs: 5_000,
      timeoutMs: 3 * 60_000,
    });
    expectEachStepOnce(race);
    note(`replica shares: ${JSON.stringify(race.replicas)}`);
  });
});
