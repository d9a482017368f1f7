import type {
  DiagnosticReport,
  DocumentReference,
  Endpoint,
  ImagingStudy,
  Patient,
  ServiceRequest,
  Task,
} from '@medplum/fhirtypes';
import { alertCategoryOf, DICOM_UID_SYSTEM, NHS_NUMBER_SYSTEM, SYSTEMS } from '@imaging/fhir';
import type { PlacedOrder, WithId } from '@imaging/fhir';
import { EXAMPLE, examplePatient, exampleServiceRequest } from '@imaging/fhir/examples';
import { pointerKind, pollUntil } from '@imaging/simulators';
import {
  auditsFor,
  byIdentifier,
  deliveriesFor,
  hasAccessLabel,
  pointerTo,
  requestorOf,
  stamp,
  statusHistory,
  succeeded,
  theOne,
} from './evidence.ts';
import type { DemoContext, Step } from './steps.ts';
import { actors, fact, stores, verify } from './steps.ts';
import { short } from './timeline.ts';

/** How long anything that travels between services may take before the step fails. */
export const HOP_TIMEOUT_MS = 10_000;

const ALERT = 'CANCER' as const;
const CONCLUSION = 'Spiculated 18 mm nodule in the right upper lobe, suspicious for a new primary lung cancer.';
export const DICOMWEB = 'https://pacs.rm1.example/dicomweb';

export function midlandsBase(ctx: DemoContext): string {
  return `${ctx.topology.regions.find((r) => r.id === 'midlands')?.url}/fhir`;
}

/** Places order `n` for the run's patient, from N81001 to RM1. */
export function orderFor(ctx: DemoContext, n: number): ServiceRequest {
  return exampleServiceRequest({
    identifier: [{ system: SYSTEMS.placerOrder, value: ctx.ids.placer(n) }],
    subject: { reference: `Patient/${fact<WithId<Patient>>(ctx, 'patient').id}` },
    authoredOn: new Date().toISOString(),
  });
}

/** The midlands' copy of order `n`, once it has arrived. */
export async function awaitCopyInMidlands(
  ctx: DemoContext,
  n: number,
  timeoutMs = HOP_TIMEOUT_MS,
): Promise<WithId<ServiceRequest>> {
  const midlands = stores(ctx).region('midlands');
  return pollUntil(() => theOne<ServiceRequest>(midlands, 'ServiceRequest', SYSTEMS.placerOrder, ctx.ids.placer(n)), {
    timeoutMs,
    what: `order ${ctx.ids.placer(n)} to reach the midlands store`,
  });
}

/** The Task with this business identifier in a region's store. */
export function taskIn(ctx: DemoContext, region: string, identifier: string): Promise<WithId<Task> | undefined> {
  return theOne<Task>(stores(ctx).region(region), 'Task', SYSTEMS.task, identifier);
}

export function taskIdentifier(task: Task): string {
  const value = task.identifier?.find((i) => i.system === SYSTEMS.task)?.value;
  if (!value) throw new Error(`Task/${task.id} has no business identifier`);
  return value;
}

const registerPatient: Step = {
  title: 'GP practice N81001 (north) registers the patient',
  async run(ctx) {
    const { gp } = actors(ctx);
    const began = performance.now();
    const patient = await gp.registerPatient(
      examplePatient({ identifier: [{ system: NHS_NUMBER_SYSTEM, value: ctx.ids.nhsNumber }] }),
      { correlationId: ctx.ids.caseId(1) },
    );
    ctx.facts.set('patient', patient);
    ctx.timeline.event({
      where: 'north',
      who: 'gp-n81001',
      what: `POST Patient: NHS number ${ctx.ids.nhsNumber} → Patient/${short(patient.id)}`,
      hopMs: performance.now() - began,
    });
    const stored = await theOne<Patient>(stores(ctx).region('north'), 'Patient', NHS_NUMBER_SYSTEM, ctx.ids.nhsNumber);
    verify(
      ctx,
      'north',
      `one Patient ${ctx.ids.nhsNumber}, visible to N81001`,
      !!stored && stored.id === patient.id && hasAccessLabel(stored, 'N81001'),
      stored?.meta,
    );
  },
};

const placeOrder: Step = {
  title: 'The GP orders a CT chest from RM1, served by the midlands: the order is routed through the hub',
  async run(ctx) {
    const { gp } = actors(ctx);
    const north = stores(ctx).region('north');
    const midlands = stores(ctx).region('midlands');
    const caseId = ctx.ids.caseId(1);
    const began = performance.now();
    const placed = await gp.placeOrder(orderFor(ctx, 1), { correlationId: caseId });
    ctx.facts.set('order1', placed);
    ctx.timeline.event({
      where: 'north',
      who: 'gp-n81001',
      what: `POST ServiceRequest ${ctx.ids.placer(1)}: CT chest at RM1 → 201`,
      hopMs: performance.now() - began,
    });

    const sr = await theOne<ServiceRequest>(north, 'ServiceRequest', SYSTEMS.placerOrder, ctx.ids.placer(1));
    verify(
      ctx,
      'north',
      `order ${ctx.ids.placer(1)} stored once, with its fulfilment Task (requested)`,
      sr?.id === placed.serviceRequest.id && placed.task.status === 'requested',
    );
    const queued = (await deliveriesFor(north, caseId)).filter((d) => d.code?.coding?.[0]?.code === 'deliver-message');
    verify(
      ctx,
      'north',
      'the routed message stored as a pending delivery in the same transaction',
      queued.length === 1,
      queued.length,
    );

    const copy = await awaitCopyInMidlands(ctx, 1);
    ctx.timeline.event({
      where: 'north → midlands',
      who: 'hub',
      what: `order ${ctx.ids.placer(1)} routed and stored in the midlands`,
      hopMs: stamp(copy) - stamp(placed.serviceRequest),
    });
    const tasks = await byIdentifier<Task>(midlands, 'Task', SYSTEMS.task, taskIdentifier(placed.task));
    const patients = await byIdentifier<Patient>(midlands, 'Patient', NHS_NUMBER_SYSTEM, ctx.ids.nhsNumber);
    verify(
      ctx,
      'midlands',
      'one copy each of the order, its Task (requested, owner RM1) and the patient',
      tasks.length === 1 &&
        tasks[0]?.status === 'requested' &&
        tasks[0]?.owner?.identifier?.value === 'RM1' &&
        patients.length === 1 &&
        copy.subject?.reference === `Patient/${patients[0]?.id}`,
      { tasks: tasks.map((t) => t.status), patients: patients.length },
    );
    const routed = await pollUntil(
      async () => (await auditsFor(stores(ctx).hub, 'message-routed', caseId, ctx.startedAt)).find(succeeded),
      {
        timeoutMs: HOP_TIMEOUT_MS,
        what: 'the hub to record the routed order',
      },
    );
    verify(
      ctx,
      'national',
      `AuditEvent: message routed north → midlands by ${requestorOf(routed) ?? '?'}`,
      requestorOf(routed) === 'gateway-north',
      routed.agent,
    );
  },
};

/** The RIS moves order 1's Task on; the GP in the north sees the change. Returns the new midlands Task. */
async function moveAndWatch(
  ctx: DemoContext,
  status: 'accepted' | 'in-progress',
  move: (task: WithId<Task>) => Promise<WithId<Task>>,
  current: WithId<Task>,
): Promise<WithId<Task>> {
  const { gp } = actors(ctx);
  const placed = fact<PlacedOrder>(ctx, 'order1');
  const began = performance.now();
  const moved = await move(current);
  ctx.timeline.event({
    where: 'midlands',
    who: 'ris-rm1',
    what: `PUT Task (If-Match W/"${current.meta?.versionId}") → ${moved.status}`,
    hopMs: performance.now() - began,
  });
  verify(
    ctx,
    'midlands',
    `Task ${status} in the midlands store`,
    (await stores(ctx).region('midlands').read<Task>('Task', moved.id)).status === status,
  );
  const seen = await gp.waitForTaskStatus(placed.task.id, status, HOP_TIMEOUT_MS, { correlationId: ctx.ids.caseId(1) });
  // The hop, by the stores' own clocks: the north's version the GP saw, after the midlands' change.
  ctx.timeline.event({
    where: 'midlands → north',
    who: 'gp-n81001',
    what: `the GP sees the order ${status}`,
    hopMs: stamp(seen.task) - stamp(moved),
  });
  verify(
    ctx,
    'north',
    `the GP's Task is ${status} in the north store`,
    (await stores(ctx).region('north').read<Task>('Task', placed.task.id)).status === status,
  );
  return moved;
}

const acceptOrder: Step = {
  title: "RM1's RIS/PACS (midlands) finds the new order and accepts it",
  async run(ctx) {
    const { ris } = actors(ctx);
    const placed = fact<PlacedOrder>(ctx, 'order1');
    const work = (await ris.findNewTasks({ correlationId: ctx.ids.caseId(1) })).find(
      (t) => taskIdentifier(t) === taskIdentifier(placed.task),
    );
    verify(ctx, 'midlands', `ris-rm1 finds the Task for ${ctx.ids.placer(1)} in its worklist`, !!work);
    const order = await ris.readOrder(work as WithId<Task>);
    ctx.facts.set('midlandsOrder', order);
    ctx.facts.set(
      'midlandsTask',
      await moveAndWatch(
        ctx,
        'accepted',
        (t) => ris.acceptTask(t, { correlationId: ctx.ids.caseId(1) }),
        work as WithId<Task>,
      ),
    );
  },
};

const startImaging: Step = {
  title: 'The RIS/PACS starts the examination',
  async run(ctx) {
    const { ris } = actors(ctx);
    ctx.facts.set(
      'midlandsTask',
      await moveAndWatch(
        ctx,
        'in-progress',
        (t) => ris.startTask(t, { correlationId: ctx.ids.caseId(1) }),
        fact<WithId<Task>>(ctx, 'midlandsTask'),
      ),
    );
  },
};

/** Waits for the locator's pointer to a midlands resource; prints the hop. */
async function awaitPointer(
  ctx: DemoContext,
  resource: WithId<ImagingStudy | DiagnosticReport>,
): Promise<WithId<DocumentReference>> {
  const url = `${midlandsBase(ctx)}/${resource.resourceType}/${resource.id}`;
  const pointer = await pollUntil(() => pointerTo(stores(ctx).hub, url), {
    timeoutMs: HOP_TIMEOUT_MS,
    what: `the locator's pointer to ${resource.resourceType}/${resource.id}`,
  });
  ctx.timeline.event({
    where: 'midlands → national',
    who: 'gateway-midlands',
    what: `${resource.resourceType} pointer registered with the locator`,
    hopMs: stamp(pointer) - stamp(resource),
  });
  verify(
    ctx,
    'national',
    `pointer: NHS number ${ctx.ids.nhsNumber}, custodian midlands, → ${resource.resourceType}/${short(resource.id)} there`,
    pointer.subject?.identifier?.value === ctx.ids.nhsNumber &&
      pointer.custodian?.identifier?.value === 'midlands' &&
      pointer.content?.[0]?.attachment?.url === url,
    pointer,
  );
  // The hub stores the pointer, then its AuditEvent: the pointer may be seen a moment before it.
  const registered = await pollUntil(
    async () => {
      const events = (await auditsFor(stores(ctx).hub, 'pointer-registered', ctx.ids.caseId(1), ctx.startedAt)).filter(
        (e) => succeeded(e) && e.entity?.some((x) => x.what?.reference === `DocumentReference/${pointer.id}`),
      );
      return events.length ? events : undefined;
    },
    { timeoutMs: HOP_TIMEOUT_MS, what: `the hub's AuditEvent for the ${resource.resourceType} pointer` },
  ).catch(() => []);
  const by = registered[0] ? requestorOf(registered[0]) : undefined;
  verify(
    ctx,
    'national',
    `AuditEvent: ${resource.resourceType} pointer registered by ${by ?? '?'}`,
    by === 'gateway-midlands',
    registered.length,
  );
  return pointer;
}

const recordStudy: Step = {
  title: 'The RIS/PACS registers its DICOMweb endpoint and records the ImagingStudy',
  async run(ctx) {
    const { ris } = actors(ctx);
    const midlands = stores(ctx).region('midlands');
    const order = fact<WithId<ServiceRequest>>(ctx, 'midlandsOrder');
    const options = { correlationId: ctx.ids.caseId(1) };
    let began = performance.now();
    const endpoint = await ris.registerDicomWebEndpoint(DICOMWEB, 'RM1 PACS DICOMweb (WADO-RS)', options);
    ctx.timeline.event({
      where: 'midlands',
      who: 'ris-rm1',
      what: `POST Endpoint (dicom-wado-rs) → Endpoint/${short(endpoint.resource.id)}`,
      hopMs: performance.now() - began,
    });
    began = performance.now();
    const study = await ris.recordImagingStudy(
      order,
      endpoint.resource,
      { studyUid: ctx.ids.studyUid, accession: ctx.ids.accession, description: 'CT chest' },
      options,
    );
    ctx.facts.set('study', study.resource);
    ctx.timeline.event({
      where: 'midlands',
      who: 'ris-rm1',
      what: `POST ImagingStudy ${ctx.ids.accession} → ImagingStudy/${short(study.resource.id)}`,
      hopMs: performance.now() - began,
    });

    const stored = await theOne<ImagingStudy>(
      midlands,
      'ImagingStudy',
      DICOM_UID_SYSTEM,
      `urn:oid:${ctx.ids.studyUid}`,
    );
    const storedEndpoint = stored?.endpoint?.[0]?.reference
      ? await midlands.read<Endpoint>('Endpoint', stored.endpoint[0].reference.split('/')[1] as string)
      : undefined;
    verify(
      ctx,
      'midlands',
      'ImagingStudy (UID, accession) based on the order, with a dicom-wado-rs Endpoint',
      stored?.basedOn?.[0]?.reference === `ServiceRequest/${order.id}` &&
        storedEndpoint?.connectionType?.code === 'dicom-wado-rs' &&
        storedEndpoint.address === DICOMWEB,
      { basedOn: stored?.basedOn, endpoint: storedEndpoint?.connectionType },
    );
    ctx.facts.set('studyPointer', await awaitPointer(ctx, study.resource));
  },
};

const issueReport: Step = {
  title: `The RIS/PACS issues the report with alert category ${ALERT}; it reaches the north`,
  async run(ctx) {
    const { ris } = actors(ctx);
    const north = stores(ctx).region('north');
    const order = fact<WithId<ServiceRequest>>(ctx, 'midlandsOrder');
    const placed = fact<PlacedOrder>(ctx, 'order1');
    const began = performance.now();
    const report = await ris.issueReport(
      order,
      fact<WithId<ImagingStudy>>(ctx, 'study'),
      {
        alertCategory: ALERT,
        suspectedPrimarySite: EXAMPLE.cancerSite,
        conclusion: CONCLUSION,
        identifier: ctx.ids.report,
      },
      { correlationId: ctx.ids.caseId(1) },
    );
    ctx.facts.set('report', report.resource);
    ctx.timeline.event({
      where: 'midlands',
      who: 'ris-rm1',
      what: `POST DiagnosticReport ${ctx.ids.report} (final, alert ${ALERT})`,
      hopMs: performance.now() - began,
    });
    const stored = await theOne<DiagnosticReport>(
      stores(ctx).region('midlands'),
      'DiagnosticReport',
      SYSTEMS.report,
      ctx.ids.report,
    );
    verify(
      ctx,
      'midlands',
      `report stored with alert category ${ALERT}`,
      !!stored && alertCategoryOf(stored) === ALERT,
    );

    const copy = await pollUntil(
      () => theOne<DiagnosticReport>(north, 'DiagnosticReport', SYSTEMS.report, ctx.ids.report),
      { timeoutMs: HOP_TIMEOUT_MS, what: 'the report to reach the north store' },
    );
    ctx.timeline.event({
      where: 'midlands → north',
      who: 'hub',
      what: `report ${ctx.ids.report} routed to the referrer's region`,
      hopMs: stamp(copy) - stamp(report.resource),
    });
    verify(
      ctx,
      'north',
      `report based on the north's own ServiceRequest/${short(placed.serviceRequest.id)}, alert ${ALERT}, N81001 may see it`,
      copy.basedOn?.[0]?.reference === `ServiceRequest/${placed.serviceRequest.id}` &&
        alertCategoryOf(copy) === ALERT &&
        hasAccessLabel(copy, 'N81001'),
      { basedOn: copy.basedOn, alert: alertCategoryOf(copy) },
    );
    const study = await theOne<ImagingStudy>(north, 'ImagingStudy', DICOM_UID_SYSTEM, `urn:oid:${ctx.ids.studyUid}`);
    const endpointRef = study?.endpoint?.[0]?.reference;
    const endpoint = endpointRef
      ? await north.read<Endpoint>('Endpoint', endpointRef.split('/')[1] as string)
      : undefined;
    verify(
      ctx,
      'north',
      'the cited ImagingStudy came with it, with its DICOMweb Endpoint',
      copy.imagingStudy?.[0]?.reference === `ImagingStudy/${study?.id}` && endpoint?.address === DICOMWEB,
    );
    ctx.facts.set('reportPointer', await awaitPointer(ctx, report.resource));
  },
};

const completeOrder: Step = {
  title: 'The RIS/PACS completes the order with the report; the GP sees every status change and reads the report',
  async run(ctx) {
    const { ris, gp } = actors(ctx);
    const north = stores(ctx).region('north');
    const placed = fact<PlacedOrder>(ctx, 'order1');
    const task = fact<WithId<Task>>(ctx, 'midlandsTask');
    const began = performance.now();
    const done = await ris.completeTask(task, fact<WithId<DiagnosticReport>>(ctx, 'report'), {
      correlationId: ctx.ids.caseId(1),
    });
    ctx.timeline.event({
      where: 'midlands',
      who: 'ris-rm1',
      what: `PUT Task (If-Match W/"${task.meta?.versionId}") → completed, output = the report`,
      hopMs: performance.now() - began,
    });

    const seen = await gp.waitForTaskStatus(placed.task.id, 'completed', HOP_TIMEOUT_MS, {
      correlationId: ctx.ids.caseId(1),
    });
    ctx.timeline.event({
      where: 'midlands → north',
      who: 'gp-n81001',
      what: 'the GP sees the order completed',
      hopMs: stamp(seen.task) - stamp(done),
    });

    const northReport = await theOne<DiagnosticReport>(north, 'DiagnosticReport', SYSTEMS.report, ctx.ids.report);
    const northTask = await north.read<Task>('Task', placed.task.id);
    verify(
      ctx,
      'north',
      `Task completed, output → the north's copy DiagnosticReport/${short(northReport?.id)}`,
      northTask.output?.[0]?.valueReference?.reference === `DiagnosticReport/${northReport?.id}`,
      northTask.output,
    );
    const history = (await statusHistory(north, placed.task.id)).map((h) => h.status);
    verify(
      ctx,
      'north',
      `the Task's history: ${history.join(' → ')}`,
      history.join(',') === 'requested,accepted,in-progress,completed',
      history,
    );

    const readBegan = performance.now();
    const result = await gp.readResult(seen.task, { correlationId: ctx.ids.caseId(1) });
    ctx.timeline.event({
      where: 'north',
      who: 'gp-n81001',
      what: `GET DiagnosticReport: alert ${alertCategoryOf(result.report)}, "${result.report.conclusion?.slice(0, 40)}…"`,
      hopMs: performance.now() - readBegan,
    });
    verify(
      ctx,
      'north',
      `the GP reads the report: alert ${ALERT}, conclusion and study as issued`,
      alertCategoryOf(result.report) === ALERT &&
        result.report.conclusion === CONCLUSION &&
        result.studies.length === 1,
    );
  },
};

const findPriors: Step = {
  title: "A clinician at RS1 (south) asks the hub's locator what imaging exists for the patient",
  async run(ctx) {
    const { clinician } = actors(ctx);
    const began = performance.now();
    const pointers = await clinician.findPriorImaging(ctx.ids.nhsNumber, { correlationId: ctx.ids.priorCase });
    ctx.timeline.event({
      where: 'south → national',
      who: 'clinician-rs1',
      what: `locator search by NHS number ${ctx.ids.nhsNumber} → ${pointers.length} pointers`,
      hopMs: performance.now() - began,
    });
    const kinds = pointers.map((p) => `${pointerKind(p)}@${p.custodian?.identifier?.value}`).sort();
    verify(
      ctx,
      'south',
      `pointers: ${kinds.join(', ')}`,
      kinds.join(',') === 'DiagnosticReport@midlands,ImagingStudy@midlands',
      kinds,
    );
    ctx.facts.set('foundPointers', pointers);
    const disclosed = await auditsFor(stores(ctx).hub, 'pointers-disclosed', ctx.ids.priorCase, ctx.startedAt);
    verify(
      ctx,
      'national',
      'AuditEvent: pointers disclosed to clinician-rs1',
      disclosed.some((e) => requestorOf(e) === 'clinician-rs1' && succeeded(e)),
      disclosed.map(requestorOf),
    );
  },
};

const retrievePrior: Step = {
  title: 'The clinician retrieves the prior study and report from the midlands through the hub',
  async run(ctx) {
    const { clinician } = actors(ctx);
    const midlands = stores(ctx).region('midlands');
    const pointers = fact<WithId<DocumentReference>[]>(ctx, 'foundPointers');
    for (const pointer of pointers) {
      const began = performance.now();
      const prior = await clinician.retrievePrior(pointer, { correlationId: ctx.ids.priorCase });
      ctx.timeline.event({
        where: 'midlands → south',
        who: 'clinician-rs1',
        what: `$retrieve DocumentReference/${short(pointer.id)} → ${prior.resourceType}`,
        hopMs: performance.now() - began,
      });
      const original = await midlands.read<ImagingStudy | DiagnosticReport>(prior.resourceType, prior.id);
      verify(
        ctx,
        'midlands',
        `${prior.resourceType}/${short(prior.id)} is the midlands' own (version ${original.meta?.versionId})`,
        original.meta?.versionId === prior.meta?.versionId &&
          JSON.stringify(original.identifier) === JSON.stringify(prior.identifier),
      );
    }
    const retrieved = await auditsFor(stores(ctx).hub, 'content-retrieved', ctx.ids.priorCase, ctx.startedAt);
    verify(
      ctx,
      'national',
      `AuditEvents: ${retrieved.length} retrievals midlands → clinician-rs1`,
      retrieved.filter((e) => succeeded(e) && requestorOf(e) === 'clinician-rs1').length === pointers.length,
      retrieved.length,
    );
    const uid = `urn:oid:${ctx.ids.studyUid}`;
    const central = await byIdentifier(stores(ctx).hub, 'ImagingStudy', DICOM_UID_SYSTEM, uid);
    const south = await byIdentifier(stores(ctx).region('south'), 'ImagingStudy', DICOM_UID_SYSTEM, uid);
    verify(
      ctx,
      'national',
      'nothing copied: no ImagingStudy in the hub or the south store',
      central.length === 0 && south.length === 0,
      { hub: central.length, south: south.length },
    );
  },
};

export const pathwaySteps: Step[] = [
  registerPatient,
  placeOrder,
  acceptOrder,
  startImaging,
  recordStudy,
  issueReport,
  completeOrder,
  findPriors,
  retrievePrior,
];
