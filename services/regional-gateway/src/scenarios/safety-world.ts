import type {
  AuditEvent,
  Bundle,
  Communication,
  DiagnosticReport,
  Endpoint,
  Flag,
  ImagingStudy,
  Resource,
  ServiceRequest,
  Task,
} from '@medplum/fhirtypes';
import { CODE_SYSTEMS, searchAll, SYSTEMS } from '@imaging/fhir';
import type { AlertCategory, WithId } from '@imaging/fhir';
import { exampleDiagnosticReport, exampleEndpoint, exampleImagingStudy, examplePatient } from '@imaging/fhir/examples';
import { deliverDue } from '../domain/delivery.ts';
import { MINUTE } from './scenario.ts';
import { runSafetyPass } from '../domain/safety.ts';
import type { ConnectedOptions, ConnectedRegion } from '../testing/national.ts';
import { connectedRegions } from '../testing/national.ts';
import type { TestClock } from '../testing/regions.ts';

/**
 * What a clinical-safety scenario runs against: the real hub and a real gateway app per region, their
 * stores, and a clock the scenario moves by hand. The scenarios (`<n>-<name>.ts`) take a world and never
 * build one, so the same steps run on the embedded store here and on HAPI FHIR partitions (pass
 * `store` through `connectedWorld`'s options), with the safety layer on, and off to prove they can fail.
 */
export interface SafetyWorld {
  clock: TestClock;
  /** False when every gateway runs without its clinical safety layer: nothing may then be raised. */
  safety: boolean;
  /** Each region's gateway: its domain deps (its store) and its app. */
  regions: Record<string, ConnectedRegion>;
  /** A request to a region's gateway (`/fhir/…`), as a dev client with a real token from the hub. */
  request(
    region: string,
    client: string,
    method: string,
    path: string,
    body?: unknown,
    ifMatch?: string,
  ): Promise<Response>;
  /** Every region's delivery worker, until nothing more is delivered. */
  deliver(): Promise<void>;
  /** One pass of every region's safety job. */
  runSafetyJob(): Promise<void>;
  close(): Promise<void>;
}

export async function connectedWorld(options: ConnectedOptions & { safety: boolean }): Promise<SafetyWorld> {
  const world = await connectedRegions(options);
  const regionOf = (id: string) => {
    const region = world.regions[id];
    if (!region) throw new Error(`no region ${id}`);
    return region;
  };
  return {
    clock: world.clock,
    safety: options.safety,
    regions: world.regions,
    async request(region, client, method, path, body, ifMatch) {
      const gateway = regionOf(region);
      return gateway.app.request(`${gateway.deps.region.fhirBaseUrl}${path}`, {
        method,
        headers: {
          Authorization: `Bearer ${await world.tokenFor(client)}`,
          Accept: 'application/fhir+json',
          ...(body ? { 'Content-Type': 'application/fhir+json' } : {}),
          ...(ifMatch ? { 'If-Match': `W/"${ifMatch}"` } : {}),
        },
        ...(body ? { body: JSON.stringify(body) } : {}),
      });
    },
    async deliver() {
      for (let round = 0; round < 10; round++) {
        let delivered = 0;
        for (const region of Object.values(world.regions)) delivered += (await deliverDue(region.deps)).delivered;
        if (delivered === 0) return;
      }
    },
    async runSafetyJob() {
      for (const region of Object.values(world.regions)) await runSafetyPass(region.deps);
    },
    async close() {
      world.close();
    },
  };
}

/** The body of a response, which must have the status expected: a scenario step that fails says why. */
export async function expectStatus<T extends Resource | Bundle>(response: Response, status: number): Promise<T> {
  const body = (await response.json()) as T;
  if (response.status !== status)
    throw new Error(`expected ${status}, got ${response.status}: ${JSON.stringify(body).slice(0, 500)}`);
  return body;
}

/** The dev clients the scenarios act as: the GP practice N81001 (north) and the RIS of RM1 (midlands). */
export const GP_CLIENT = 'gp-n81001';
export const RIS_CLIENT = 'ris-rm1';

/** The GP registers the patient and places the order at the north's gateway; it is routed to the midlands. */
export async function gpPlacesOrder(world: SafetyWorld, order: ServiceRequest): Promise<WithId<ServiceRequest>> {
  await expectStatus(await world.request('north', GP_CLIENT, 'POST', '/Patient', examplePatient()), 201);
  const placed = await expectStatus<WithId<ServiceRequest>>(
    await world.request('north', GP_CLIENT, 'POST', '/ServiceRequest', order),
    201,
  );
  await world.deliver();
  return placed;
}

/** The Tasks of one code a client sees at a region's gateway. */
export async function tasksSeen(
  world: SafetyWorld,
  region: string,
  client: string,
  code: string,
): Promise<WithId<Task>[]> {
  const query = new URLSearchParams({ code: `${CODE_SYSTEMS.taskCode}|${code}` });
  const bundle = await expectStatus<Bundle>(await world.request(region, client, 'GET', `/Task?${query}`), 200);
  return (bundle.entry ?? []).filter((e) => e.search?.mode === 'match').map((e) => e.resource as WithId<Task>);
}

/**
 * Runs the safety job a minute before a turnaround target falls due (`dueIn` from now), where RM1 must see
 * no breach yet, and again when it is due; returns the breach Tasks RM1 sees then, and the midlands' Flags.
 */
export async function breachWhenDue(world: SafetyWorld, dueIn: number) {
  world.clock.advance(dueIn - MINUTE);
  await world.runSafetyJob();
  const early = await tasksSeen(world, 'midlands', RIS_CLIENT, 'resolve-breach');
  if (early.length) throw new Error(`a breach a minute before its due time: ${early.map((t) => t.id).join(', ')}`);
  world.clock.advance(MINUTE);
  await world.runSafetyJob();
  return {
    breaches: await tasksSeen(world, 'midlands', RIS_CLIENT, 'resolve-breach'),
    flags: await stored<Flag>(world, 'midlands', 'Flag'),
  };
}

/** The RIS takes the new order through `statuses` (each a versioned update); returns the Task and its order. */
export async function risWorksOrder(world: SafetyWorld, statuses: Task['status'][]) {
  let [task] = (await tasksSeen(world, 'midlands', RIS_CLIENT, 'fulfil')).filter((t) => t.status === 'requested');
  if (!task) throw new Error('no new fulfilment Task for RM1');
  const ref = task.focus?.reference as string;
  const order = await expectStatus<WithId<ServiceRequest>>(
    await world.request('midlands', RIS_CLIENT, 'GET', `/${ref}`),
    200,
  );
  for (const status of statuses) {
    task = await expectStatus<WithId<Task>>(
      await world.request('midlands', RIS_CLIENT, 'PUT', `/Task/${task.id}`, { ...task, status }, task.meta?.versionId),
      200,
    );
  }
  return { task, order };
}

/** The RIS records the study of an order, done at `started`, with its DICOMweb Endpoint. */
export async function risRecordsStudy(
  world: SafetyWorld,
  order: WithId<ServiceRequest>,
  started: Date,
): Promise<WithId<ImagingStudy>> {
  const address = exampleEndpoint().address;
  const endpoint = await world.request(
    'midlands',
    RIS_CLIENT,
    'POST',
    '/Endpoint',
    exampleEndpoint({ id: undefined, identifier: [{ system: 'urn:ietf:rfc:3986', value: address }] }),
  );
  const { id } = (await endpoint.json()) as WithId<Endpoint>;
  return expectStatus<WithId<ImagingStudy>>(
    await world.request(
      'midlands',
      RIS_CLIENT,
      'POST',
      '/ImagingStudy',
      exampleImagingStudy({
        basedOn: [{ reference: `ServiceRequest/${order.id}` }],
        subject: order.subject as ImagingStudy['subject'],
        endpoint: [{ reference: `Endpoint/${id}` }],
        started: started.toISOString(),
        procedureCode: order.code ? [order.code] : [],
      }),
    ),
    201,
  );
}

/** The RIS issues the final report of an order's study, with its alert category; it is routed to the north. */
export async function risIssuesReport(
  world: SafetyWorld,
  order: WithId<ServiceRequest>,
  study: WithId<ImagingStudy>,
  report: { category: AlertCategory; conclusion: string; identifier: string },
): Promise<WithId<DiagnosticReport>> {
  const issued = await expectStatus<WithId<DiagnosticReport>>(
    await world.request(
      'midlands',
      RIS_CLIENT,
      'POST',
      '/DiagnosticReport',
      exampleDiagnosticReport(
        {
          identifier: [{ system: SYSTEMS.report, value: report.identifier }],
          basedOn: [{ reference: `ServiceRequest/${order.id}` }],
          subject: order.subject as DiagnosticReport['subject'],
          imagingStudy: [{ reference: `ImagingStudy/${study.id}` }],
          ...(order.code ? { code: order.code } : {}),
          effectiveDateTime: study.started,
          issued: world.clock.now().toISOString(),
          conclusion: report.conclusion,
        },
        report.category,
      ),
    ),
    201,
  );
  await world.deliver();
  return issued;
}

/** A region's resources of one type as its store holds them, whoever may read them. */
export function stored<T extends Resource>(world: SafetyWorld, region: string, type: T['resourceType'], query = {}) {
  const deps = world.regions[region]?.deps;
  if (!deps) throw new Error(`no region ${region}`);
  return searchAll<T>(deps.store, type, query);
}

/** A region's AuditEvents of one subtype (e.g. breach-escalated), oldest first, each as its details. */
export async function auditDetails(world: SafetyWorld, region: string, subtype: string) {
  const events = await stored<AuditEvent>(world, region, 'AuditEvent', {
    subtype: `${CODE_SYSTEMS.auditSubtype}|${subtype}`,
  });
  return events
    .sort((a, b) => a.recorded.localeCompare(b.recorded))
    .map((e) =>
      Object.fromEntries((e.entity ?? []).flatMap((x) => x.detail ?? []).map((d) => [d.type, d.valueString])),
    );
}

/** The Communications a region holds to one recipient, by the identifier of the role or organisation. */
export async function communicationsTo(world: SafetyWorld, region: string, recipient: string) {
  return (await stored<Communication>(world, region, 'Communication')).filter((c) =>
    c.recipient?.some((r) => r.identifier?.value === recipient),
  );
}
