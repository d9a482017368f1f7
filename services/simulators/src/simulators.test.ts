import type { Task } from '@medplum/fhirtypes';
import { outcomeErrorOf } from '@imaging/fhir/testing';
import { alertCategoryOf, searchAll } from '@imaging/fhir';
import { EXAMPLE, examplePatient, exampleServiceRequest } from '@imaging/fhir/examples';
// The real gateway app, in-process (no port), over regions wired by the gateway's own test kit.
import { deliverDue, GP_TOKEN, RIS_TOKEN, testGateway, testRegions } from '@imaging/regional-gateway/testing';
import { describe, expect, it } from 'vitest';
import { createFhirClient, fixedToken } from './fhir-client.ts';
import { pollUntil, PollTimeout, StopPolling } from './poll.ts';
import { createReferrer } from './referrer.ts';
import { createRisPacs } from './ris-pacs.ts';

async function pathway() {
  const regions = testRegions();
  const north = await testGateway(regions.north);
  const midlands = await testGateway(regions.midlands);
  const client = (gateway: typeof north, base: string, token: string) =>
    createFhirClient({
      baseUrl: base,
      tokens: fixedToken(token),
      fetch: (url, init) => gateway.app.request(url, init),
    });
  const risClient = client(midlands, regions.midlands.region.fhirBaseUrl, await midlands.token(RIS_TOKEN));
  const gp = createReferrer(client(north, regions.north.region.fhirBaseUrl, await north.token(GP_TOKEN)), 'N81001');
  const ris = createRisPacs(risClient, 'RM1');
  return { ...regions, gp, ris, risClient, northApp: north, midlandsApp: midlands };
}

describe('referrer and RIS/PACS against the real gateway app', () => {
  it('place, route, accept, start, image, report and complete; the referrer gets the report', async () => {
    const { gp, ris, north, midlands } = await pathway();
    const patient = await gp.registerPatient(examplePatient());
    const placed = await gp.placeOrder(exampleServiceRequest({ subject: { reference: `Patient/${patient.id}` } }), {
      correlationId: 'case-sim-1',
    });
    expect(placed.created).toBe(true);
    expect(placed.task.status).toBe('requested');
    expect(placed.task.focus?.reference).toBe(`ServiceRequest/${placed.serviceRequest.id}`);
    expect(await deliverDue(north)).toMatchObject({ delivered: 1 });

    const [work, ...more] = await ris.findNewTasks();
    expect(more).toHaveLength(0);
    expect(work?.identifier).toEqual(placed.task.identifier);
    const order = await ris.readOrder(work as Task & { id: string });
    expect(order.identifier).toEqual(placed.serviceRequest.identifier);

    const accepted = await ris.acceptTask(work as Task & { id: string });
    const started = await ris.startTask(accepted);
    expect(await ris.findNewTasks()).toHaveLength(0);
    await deliverDue(midlands);
    expect((await gp.waitForTaskStatus(placed.task.id, 'in-progress', 1000)).task.status).toBe('in-progress');

    const endpoint = await ris.registerDicomWebEndpoint('https://pacs.rm1.example/dicomweb', 'RM1 DICOMweb');
    expect((await ris.registerDicomWebEndpoint('https://pacs.rm1.example/dicomweb', 'RM1 DICOMweb')).resource.id).toBe(
      endpoint.resource.id,
    );
    const study = await ris.recordImagingStudy(order, endpoint.resource, {
      studyUid: EXAMPLE.studyUid,
      accession: 'RM1-ACC-1',
    });
    const report = await ris.issueReport(order, study.resource, {
      alertCategory: 'CANCER',
      suspectedPrimarySite: EXAMPLE.cancerSite,
      conclusion: 'New 18 mm nodule, suspicious for primary lung cancer.',
    });
    expect(report.resource.identifier?.[0]?.value).toMatch(/^RM1-/);
    const completed = await ris.completeTask(started, report.resource);
    expect(completed.status).toBe('completed');
    expect(await deliverDue(midlands)).toMatchObject({ failed: 0 });

    const seen = await gp.waitForTaskStatus(placed.task.id, 'completed', 1000);
    const result = await gp.readResult(seen.task);
    expect(alertCategoryOf(result.report)).toBe('CANCER');
    expect(result.report.conclusion).toContain('18 mm nodule');
    expect(result.report.basedOn?.[0]?.reference).toBe(`ServiceRequest/${placed.serviceRequest.id}`);
    expect(result.studies.map((s) => s.identifier?.find((i) => i.system === 'urn:dicom:uid')?.value)).toEqual([
      `urn:oid:${EXAMPLE.studyUid}`,
    ]);
    // The referrer's region holds its own copies, the midlands' originals stay where they are.
    expect(await searchAll(north.store, 'DiagnosticReport')).toHaveLength(1);
    expect(await searchAll(midlands.store, 'DiagnosticReport')).toHaveLength(1);
  });

  it('a Task change made from a stale read is refused (412) and changes nothing', async () => {
    const { gp, ris, north, midlands } = await pathway();
    const patient = await gp.registerPatient(examplePatient());
    await gp.placeOrder(exampleServiceRequest({ subject: { reference: `Patient/${patient.id}` } }));
    await deliverDue(north);
    const [work] = (await ris.findNewTasks()) as [Task & { id: string }];
    const accepted = await ris.acceptTask(work);
    expect((await outcomeErrorOf(ris.startTask(work))).status).toBe(412);
    expect((await midlands.store.read<Task>('Task', work.id)).meta?.versionId).toBe(accepted.meta?.versionId);
  });

  it('a refusal surfaces as the gateway said it: status and OperationOutcome', async () => {
    const { gp, risClient } = await pathway();
    const err = await outcomeErrorOf(
      gp.placeOrder(exampleServiceRequest({ subject: { reference: 'Patient/nobody' } })),
    );
    expect(err.status).toBe(422);
    expect(err.outcome.issue[0]?.expression).toEqual(['ServiceRequest.subject']);
    // The provider may not place orders at all.
    expect((await outcomeErrorOf(createReferrer(risClient, 'RM1').registerPatient(examplePatient()))).status).toBe(403);
  });

  it('stops watching at once when the order ends in another state', async () => {
    const { gp, north } = await pathway();
    const patient = await gp.registerPatient(examplePatient());
    const placed = await gp.placeOrder(exampleServiceRequest({ subject: { reference: `Patient/${patient.id}` } }));
    const cancelled = await gp.cancelOrder(placed.task);
    expect(cancelled.status).toBe('cancelled');
    expect(await deliverDue(north)).toMatchObject({ failed: 0 });
    const err = await gp.waitForTaskStatus(placed.task.id, 'completed', 60_000).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StopPolling);
    expect((err as Error).message).toContain('ended cancelled');
  });
});

describe('the referrer answers result alerts', () => {
  it('finds its open alert, acknowledges it with the voice call, records the action; the performer hears of both', async () => {
    const { gp, ris, north, midlands, clock } = await pathway();
    const patient = await gp.registerPatient(examplePatient());
    await gp.placeOrder(exampleServiceRequest({ subject: { reference: `Patient/${patient.id}` } }));
    await deliverDue(north);
    const [work] = (await ris.findNewTasks()) as [Task & { id: string }];
    const order = await ris.readOrder(work);
    const endpoint = await ris.registerDicomWebEndpoint('https://pacs.rm1.example/dicomweb', 'RM1 DICOMweb');
    const study = await ris.recordImagingStudy(order, endpoint.resource, {
      studyUid: EXAMPLE.studyUid,
      accession: 'A-1',
    });
    await ris.issueReport(order, study.resource, { alertCategory: 'CRITICAL', conclusion: 'Tension pneumothorax.' });
    await deliverDue(midlands);

    const [alert, ...others] = await gp.findOpenAlerts();
    expect(others).toHaveLength(0);
    expect(alert?.status).toBe('requested');
    const call = { by: 'Dr Eva Novak, RM1', at: clock.now().toISOString(), to: 'Dr Asha Patel' };
    const acknowledged = await gp.acknowledgeAlert(alert as Task & { id: string }, { by: 'Dr Asha Patel', call });
    expect(acknowledged.status).toBe('in-progress'); // CRITICAL stays open until the action is recorded
    expect(await gp.findOpenAlerts()).toHaveLength(1);
    // Pinned to the version read: an answer from a stale copy is refused.
    const stale = await outcomeErrorOf(
      gp.recordAlertAction(alert as Task & { id: string }, { by: 'Dr Asha Patel', decision: 'emergency-care' }),
    );
    expect(stale.status).toBe(412);
    const closed = await gp.recordAlertAction(acknowledged, {
      by: 'Dr Asha Patel',
      decision: 'emergency-care',
      note: 'Sent to ED by ambulance',
    });
    expect(closed.status).toBe('completed');
    expect(
      closed.output?.find((o) => o.type?.text === 'action-decision')?.valueCodeableConcept?.coding?.[0]?.code,
    ).toBe('emergency-care');
    expect(await gp.findOpenAlerts()).toHaveLength(0);
    // Both answers travel back to the performer, whose watch closes.
    await deliverDue(north);
    const [watch] = await searchAll<Task>(midlands.store, 'Task', {
      code: 'https://imaging-connect.example/fhir/CodeSystem/task-code|watch-acknowledgement',
    });
    expect(watch?.status).toBe('completed');
  });

  it('a CRITICAL action without the voice call is refused as the gateway says (422)', async () => {
    const { gp, ris, north, midlands } = await pathway();
    const patient = await gp.registerPatient(examplePatient());
    await gp.placeOrder(exampleServiceRequest({ subject: { reference: `Patient/${patient.id}` } }));
    await deliverDue(north);
    const [work] = (await ris.findNewTasks()) as [Task & { id: string }];
    const order = await ris.readOrder(work);
    const endpoint = await ris.registerDicomWebEndpoint('https://pacs.rm1.example/dicomweb', 'RM1 DICOMweb');
    const study = await ris.recordImagingStudy(order, endpoint.resource, {
      studyUid: EXAMPLE.studyUid,
      accession: 'A-2',
    });
    await ris.issueReport(order, study.resource, { alertCategory: 'CRITICAL', conclusion: 'Aortic dissection.' });
    await deliverDue(midlands);
    const [alert] = (await gp.findOpenAlerts()) as [Task & { id: string }];
    const acknowledged = await gp.acknowledgeAlert(alert, { by: 'Dr Asha Patel' });
    const err = await outcomeErrorOf(
      gp.recordAlertAction(acknowledged, { by: 'Dr Asha Patel', decision: 'emergency-care' }),
    );
    expect(err.status).toBe(422);
    expect((await gp.findOpenAlerts()).map((t) => t.status)).toEqual(['in-progress']);
  });
});

describe('FHIR client', () => {
  it('gets a fresh token once after a 401, then succeeds', async () => {
    const { northApp, north } = await pathway();
    const good = await northApp.token(GP_TOKEN);
    const tokens = ['not-a-token', good];
    let invalidated = 0;
    const client = createFhirClient({
      baseUrl: north.region.fhirBaseUrl,
      tokens: {
        getToken: async () => tokens[Math.min(invalidated, 1)] as string,
        invalidate: () => void invalidated++,
      },
      fetch: (url, init) => northApp.app.request(url, init),
    });
    const patient = await createReferrer(client, 'N81001').registerPatient(examplePatient());
    expect(patient.id).toBeTruthy();
    expect(invalidated).toBe(1);
  });

  it('does not retry a 401 more than once', async () => {
    const { northApp, north } = await pathway();
    const client = createFhirClient({
      baseUrl: north.region.fhirBaseUrl,
      tokens: fixedToken('still-not-a-token'),
      fetch: (url, init) => northApp.app.request(url, init),
    });
    expect((await outcomeErrorOf(client.read('Patient', 'x'))).status).toBe(401);
  });

  it('reports an unreachable service as 503', async () => {
    const client = createFhirClient({ baseUrl: 'http://127.0.0.1:1/fhir', tokens: fixedToken('t') });
    expect((await outcomeErrorOf(client.read('Patient', 'x'))).status).toBe(503);
  });
});

describe('pollUntil', () => {
  it('returns the first defined value', async () => {
    let n = 0;
    expect(
      await pollUntil(async () => (++n === 3 ? 'ready' : undefined), { timeoutMs: 5000, intervalMs: 1, what: 'x' }),
    ).toBe('ready');
    expect(n).toBe(3);
  });

  it('keeps trying through errors and names what it waited for when time runs out', async () => {
    const err = await pollUntil(
      async () => {
        throw new Error('connection refused');
      },
      { timeoutMs: 30, intervalMs: 5, what: 'the north gateway' },
    ).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PollTimeout);
    expect((err as Error).message).toMatch(/waiting for the north gateway \(last error: connection refused\)/);
  });
});
