import { execFile, spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { devTokenSource } from '@imaging/auth';
import { isPortFree } from '@imaging/service-process';
import { MedplumClient, OperationOutcomeError } from '@medplum/core';
import type { Bundle, OperationOutcome, Patient, Resource, ServiceRequest, Task } from '@medplum/fhirtypes';
import { CapabilityTool, Client as FhirKitClient } from 'fhir-kit-client';
import type { FhirResource } from 'fhir-kit-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePortBase, REPO_ROOT } from './world.ts';

// Widely used FHIR clients, as they come, against a clean demo topology of real processes: what a Java
// EPR or RIS (HAPI FHIR's IGenericClient) and TypeScript ones (Medplum's MedplumClient, fhir-kit-client) send, with their
// own headers and habits, must work end to end, and what the gateway refuses must reach them as an
// OperationOutcome they can read. HAPI's client is built with Maven (as the conformance suite builds HAPI
// itself) from services/demo/clients/hapi-java; its steps are listed in HapiJavaPathway.run().
const run = promisify(execFile);
const CLIENT_DIR = join(REPO_ROOT, 'services/demo/clients/hapi-java');
const MAIN = join(import.meta.dirname, 'main.ts');
const HAPI_STEPS = 22;
const NHS_NUMBER = 'https://fhir.nhs.uk/Id/nhs-number';
const ODS = 'https://fhir.nhs.uk/Id/ods-organization-code';
const PLACER = 'https://imaging-connect.example/fhir/Id/placer-order';

/** The order every client places: a CT chest for N81001's patient, from RM1 in the midlands. */
const ctChestOrder = (placerNumber: string, nhsNumber: string): ServiceRequest => ({
  resourceType: 'ServiceRequest',
  identifier: [{ system: PLACER, value: placerNumber }],
  status: 'active',
  intent: 'order',
  code: { coding: [{ system: 'http://snomed.info/sct', code: '169069000' }] },
  subject: { type: 'Patient', identifier: { system: NHS_NUMBER, value: nhsNumber } },
  authoredOn: new Date().toISOString(),
  requester: { type: 'Organization', identifier: { system: ODS, value: 'N81001' } },
  performer: [{ type: 'Organization', identifier: { system: ODS, value: 'RM1' } }],
});

const dataDir = mkdtempSync(join(tmpdir(), 'imaging-clients-'));
let portBase = 0;
let demo: ChildProcess;
/** Settles (false) when the demo process ends, for whatever reason. */
let exited: Promise<false>;
let out = '';
const hubUrl = () => `http://127.0.0.1:${portBase}`;
const gatewayUrl = (region: 'north' | 'midlands') => `http://127.0.0.1:${portBase + (region === 'north' ? 101 : 102)}`;
const token = async (clientId: string) => (await devTokenSource(clientId, { hubUrl: hubUrl(), dataDir })).getToken();

/** Offline first, as infra/hapi-fhir/run.sh does: a machine that has built it once needs no network. */
async function buildHapiClient(): Promise<void> {
  const mvn = (offline: boolean) =>
    run('mvn', ['-q', '-B', ...(offline ? ['-o'] : []), 'package'], { cwd: CLIENT_DIR, maxBuffer: 16 << 20 });
  try {
    await mvn(true);
  } catch {
    await mvn(false).catch((err: Error & { stdout?: string }) => {
      throw new Error(`building the HAPI client needs Java 17 and Maven (README): ${err.message}\n${err.stdout ?? ''}`);
    });
  }
}

async function startTopology(): Promise<void> {
  portBase = await freePortBase();
  demo = spawn(process.execPath, [MAIN, '--no-scenario', '--port-base', String(portBase), '--data-dir', dataDir], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  demo.stdout?.on('data', (chunk: Buffer) => {
    out += chunk.toString();
  });
  exited = new Promise<false>((resolve) => demo.once('exit', () => resolve(false)));
  const ready = (async () => {
    while (!out.includes('Every request of the API')) await new Promise((resolve) => setTimeout(resolve, 100));
    return true;
  })();
  if (!(await Promise.race([exited, ready]))) throw new Error(`the demo ended before it was ready:\n${out}`);
}

beforeAll(async () => {
  await Promise.all([buildHapiClient(), startTopology()]);
}, 300_000);

afterAll(async () => {
  // SIGTERM, for the demo to stop the hub and the gateways it started: a SIGKILL left them running, orphaned,
  // on their ports, after every `npm test`.
  if (demo && demo.exitCode === null && demo.signalCode === null) {
    demo.kill('SIGTERM');
    await exited;
  }
  rmSync(dataDir, { recursive: true, force: true });
  if (demo) for (const offset of [0, 101, 102, 103]) expect(await isPortFree(portBase + offset)).toBe(true);
}, 60_000);

describe("HAPI FHIR's Java client, against the gateways", () => {
  it('orders in the north, reports in the midlands, acknowledges the alert, and finds the imaging at the hub', async () => {
    const args = [
      '-cp',
      'target/lib/*:target/classes',
      'org.imagingconnect.clients.HapiJavaPathway',
      `${gatewayUrl('north')}/fhir`,
      await token('gp-n81001'),
      `${gatewayUrl('midlands')}/fhir`,
      await token('ris-rm1'),
      `${hubUrl()}/fhir`,
      await token('clinician-rs1'),
    ];
    const answer = await run('java', args, { cwd: CLIENT_DIR, timeout: 120_000 }).catch(
      (err: Error & { stdout?: string; stderr?: string }) => ({ stdout: err.stdout ?? '', stderr: err.stderr ?? '' }),
    );
    const lines = answer.stdout.trim().split('\n');
    expect(
      lines.filter((line) => !line.startsWith('PASS ')),
      answer.stderr,
    ).toEqual([]);
    expect(lines).toHaveLength(HAPI_STEPS);
  });
});

// One step per test, in order: each uses what the one before it made.
describe("Medplum's MedplumClient, against the gateways", () => {
  const clientAt = async (region: 'north' | 'midlands', clientId: string) => {
    // No cache: a poll must see what arrives, not a read from a second ago.
    const client = new MedplumClient({ baseUrl: `${gatewayUrl(region)}/`, fhirUrlPath: 'fhir', cacheTime: 0 });
    client.setAccessToken(await token(clientId));
    return client;
  };
  const nhsNumber = '9990001480';
  const placerNumber = `N81001-MEDPLUM-${Date.now()}`;
  let gp: MedplumClient;
  let ris: MedplumClient;
  let patient: Patient;
  let order: ServiceRequest;

  it('registers a patient once, however often it is asked (createResourceIfNoneExist)', async () => {
    gp = await clientAt('north', 'gp-n81001');
    const registration: Patient = {
      resourceType: 'Patient',
      identifier: [{ system: NHS_NUMBER, value: nhsNumber }],
      name: [{ family: 'Medplumclient', given: ['Ada'] }],
    };
    patient = await gp.createResourceIfNoneExist(registration, `identifier=${NHS_NUMBER}|${nhsNumber}`);
    const again = await gp.createResourceIfNoneExist(registration, `identifier=${NHS_NUMBER}|${nhsNumber}`);
    expect([again.id, again.meta?.versionId]).toEqual([patient.id, '1']);
  });

  it('places an order, and finds it with its Task', async () => {
    order = await gp.createResource(ctChestOrder(placerNumber, nhsNumber));
    expect(order.subject?.reference).toBe(`Patient/${patient.id}`);
    const found = await gp.search('ServiceRequest', {
      identifier: `${PLACER}|${placerNumber}`,
      _revinclude: 'Task:focus',
    });
    expect(found.entry?.map((e) => e.resource?.resourceType)).toEqual(['ServiceRequest', 'Task']);
    const history = await gp.readHistory('ServiceRequest', order.id as string);
    expect(history.entry?.map((e) => e.resource?.meta?.versionId)).toEqual(['1']);
  });

  it('gets what the gateway refuses as an OperationOutcomeError naming the element', async () => {
    const refusal = await gp
      .createResource<Patient>({ resourceType: 'Patient', identifier: [{ system: NHS_NUMBER, value: '9990000019' }] })
      .catch((err: unknown) => err);
    expect(refusal).toBeInstanceOf(OperationOutcomeError);
    expect((refusal as OperationOutcomeError).outcome.issue[0]).toMatchObject({
      code: 'business-rule',
      expression: ['Patient.identifier[0].value'],
    });
    const outcome = await gp.validateResource<Patient>({ resourceType: 'Patient', gender: 'no' as 'other' });
    expect(outcome.issue?.some((i) => i.severity === 'error')).toBe(true);
  });

  it('reads in one batch when it gathers its reads (autoBatchTime), each answered as alone, a refusal as its own error', async () => {
    const sent: string[] = [];
    const counting = ((input: string | URL | Request, init?: RequestInit) => {
      sent.push(`${init?.method ?? 'GET'} ${new URL(String(input)).pathname}`);
      return fetch(input, init);
    }) as typeof fetch;
    const batching = new MedplumClient({
      baseUrl: `${gatewayUrl('north')}/`,
      fhirUrlPath: 'fhir',
      cacheTime: 0,
      autoBatchTime: 50,
      fetch: counting,
    });
    batching.setAccessToken(await token('gp-n81001'));
    const [read, who, tasks, missing] = await Promise.all([
      batching.readResource('ServiceRequest', order.id as string),
      batching.readResource('Patient', patient.id as string),
      batching.search('Task', { focus: `ServiceRequest/${order.id}` }),
      batching.readResource('ServiceRequest', 'not-there').catch((err: unknown) => err),
    ]);
    expect(sent).toEqual(['POST /fhir']);
    expect([read.id, who.id]).toEqual([order.id, patient.id]);
    expect(tasks.entry?.map((e) => (e.resource as Task).focus?.reference)).toEqual([`ServiceRequest/${order.id}`]);
    expect(missing).toBeInstanceOf(OperationOutcomeError);
    expect((missing as OperationOutcomeError).outcome.issue[0]?.code).toBe('not-found');
  });

  it("the RIS finds the order's Task in the midlands and accepts it, with If-Match as the gateway asks", async () => {
    ris = await clientAt('midlands', 'ris-rm1');
    const query = `owner:identifier=${ODS}|RM1&status=requested&_include=Task:focus:ServiceRequest&_count=1000`;
    const isTheOrder = (r?: Resource) =>
      r?.resourceType === 'ServiceRequest' && r.identifier?.[0]?.value === placerNumber;
    let work: Bundle | undefined;
    for (let i = 0; i < 120 && !work; i++) {
      const page = await ris.search('Task', query);
      if (page.entry?.some((e) => isTheOrder(e.resource))) work = page;
      else await new Promise((resolve) => setTimeout(resolve, 250));
    }
    const ordered = work?.entry?.find((e) => isTheOrder(e.resource));
    const task = work?.entry
      ?.map((e) => e.resource as Task)
      .find((t) => t.resourceType === 'Task' && t.focus?.reference === `ServiceRequest/${ordered?.resource?.id}`);
    expect(task, 'the order reached the midlands').toBeDefined();
    // MedplumClient's update sends no If-Match of its own: refused (428) with what to send, nothing written.
    const bare = await ris.updateResource({ ...(task as Task), status: 'accepted' }).catch((err: unknown) => err);
    expect((bare as OperationOutcomeError).outcome.issue[0]?.diagnostics).toMatch(/If-Match/);
    const accepted = await ris.updateResource(
      { ...(task as Task), status: 'accepted' },
      { headers: { 'If-Match': `W/"${task?.meta?.versionId}"` } },
    );
    expect([accepted.status, accepted.meta?.versionId]).toEqual([
      'accepted',
      String(Number(task?.meta?.versionId) + 1),
    ]);
  });
});

// One step per test, in order, as above.
describe('fhir-kit-client, against the gateways', () => {
  const nhsNumber = '9990001502';
  const placerNumber = `N81001-FKC-${Date.now()}`;
  let gp: FhirKitClient;
  let order: ServiceRequest;
  /** What fhir-kit-client resolves with (its own loose resource type), as the resource it is. */
  const answer = async <T>(call: Promise<unknown> | undefined) => (await call) as T;
  /** fhir-kit-client's error for a non-2xx answer: the status and the parsed OperationOutcome. */
  const refusal = async (call: Promise<unknown>) => {
    const err = (await call.then(
      () => undefined,
      (e: unknown) => e,
    )) as { response?: { status: number; data: OperationOutcome } } | undefined;
    expect(err?.response, 'the call was refused').toBeDefined();
    return err?.response as { status: number; data: OperationOutcome };
  };

  it('reads what the CapabilityStatement offers: batch at the base, create but no delete', async () => {
    gp = new FhirKitClient({ baseUrl: `${gatewayUrl('north')}/fhir`, bearerToken: await token('gp-n81001') });
    const capabilities = new CapabilityTool(await gp.capabilityStatement());
    expect(capabilities.serverCan('batch')).toBe(true);
    expect(capabilities.resourceCan('ServiceRequest', 'create')).toBe(true);
    expect(capabilities.resourceCan('Task', 'delete')).toBe(false);
  });

  it('registers a patient and places an order, reads it and its first version', async () => {
    const patient = await answer<Patient>(
      gp.create({
        resourceType: 'Patient',
        body: { resourceType: 'Patient', identifier: [{ system: NHS_NUMBER, value: nhsNumber }] },
      }),
    );
    order = await answer<ServiceRequest>(
      gp.create({
        resourceType: 'ServiceRequest',
        // fhir-kit-client types a body as a loose record, which a typed resource is not.
        body: ctChestOrder(placerNumber, nhsNumber) as unknown as FhirResource,
      }),
    );
    expect(order.subject?.reference).toBe(`Patient/${patient.id}`);
    const read = await answer<ServiceRequest>(gp.read({ resourceType: 'ServiceRequest', id: order.id as string }));
    const first = await answer<ServiceRequest>(
      gp.vread({
        resourceType: 'ServiceRequest',
        id: order.id as string,
        version: '1',
      }),
    );
    expect([read.id, first.meta?.versionId]).toEqual([order.id, '1']);
  });

  it('searches the order with its Task, and pages on by the next link', async () => {
    const found = await answer<Bundle>(
      gp.search({
        resourceType: 'ServiceRequest',
        searchParams: { identifier: `${PLACER}|${placerNumber}`, _revinclude: 'Task:focus' },
      }),
    );
    expect(found.entry?.map((e) => e.resource?.resourceType)).toEqual(['ServiceRequest', 'Task']);
    const page = await answer<Bundle>(gp.search({ resourceType: 'ServiceRequest', searchParams: { _count: 1 } }));
    const next = await answer<Bundle | undefined>(gp.nextPage({ bundle: page as never }));
    expect(next?.entry).toHaveLength(1);
    expect(next?.entry?.[0]?.resource?.id).not.toBe(page.entry?.[0]?.resource?.id);
  });

  it('reads in a batch (client.batch), each entry as it is answered alone', async () => {
    const response = await answer<Bundle>(
      gp.batch({
        body: {
          resourceType: 'Bundle',
          type: 'batch',
          entry: [`ServiceRequest/${order.id}`, `Task?focus=ServiceRequest/${order.id}`, 'Patient/nobody'].map(
            (url) => ({
              request: { method: 'GET', url },
            }),
          ),
        },
      }),
    );
    expect(response.type).toBe('batch-response');
    expect(response.entry?.map((e) => e.response?.status)).toEqual(['200 OK', '200 OK', '404 Not Found']);
    expect(response.entry?.[0]?.resource?.id).toBe(order.id);
  });

  it('gets what the gateway refuses with its status and an OperationOutcome it can read', async () => {
    const badNumber = await refusal(
      gp.create({
        resourceType: 'Patient',
        body: { resourceType: 'Patient', identifier: [{ system: NHS_NUMBER, value: '9990000019' }] },
      }),
    );
    expect([badNumber.status, badNumber.data.issue[0]?.expression]).toEqual([422, ['Patient.identifier[0].value']]);
    const deleted = await refusal(gp.delete({ resourceType: 'ServiceRequest', id: order.id as string }));
    expect(deleted.status).toBe(405);
    // An operation asked the wrong way is told how it is invoked.
    const validate = await refusal(gp.operation({ name: '$validate', resourceType: 'Patient', method: 'GET' }));
    expect([validate.status, validate.data.issue[0]?.diagnostics]).toEqual([405, expect.stringMatching(/POST/)]);
  });
});
