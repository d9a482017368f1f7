import { HttpStore, prepareReferenceIdentifierSearch } from '@imaging/fhir';
import { describeScenarios, SCENARIOS } from '@imaging/regional-gateway/scenarios';
import { ensurePartitions } from '../server/resolve.ts';
import { note, requireTarget } from '../suite/context.ts';

/**
 * Group 7: the clinical safety scenarios (services/regional-gateway/src/scenarios/, every one its registry
 * lists) — the very runs the unit tests make on the embedded store — with the hub and every gateway storing
 * in their own HAPI partition. Each scenario stages a failure the ombudsman or HSIB found and must be caught
 * within the guideline time, and its control run, the same steps without the safety layer, must raise
 * nothing. The clock is the scenarios' own (no real waiting), so HAPI's speed changes how long a run takes,
 * not what it proves. The partitions are the group's own (`safety-*`).
 */
const target = requireTarget();
const PARTITIONS: Readonly<Record<string, string>> = {
  hub: 'safety-hub',
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
