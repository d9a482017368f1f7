import { HttpStore, prepareReferenceIdentifierSearch } from '@imaging/fhir';
import { describeAttackSurface } from '../attack/suite.ts';
import type { ServiceName } from '../attack/surface.ts';
import { ensurePartitions } from '../server/resolve.ts';
import { note, requireTarget } from '../suite/context.ts';

/**
 * Group 6: the attack-surface suite (src/attack/) — the very cases the unit run sends to the services on
 * the embedded store — against the real hub and gateways with each one storing in its own HAPI partition.
 * Every case must be answered as on the embedded store, with no 5xx, nothing of another organisation's,
 * nothing of HAPI's own (codes, classes, partition names, its address), and no write from a refusal.
 * The gateways' partitions are the suite's own, apart from the pathway's, so group 3 never reads what
 * they wrote. The hub shares the pathway's: HAPI keeps a client-assigned id unique across partitions, and
 * the directory the hub seeds has fixed ids (seeding is idempotent, so the pathway's directory is reused).
 */
const target = requireTarget();
const PARTITIONS: Readonly<Record<ServiceName, string>> = {
  hub: 'hub',
  north: 'attack-north',
  midlands: 'attack-midlands',
  south: 'attack-south',
};

describeAttackSurface(`${target.software} (${target.root})`, {
  timeoutMs: 20 * 60_000,
  record: note,
  open: async () => {
    if (!target.partitioned)
      throw new Error(`${target.root} has no URL partitions: the attack surface stores each service in one`);
    await ensurePartitions(target.root, Object.values(PARTITIONS));
    const storeOf = (service: ServiceName) =>
      new HttpStore({ baseUrl: `${target.root}/${PARTITIONS[service]}`, timeoutMs: 60_000 });
    // `owner:identifier` and friends are served by SearchParameters on HAPI, searchable once indexed.
    await prepareReferenceIdentifierSearch(
      new HttpStore({ baseUrl: target.definitionsBase, timeoutMs: 120_000 }),
      Object.keys(PARTITIONS).map((service) => storeOf(service as ServiceName)),
    );
    return {
      store: storeOf,
      // Partition names a response must never show ('hub' is also a word the services use).
      internals: [target.root, new URL(target.root).host, PARTITIONS.north, PARTITIONS.midlands, PARTITIONS.south],
    };
  },
});
