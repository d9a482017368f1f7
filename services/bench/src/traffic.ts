import { EXAMPLE, examplePatient, exampleServiceRequest } from '@imaging/fhir/examples';
import { NHS_NUMBER_SYSTEM, openStore, SYSTEMS, testNhsNumber } from '@imaging/fhir';
import type { ServiceRequest } from '@medplum/fhirtypes';
import type { FhirClient } from '@imaging/simulators';
import { devClient } from '@imaging/simulators';
import type { BenchTopology } from './topology.ts';

/** The GP in the north orders from the diagnostic centre in the midlands: every order crosses the hub. */
export interface Traffic {
  gp: FhirClient;
  /** A run-unique prefix for placer order numbers. */
  prefix: string;
  /** NHS numbers of registered patients, which orders cycle through. */
  patients: string[];
}

export async function connectTraffic(world: BenchTopology, patients: number, concurrency: number): Promise<Traffic> {
  const north = world.topology.regions.find((r) => r.id === 'north');
  if (!north) throw new Error('the topology has no north region');
  const gp = await devClient('gp-n81001', `${north.url}/fhir`, {
    hubUrl: world.topology.hub.url,
    dataDir: world.dataDir,
    timeoutMs: 60_000,
  });
  const stamp = String(Date.now() % 1_000_000_000);
  const nhsNumbers = Array.from({ length: patients }, (_, i) => testNhsNumber(1 + i));
  await inParallel(nhsNumbers.length, concurrency, async (i) => {
    await gp.create(examplePatient({ identifier: [{ system: NHS_NUMBER_SYSTEM, value: nhsNumbers[i] as string }] }));
  });
  return { gp, prefix: `${EXAMPLE.requesterOds}-${stamp}`, patients: nhsNumbers };
}

export function placerOf(traffic: Traffic, n: number): string {
  return `${traffic.prefix}-${n}`;
}

/** A placed order: its placer number and when the north gateway stored it (its meta.lastUpdated). */
export interface Placed {
  placer: string;
  storedAt: number;
}

export async function placeOrder(traffic: Traffic, n: number): Promise<Placed> {
  const placer = placerOf(traffic, n);
  const nhs = traffic.patients[n % traffic.patients.length] as string;
  const order: ServiceRequest = exampleServiceRequest({
    identifier: [{ system: SYSTEMS.placerOrder, value: placer }],
    subject: { type: 'Patient', identifier: { system: NHS_NUMBER_SYSTEM, value: nhs } },
    authoredOn: new Date().toISOString(),
  });
  const { resource } = await traffic.gp.create(order, { correlationId: `case-${placer}` });
  return { placer, storedAt: Date.parse(resource.meta?.lastUpdated ?? '') };
}

/** Runs `work(0..count-1)` with at most `concurrency` at once (a closed loop: each worker waits for its answer). */
export async function inParallel(
  count: number,
  concurrency: number,
  work: (i: number) => Promise<void>,
): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < count) await work(next++);
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
}

/**
 * Counts the orders the midlands gateway holds, reading its store beside the running gateway (a file,
 * where WAL lets a reader in, or a HAPI partition), until `expected` are there or `timeoutMs` passes. Returns when the last arrived.
 */
export async function waitForDeliveries(
  world: BenchTopology,
  expected: number,
  timeoutMs: number,
): Promise<{ delivered: number; at: number }> {
  const store = openStore(world.storePath.midlands);
  const deadline = Date.now() + timeoutMs;
  try {
    for (;;) {
      const page = await store.search('ServiceRequest', { _summary: 'count' });
      const delivered = page.total ?? 0;
      if (delivered >= expected || Date.now() > deadline) return { delivered, at: Date.now() };
      await new Promise((r) => setTimeout(r, 200));
    }
  } finally {
    await store.close();
  }
}

/**
 * When each order arrived in the midlands (its copy's meta.lastUpdated), by placer number, and how many
 * copies of each there are (exactly one each, or delivery was not exactly-once).
 */
export async function arrivals(world: BenchTopology): Promise<Map<string, { at: number; copies: number }>> {
  const store = openStore(world.storePath.midlands);
  const found = new Map<string, { at: number; copies: number }>();
  try {
    let page = await store.search<ServiceRequest>('ServiceRequest', { _count: '1000', _total: 'none' });
    for (;;) {
      for (const sr of page.resources) {
        const placer = sr.identifier?.find((i) => i.system === SYSTEMS.placerOrder)?.value;
        if (!placer) continue;
        const seen = found.get(placer);
        const at = Date.parse(sr.meta?.lastUpdated ?? '');
        found.set(placer, { at: seen ? Math.min(seen.at, at) : at, copies: (seen?.copies ?? 0) + 1 });
      }
      if (!page.next) break;
      page = await store.nextPage<ServiceRequest>(page.next);
    }
  } finally {
    await store.close();
  }
  return found;
}

/** Delivery latencies (ms) of the placed orders, and how many arrived more than once or not at all. */
export async function deliveryLatencies(
  world: BenchTopology,
  placed: Placed[],
): Promise<{ latencies: number[]; missing: number; duplicated: number }> {
  const arrived = await arrivals(world);
  const latencies: number[] = [];
  let missing = 0;
  let duplicated = 0;
  for (const p of placed) {
    const a = arrived.get(p.placer);
    if (!a) missing++;
    else {
      latencies.push(a.at - p.storedAt);
      if (a.copies > 1) duplicated++;
    }
  }
  return { latencies, missing, duplicated };
}
