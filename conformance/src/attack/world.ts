import { randomInt } from 'node:crypto';
import { loadDevHubKey } from '@imaging/auth';
import type { SigningKey } from '@imaging/auth';
import { devTopology } from '@imaging/config';
import type { Topology } from '@imaging/config';
import {
  CODE_SYSTEMS,
  DICOM_UID_SYSTEM,
  NHS_NUMBER_SYSTEM,
  ODS_SYSTEM,
  randomTestNhsNumber,
  SYSTEMS,
} from '@imaging/fhir';
import type { FhirStore } from '@imaging/fhir';
import {
  exampleDiagnosticReport,
  exampleEndpoint,
  exampleImagingStudy,
  examplePatient,
  exampleServiceRequest,
} from '@imaging/fhir/examples';
import { checkTurnarounds, connectedRegions, deliverDue } from '@imaging/regional-gateway/testing';
import type { ConnectedRegion } from '@imaging/regional-gateway/testing';
import { trailSourceOf } from '@imaging/fhir-http';
import type { Bundle, DiagnosticReport, DocumentReference, Resource, Task } from '@medplum/fhirtypes';
import type { Marker } from './checker.ts';
import type { Answer, AttackRequest, Identity, ServiceName } from './surface.ts';
import { GATEWAYS } from './surface.ts';

/**
 * The world the attack suite runs in: the real hub and a real gateway per region (the gateway's test kit,
 * `connectedRegions`), every service on the store the run gives it, and three cases seeded through the
 * HTTP API with real tokens. Each case's free text carries a unique secret marker, so an answer that
 * shows another organisation's data is caught by scanning it for the markers its caller may not see.
 */

/** The dev topology plus a second organisation in each region, so access across organisations can be tried. */
export function attackTopology(): Topology {
  const topology = devTopology();
  const clientLike = (id: string, region: string, organisation: string, like: string) => {
    const model = topology.clients.find((c) => c.id === like);
    if (!model) throw new Error(`no dev client ${like}`);
    return { ...model, id, region, organisation };
  };
  return {
    ...topology,
    clients: [
      ...topology.clients,
      clientLike('ris-rn1', 'north', 'RN1', 'ris-rm1'),
      clientLike('gp-m81001', 'midlands', 'M81001', 'gp-n81001'),
      clientLike('gp-s81001', 'south', 'S81001', 'gp-n81001'),
    ],
  };
}

export interface AttackWorldOptions {
  /** The unvalidated store of each service; the kit validates writes. */
  store: (service: ServiceName) => FhirStore;
}

/** What a case of one region holds: the ids of its copies. */
export interface CaseCopy {
  patient: string;
  order: string;
  task: string;
  taskVersion: string;
  study?: string;
  report?: string;
  endpoint?: string;
  /** The safety layer's notices about the case here: a Communication, and a breach Flag. */
  notice?: string;
  flag?: string;
  /** The case's correlation id (X-Correlation-ID), which `$case-trail` takes. */
  correlation?: string;
}

export type AttackWorld = Awaited<ReturnType<typeof attackWorld>>;

export async function attackWorld(options: AttackWorldOptions) {
  const topology = attackTopology();
  const net = await connectedRegions({
    topology,
    store: (service) => options.store(service as ServiceName),
    // The flow view's event feed at every gateway: `GET /events` is attacked like every other endpoint.
    flow: true,
  });
  const hubKey: SigningKey = await loadDevHubKey(net.hub.dataDir);
  // Unique per run: a HAPI given with --target keeps what earlier runs wrote.
  const run = String(randomInt(100_000, 1_000_000));

  const gateway = (service: Exclude<ServiceName, 'hub'>): ConnectedRegion => {
    const region = net.regions[service];
    if (!region) throw new Error(`no region ${service}`);
    return region;
  };
  const stores: Record<ServiceName, FhirStore> = {
    hub: net.hub.store,
    north: gateway('north').deps.store,
    midlands: gateway('midlands').deps.store,
    south: gateway('south').deps.store,
  };
  const urlOf = (service: ServiceName) =>
    service === 'hub' ? net.hub.publicUrl : gateway(service).deps.region.fhirBaseUrl.replace(/\/fhir$/, '');

  /** One request to a service's app, as a client sends it over HTTP. */
  async function send(service: ServiceName, request: AttackRequest, authorization?: string): Promise<Answer> {
    const app = service === 'hub' ? net.hub.app : gateway(service).app;
    const body = typeof request.body === 'object' ? JSON.stringify(request.body) : request.body;
    const headers: Record<string, string> = {
      Accept: 'application/fhir+json',
      ...(body !== undefined ? { 'Content-Type': 'application/fhir+json' } : {}),
      ...(authorization !== undefined ? { Authorization: authorization } : {}),
      ...request.headers,
    };
    const res = await app.request(`${urlOf(service)}${request.path}`, {
      method: request.method,
      headers,
      ...(body !== undefined ? { body: body as string } : {}),
    });
    return { status: res.status, text: await res.text() };
  }

  const identities = new Map<string, Identity>(
    topology.clients.map((c) => [
      c.id,
      { clientId: c.id, kind: c.kind, region: c.region, ...(c.organisation ? { organisation: c.organisation } : {}) },
    ]),
  );
  identities.set('national-hub', { clientId: 'national-hub', kind: 'hub' });

  /** A call that must succeed, as a legitimate client makes it; its answer's JSON. */
  async function legit<T = Resource>(service: ServiceName, client: string, request: AttackRequest): Promise<T> {
    const token = client === 'national-hub' ? await net.hubToken() : await net.hub.tokenFor(client);
    const answer = await send(service, request, `Bearer ${token}`);
    if (answer.status >= 300)
      throw new Error(`${client}: ${request.method} ${service}${request.path} → ${answer.status}: ${answer.text}`);
    return JSON.parse(answer.text) as T;
  }
  const first = async <T extends Resource>(service: ServiceName, client: string, path: string) => {
    const bundle = await legit<Bundle>(service, client, { method: 'GET', path });
    const found = bundle.entry?.find((e) => e.search?.mode !== 'include')?.resource as (T & { id: string }) | undefined;
    if (!found) throw new Error(`${client}: GET ${service}${path} found nothing`);
    return found;
  };

  const markers: Marker[] = [];
  const marker = (what: string, orgs: string[], alsoVisible?: Marker['alsoVisible']): string => {
    const text = `SECRET-${run}-${what}`;
    markers.push({ text, what, orgs, ...(alsoVisible ? { alsoVisible } : {}) });
    return text;
  };
  /** Results reach whoever the locator lets read them, and the hub reads them at the gateways for it. */
  const locatorResult: Marker['alsoVisible'] = (caller, service) =>
    caller.kind === 'hub' || (service === 'hub' && (caller.kind === 'clinician' || caller.kind === 'gateway'));
  const hubReadable: Marker['alsoVisible'] = (caller) => caller.kind === 'hub';

  const ods = (value: string) => ({ type: 'Organization' as const, identifier: { system: ODS_SYSTEM, value } });
  const byNhs = (value: string) => ({ type: 'Patient' as const, identifier: { system: NHS_NUMBER_SYSTEM, value } });
  const orderOf = (placer: string) => `identifier=${SYSTEMS.placerOrder}|${placer}`;

  /** A GP's order, placed at its own gateway for its own patient: its placer number and the order's id there. */
  async function placeOrder(service: ServiceName, gp: string, requester: string, placer: string, nhs: string) {
    const reason = marker(`${placer}-reason`, [requester, 'RM1']);
    const order = await legit(service, gp, {
      method: 'POST',
      path: '/fhir/ServiceRequest',
      body: exampleServiceRequest({
        identifier: [{ system: SYSTEMS.placerOrder, value: placer }],
        subject: byNhs(nhs),
        requester: ods(requester),
        reasonCode: [{ text: reason }],
      }),
    });
    return order.id as string;
  }

  /** The copy of an order held by `service`, with its fulfilment Task. */
  async function copyOf(service: ServiceName, client: string, placer: string): Promise<CaseCopy> {
    const order = await first(service, client, `/fhir/ServiceRequest?${orderOf(placer)}`);
    const task = await first(
      service,
      client,
      `/fhir/Task?focus=ServiceRequest/${order.id}&code=${CODE_SYSTEMS.taskCode}|fulfil`,
    );
    const patient = (order as { subject?: { reference?: string } }).subject?.reference?.split('/')[1] as string;
    return { patient, order: order.id, task: task.id, taskVersion: task.meta?.versionId as string };
  }

  /** The RIS moves its Task on (If-Match the version it read). */
  async function moveTask(id: string, status: string, extra: Record<string, unknown> = {}) {
    const task = await legit<Resource & { meta?: { versionId?: string } }>('midlands', 'ris-rm1', {
      method: 'GET',
      path: `/fhir/Task/${id}`,
    });
    await legit('midlands', 'ris-rm1', {
      method: 'PUT',
      path: `/fhir/Task/${id}`,
      headers: { 'If-Match': `W/"${task.meta?.versionId}"` },
      body: { ...task, status, ...extra },
    });
  }

  // Case A: the north GP (N81001) orders from RM1 (midlands), which images, reports and completes it.
  const nhsA = randomTestNhsNumber();
  const placerA = `N81001-${run}1`;
  await legit('north', 'gp-n81001', {
    method: 'POST',
    path: '/fhir/Patient',
    body: examplePatient({
      identifier: [{ system: NHS_NUMBER_SYSTEM, value: nhsA }],
      name: [{ family: marker('A-patient', ['N81001', 'RM1']), given: ['Alex'] }],
    }),
  });
  await placeOrder('north', 'gp-n81001', 'N81001', placerA, nhsA);
  // Case B: a second order for the same patient, accepted and not yet reported.
  const placerB = `N81001-${run}2`;
  await placeOrder('north', 'gp-n81001', 'N81001', placerB, nhsA);
  await deliverDue(gateway('north').deps);

  const midA = await copyOf('midlands', 'ris-rm1', placerA);
  const midB = await copyOf('midlands', 'ris-rm1', placerB);
  await moveTask(midB.task, 'accepted', { businessStatus: { text: marker('B-progress', ['N81001', 'RM1']) } });
  await moveTask(midA.task, 'accepted', { businessStatus: { text: marker('A-progress', ['N81001', 'RM1']) } });
  await moveTask(midA.task, 'in-progress');
  const address = `https://pacs.rm1.example/dicomweb/${run}`;
  const endpoint = await legit('midlands', 'ris-rm1', {
    method: 'POST',
    path: '/fhir/Endpoint',
    body: exampleEndpoint({
      id: undefined,
      identifier: [{ system: 'urn:ietf:rfc:3986', value: address }],
      address,
      // Sent on to the north with the report, for the requester.
      name: marker('A-endpoint', ['N81001', 'RM1'], hubReadable),
    }),
  });
  const study = await legit('midlands', 'ris-rm1', {
    method: 'POST',
    path: '/fhir/ImagingStudy',
    body: exampleImagingStudy({
      identifier: [
        { system: DICOM_UID_SYSTEM, value: `urn:oid:2.25.${run}${randomInt(1_000_000_000)}` },
        { system: SYSTEMS.accession, value: `RM1-ACC-${run}` },
      ],
      basedOn: [{ reference: `ServiceRequest/${midA.order}` }],
      subject: { reference: `Patient/${midA.patient}` },
      endpoint: [{ reference: `Endpoint/${endpoint.id}` }],
      description: marker('A-study', ['N81001', 'RM1'], locatorResult),
    }),
  });
  const report = await legit('midlands', 'ris-rm1', {
    method: 'POST',
    path: '/fhir/DiagnosticReport',
    body: exampleDiagnosticReport({
      identifier: [{ system: SYSTEMS.report, value: `RM1-REP-${run}` }],
      basedOn: [{ reference: `ServiceRequest/${midA.order}` }],
      subject: { reference: `Patient/${midA.patient}` },
      imagingStudy: [{ reference: `ImagingStudy/${study.id}` }],
      conclusion: marker('A-report', ['N81001', 'RM1'], locatorResult),
    }),
  });
  await moveTask(midA.task, 'completed', {
    output: [{ type: { text: 'report' }, valueReference: { reference: `DiagnosticReport/${report.id}` } }],
  });
  await deliverDue(gateway('midlands').deps);

  // Case C: a south GP (S81001) orders from RM1: routed south → midlands, not yet accepted.
  const nhsC = randomTestNhsNumber();
  const placerC = `S81001-${run}3`;
  await legit('south', 'gp-s81001', {
    method: 'POST',
    path: '/fhir/Patient',
    body: examplePatient({
      identifier: [{ system: NHS_NUMBER_SYSTEM, value: nhsC }],
      name: [{ family: marker('C-patient', ['S81001', 'RM1']), given: ['Sam'] }],
    }),
  });
  await placeOrder('south', 'gp-s81001', 'S81001', placerC, nhsC);
  await deliverDue(gateway('south').deps);

  // The midlands' safety job finds B and C untested six weeks after they were made (the example's
  // authoredOn is long past): a DM01 breach each, with a Flag and a notice to RM1.
  const turnaround = await checkTurnarounds(gateway('midlands').deps);
  if (turnaround.breached < 2) throw new Error(`expected B and C to breach DM01: ${JSON.stringify(turnaround)}`);
  const breachOf = (placer: string) => `${placer}-turnaround-test-dm01`;
  const flagB = await first('midlands', 'ris-rm1', `/fhir/Flag?identifier=${SYSTEMS.flag}|${breachOf(placerB)}`);
  const noticeB = await first(
    'midlands',
    'ris-rm1',
    `/fhir/Communication?identifier=${SYSTEMS.communication}|${breachOf(placerB)}-raised`,
  );

  const northA = await copyOf('north', 'gp-n81001', placerA);
  const northB = await copyOf('north', 'gp-n81001', placerB);
  const northReport = await first<DiagnosticReport>(
    'north',
    'gp-n81001',
    `/fhir/DiagnosticReport?identifier=${SYSTEMS.report}|RM1-REP-${run}`,
  );
  const northReportIdentifier = northReport.identifier?.find((i) => i.system === SYSTEMS.report)?.value;
  if (!northReportIdentifier) throw new Error("the north's copy of case A's report has no report identifier");
  const northStudy = await first('north', 'gp-n81001', `/fhir/ImagingStudy?basedon=ServiceRequest/${northA.order}`);
  // Case A's report carries an URGENT alert (the example's): raised for N81001 with a Communication that
  // quotes the report's conclusion (a marker).
  const alertNotice = await first(
    'north',
    'gp-n81001',
    `/fhir/Communication?identifier=${SYSTEMS.communication}|RM1-REP-${run}-acknowledge-raised`,
  );
  const pointers = await legit<Bundle>('hub', 'clinician-rs1', {
    method: 'GET',
    path: `/fhir/DocumentReference?subject:identifier=${NHS_NUMBER_SYSTEM}|${nhsA}`,
  });
  const pointer = pointers.entry?.find(
    (e) => (e.resource as DocumentReference | undefined)?.type?.coding?.[0]?.code === 'DiagnosticReport',
  )?.resource as (DocumentReference & { id: string }) | undefined;
  if (!pointer) throw new Error('the report was not registered with the locator');
  const directory = await first('hub', 'gateway-north', `/fhir/Organization?identifier=${ODS_SYSTEM}|RM1`);
  const directoryEndpoint = await first('hub', 'gateway-north', '/fhir/Endpoint?_count=1');

  /** The next-page link of a search: its `_page` token, bound to the client and the type searched. */
  const pageToken = async (service: ServiceName, client: string, path: string) => {
    const bundle = await legit<Bundle>(service, client, { method: 'GET', path });
    const next = bundle.link?.find((l) => l.relation === 'next')?.url;
    if (!next) throw new Error(`${client}: GET ${service}${path} has no next page`);
    return new URL(next).searchParams.get('_page') as string;
  };

  const taskIdentifierOf = async (id: string) => {
    const task = await legit<Task>('north', 'gp-n81001', { method: 'GET', path: `/fhir/Task/${id}` });
    return task.identifier?.[0]?.value ?? '';
  };
  const correlationOf = async (service: ServiceName, client: string, id: string) => {
    const task = await legit<Task>(service, client, { method: 'GET', path: `/fhir/Task/${id}` });
    return task.groupIdentifier?.value ?? '';
  };
  const southC = await copyOf('south', 'gp-s81001', placerC);
  const correlationA = await correlationOf('north', 'gp-n81001', northA.task);
  /** An AuditEvent of case A that `service` recorded, from the case's trail there, as the flow view reads it. */
  const auditOf = async (service: ServiceName, source: string) => {
    const trail = await legit<Bundle>(service, 'flow-view', {
      method: 'GET',
      path: `/fhir/$case-trail?correlation-id=${encodeURIComponent(correlationA)}`,
    });
    const event = trail.entry?.find((e) => e.resource?.resourceType === 'AuditEvent' && trailSourceOf(e) === source);
    if (!event?.resource?.id) throw new Error(`${service}: case A's trail holds no AuditEvent of ${source}`);
    return event.resource.id;
  };
  const seeded = {
    run,
    nhs: { A: nhsA, C: nhsC },
    placer: { A: placerA, B: placerB, C: placerC },
    /** The business identifiers of the fulfilment Tasks of A and B, as an attacker could learn them. */
    taskIdentifier: { A: await taskIdentifierOf(northA.task), B: await taskIdentifierOf(northB.task) },
    /** Case A's report's business identifier, as the north holds it (a message names the report by it). */
    reportIdentifier: { A: northReportIdentifier },
    north: {
      A: {
        ...northA,
        report: northReport.id,
        study: northStudy.id,
        notice: alertNotice.id,
        correlation: correlationA,
      },
      B: northB,
    },
    midlands: {
      A: { ...midA, report: report.id as string, study: study.id as string, endpoint: endpoint.id as string },
      B: { ...midB, notice: noticeB.id, flag: flagB.id },
      C: await copyOf('midlands', 'ris-rm1', placerC),
    },
    south: { C: { ...southC, correlation: await correlationOf('south', 'gp-s81001', southC.task) } },
    hub: { pointer: pointer.id, organisation: directory.id, endpoint: directoryEndpoint.id },
    /** An AuditEvent of case A that each recorded: the north gateway's own, and the hub's routing of it. */
    audit: { north: await auditOf('north', 'north'), hub: await auditOf('hub', 'hub') },
    pageTokens: {
      /** gp-n81001's second page of ServiceRequests at the north. */
      northOrders: await pageToken('north', 'gp-n81001', '/fhir/ServiceRequest?_count=1'),
      /** gateway-north's second page of the directory's Organizations. */
      directory: await pageToken('hub', 'gateway-north', '/fhir/Organization?_count=1'),
    },
  };
  return {
    topology,
    net,
    hubKey,
    stores,
    markers: markers as readonly Marker[],
    seeded,
    send,
    legit,
    identity: (clientId: string): Identity => {
      const found = identities.get(clientId);
      if (!found) throw new Error(`no client ${clientId}`);
      return found;
    },
    /** A real access token from the hub's token endpoint (narrowed to `scope` when given). */
    tokenFor: (clientId: string, scope?: string) =>
      clientId === 'national-hub' ? net.hubToken() : net.hub.tokenFor(clientId, scope),
    urlOf,
    services: ['hub', ...GATEWAYS] as readonly ServiceName[],
    close: async () => {
      for (const store of Object.values(stores)) await store.close();
      net.close();
    },
  };
}
