import type {
  Communication,
  DiagnosticReport,
  Endpoint,
  Flag,
  ImagingStudy,
  Patient,
  ServiceRequest,
  Task,
} from '@medplum/fhirtypes';
import {
  CODE_SYSTEMS,
  NHS_NUMBER_SYSTEM,
  odsReference,
  patientReferenceByNhsNumber,
  searchAll,
  SYSTEMS,
  testNhsNumber,
} from '@imaging/fhir';
import type { Caller, WithId } from '@imaging/fhir';
import {
  exampleDiagnosticReport,
  exampleEndpoint,
  exampleImagingStudy,
  examplePatient,
  exampleServiceRequest,
} from '@imaging/fhir/examples';
import { checkTurnarounds } from '../domain/breaches.ts';
import { deliverDue } from '../domain/delivery.ts';
import { placeOrder } from '../domain/orders.ts';
import type { GatewayDeps } from '../domain/ports.ts';
import { registerEndpoint, registerPatient } from '../domain/registrations.ts';
import { issueReport, recordImagingStudy } from '../domain/results.ts';
import { updateTask } from '../domain/tasks.ts';
import { GP, RIS, testRegions } from './regions.ts';

/** One stored resource of each type the gateway serves, as one region holds them. */
export interface CaseResources {
  Patient: WithId<Patient>;
  ServiceRequest: WithId<ServiceRequest>;
  Task: WithId<Task>;
  ImagingStudy: WithId<ImagingStudy>;
  DiagnosticReport: WithId<DiagnosticReport>;
  Endpoint: WithId<Endpoint>;
}

/** What the provider's region holds besides: the DM01 breach's notice to the provider, and its Flag. */
export interface ProviderResources extends CaseResources {
  Communication: WithId<Communication>;
  Flag: WithId<Flag>;
}

const only = async <T extends keyof ProviderResources>(deps: GatewayDeps, type: T, query = {}) => {
  const found = await searchAll(deps.store, type, query);
  if (found.length !== 1) throw new Error(`expected one ${type}, found ${found.length}`);
  return found[0] as ProviderResources[T];
};

/**
 * A whole case, through the domain: the north GP (N81001) orders from RM1 in the midlands, which images
 * and reports; every change is delivered. The order was made long before it arrived (the example's
 * `authoredOn`), so the midlands' safety job finds it a DM01 breach at once: a Flag, and a Communication to
 * RM1. Returns each region's own copies.
 */
export async function reportedCase(regions = testRegions()) {
  const { north, midlands } = regions;
  await registerPatient(north, GP, examplePatient());
  await placeOrder(north, GP, exampleServiceRequest(), 'case-1');
  await deliverDue(north);
  const fulfil = { code: `${CODE_SYSTEMS.taskCode}|fulfil` };
  const order = await only(midlands, 'ServiceRequest');
  const checked = await checkTurnarounds(midlands);
  if (checked.breached !== 1) throw new Error(`expected the order to breach DM01: ${JSON.stringify(checked)}`);
  let task = await only(midlands, 'Task', fulfil);
  for (const status of ['accepted', 'in-progress'] as const)
    task = await updateTask(midlands, RIS, task.id, { ...task, status }, task.meta?.versionId, 'case-1');
  const address = exampleEndpoint().address;
  const endpoint = await registerEndpoint(
    midlands,
    RIS,
    exampleEndpoint({ id: undefined, identifier: [{ system: 'urn:ietf:rfc:3986', value: address }] }),
  );
  const study = await recordImagingStudy(
    midlands,
    RIS,
    exampleImagingStudy({
      basedOn: [{ reference: `ServiceRequest/${order.id}` }],
      subject: order.subject as ImagingStudy['subject'],
      endpoint: [{ reference: `Endpoint/${endpoint.resource.id}` }],
    }),
    'case-1',
  );
  const report = await issueReport(
    midlands,
    RIS,
    // No alert: the search world holds the fulfilment Tasks only (alerts have their own tests).
    exampleDiagnosticReport(
      {
        basedOn: [{ reference: `ServiceRequest/${order.id}` }],
        subject: order.subject as DiagnosticReport['subject'],
        imagingStudy: [{ reference: `ImagingStudy/${study.resource.id}` }],
      },
      'NONE',
    ),
    'case-1',
  );
  await updateTask(
    midlands,
    RIS,
    task.id,
    {
      ...task,
      status: 'completed',
      output: [{ type: { text: 'report' }, valueReference: { reference: `DiagnosticReport/${report.resource.id}` } }],
    },
    task.meta?.versionId,
    'case-1',
  );
  await deliverDue(midlands);
  const held = async (deps: GatewayDeps): Promise<CaseResources> => ({
    Patient: await only(deps, 'Patient'),
    ServiceRequest: await only(deps, 'ServiceRequest'),
    Task: await only(deps, 'Task', fulfil),
    ImagingStudy: await only(deps, 'ImagingStudy'),
    DiagnosticReport: await only(deps, 'DiagnosticReport'),
    Endpoint: await only(deps, 'Endpoint'),
  });
  const provider: ProviderResources = {
    ...(await held(midlands)),
    Communication: await only(midlands, 'Communication'),
    Flag: await only(midlands, 'Flag'),
  };
  return { regions, north: await held(north), midlands: provider };
}

/**
 * `caller`'s practice registers the test patient numbered `nhs` and orders for them under the placer number
 * `placer`, in the case `caseId`: an order of its own, for tests of who may join or read a case.
 */
export async function orderOf(deps: GatewayDeps, caller: Caller, placer: string, nhs: number, caseId: string) {
  const subject = { system: NHS_NUMBER_SYSTEM, value: testNhsNumber(nhs) };
  await registerPatient(deps, caller, examplePatient({ identifier: [subject] }));
  const order = exampleServiceRequest({
    identifier: [{ system: SYSTEMS.placerOrder, value: placer }],
    requester: odsReference(caller.organisation as string),
    subject: { type: 'Patient', identifier: subject },
  });
  return placeOrder(deps, caller, order, caseId);
}

/**
 * Two routine orders of the north GP for RM1 (A and B), for two patients, made now and delivered: the
 * midlands' copies, with their fulfilment Tasks (`taskOf`). A is a RIS's own order in the attack tests; B
 * any other order the same RIS may read.
 */
export async function twoDeliveredOrders(regions = testRegions()) {
  const { north, midlands } = regions;
  for (const [i, placer] of ['N81001-000123', 'N81001-000124'].entries()) {
    const nhs = testNhsNumber(i);
    await registerPatient(north, GP, examplePatient({ identifier: [{ system: NHS_NUMBER_SYSTEM, value: nhs }] }));
    const order = exampleServiceRequest({
      identifier: [{ system: SYSTEMS.placerOrder, value: placer }],
      subject: patientReferenceByNhsNumber(nhs),
      authoredOn: regions.clock.now().toISOString(),
    });
    await placeOrder(north, GP, order, `case-${i}`);
  }
  await deliverDue(north);
  const orders = await searchAll<ServiceRequest>(midlands.store, 'ServiceRequest');
  const tasks = await searchAll<Task>(midlands.store, 'Task', { code: `${CODE_SYSTEMS.taskCode}|fulfil` });
  const byPlacer = (placer: string) =>
    orders.find((o) => o.identifier?.some((i) => i.value === placer)) as WithId<ServiceRequest>;
  const taskOf = (order: ServiceRequest) =>
    tasks.find((t) => t.focus?.reference === `ServiceRequest/${order.id}`) as WithId<Task>;
  return { regions, midlands, A: byPlacer('N81001-000123'), B: byPlacer('N81001-000124'), taskOf };
}
