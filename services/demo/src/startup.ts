import type { Endpoint } from '@medplum/fhirtypes';
import { HttpStore, loadFhirDefinitions, prepareReferenceIdentifierSearch, SYSTEMS } from '@imaging/fhir';
import { createClinician, createReferrer, createRisPacs, devClient } from '@imaging/simulators';
import { theOne, Stores } from './evidence.ts';
import type { Actors, DemoContext, Step } from './steps.ts';
import { CheckFailed, verify } from './steps.ts';
import { REGIONS, storeLocations } from './world.ts';

function regionUrl(ctx: DemoContext, id: string): string {
  const region = ctx.topology.regions.find((r) => r.id === id);
  if (!region) throw new Error(`no region ${id} in the topology`);
  return region.url;
}

/** Step 1: the hub and the three gateways, each its own process, started together, each healthy. */
export const startTopology: Step = {
  title: 'Start the national hub and three regional gateways, each its own process',
  async run(ctx) {
    const t = ctx.timeline;
    const all = [ctx.services.hub, ...REGIONS.map((r) => ctx.services[r])];
    if (ctx.options.hapiUrl) await checkHapi(ctx, ctx.options.hapiUrl);
    // All four at once: a gateway needs the hub only for its first token or JWKS, well after start-up.
    const began = performance.now();
    for (const service of all) await service.launch();
    t.event({
      where: 'all',
      who: 'demo',
      what: `started ${all.map((s) => `${s.spec.name} (pid ${s.pid})`).join(', ')}`,
    });
    // The demo reads the embedded stores itself: load the FHIR definitions they index with meanwhile.
    if (!ctx.options.hapiUrl) loadFhirDefinitions();
    const ready = await Promise.allSettled(
      all.map(async (service) => {
        await service.waitHealthy();
        t.event({
          where: service.spec.name === 'hub' ? 'national' : service.spec.name,
          who: service.spec.name === 'hub' ? 'national-hub' : `gateway-${service.spec.name}`,
          what: `${service.spec.label} healthy at ${service.baseUrl}`,
          hopMs: performance.now() - began,
        });
      }),
    );
    const failed = ready.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed.length) throw new CheckFailed(failed.map((f) => (f.reason as Error).message).join('\n'));

    ctx.stores = new Stores(storeLocations(ctx.options, ctx.dataDir));
    for (const region of ctx.topology.regions) {
      const endpoint = await theOne<Endpoint>(ctx.stores.hub, 'Endpoint', SYSTEMS.serviceId, region.serviceId);
      verify(
        ctx,
        'national',
        `hub directory: ${region.serviceId} → ${endpoint?.address ?? '?'}`,
        endpoint?.address === `${region.url}/fhir`,
        endpoint?.address,
      );
    }
    ctx.actors = await connectActors(ctx);
    t.event({
      where: 'all',
      who: 'demo',
      what: 'simulated systems connected: gp-n81001 (north), ris-rm1 (midlands), clinician-rs1 (south)',
      kind: 'note',
    });
  },
};

async function connectActors(ctx: DemoContext): Promise<Actors> {
  const options = { hubUrl: ctx.topology.hub.url, dataDir: ctx.dataDir };
  const north = `${regionUrl(ctx, 'north')}/fhir`;
  const midlands = `${regionUrl(ctx, 'midlands')}/fhir`;
  const hub = `${ctx.topology.hub.url}/fhir`;
  const gpClient = await devClient('gp-n81001', north, options);
  const clinicianAtHub = await devClient('clinician-rs1', hub, options);
  return {
    gp: createReferrer(gpClient, 'N81001'),
    gpClient,
    ris: createRisPacs(await devClient('ris-rm1', midlands, options), 'RM1'),
    clinician: createClinician(clinicianAtHub),
    clinicianAtHub,
    gpAtMidlands: await devClient('gp-n81001', midlands, options),
    gpAtHub: await devClient('gp-n81001', hub, options),
    clinicianAtNorth: await devClient('clinician-rs1', north, options),
  };
}

/** The HAPI server must answer for every partition the services will use, before anything starts. */
async function checkHapi(ctx: DemoContext, hapiUrl: string): Promise<void> {
  const locations = storeLocations(ctx.options, ctx.dataDir);
  for (const base of [locations.hub, ...Object.values(locations.regions)]) {
    let status: number | string;
    try {
      const res = await fetch(`${base}/Organization?_count=1&_summary=count`, {
        headers: { Accept: 'application/fhir+json' },
        signal: AbortSignal.timeout(10_000),
      });
      await res.body?.cancel();
      status = res.status;
    } catch (err) {
      status = ((err as { cause?: { code?: string } }).cause?.code ?? (err as Error).message) || 'no answer';
    }
    if (status !== 200) {
      throw new CheckFailed(
        `HAPI FHIR partition ${base} is not usable (${status}): start the server (infra/hapi-fhir) with partitions hub, north, midlands and south, or run the demo without --hapi`,
      );
    }
  }
  ctx.timeline.check(
    'all',
    `HAPI FHIR answers for ${Object.keys(locations.regions).length + 1} partitions at ${hapiUrl}`,
  );
  // A deployment step: the SearchParameters that stand in for `:identifier` on references (HAPI lacks
  // it) must exist before the resources they index are written. Idempotent; on HAPI they live in DEFAULT.
  const partitions = [locations.hub, ...Object.values(locations.regions)].map(
    (baseUrl) => new HttpStore({ baseUrl: baseUrl as string }),
  );
  const created = await prepareReferenceIdentifierSearch(new HttpStore({ baseUrl: `${hapiUrl}/DEFAULT` }), partitions);
  ctx.timeline.check(
    'all',
    `reference-identifier SearchParameters in place (${created.length ? `${created.length} created` : 'all present'})`,
  );
}
