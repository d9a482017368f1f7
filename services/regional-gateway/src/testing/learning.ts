import type { ServiceRequest, Task } from '@medplum/fhirtypes';
import {
  CODE_SYSTEMS,
  DICOM_UID_SYSTEM,
  odsReference,
  searchAll,
  searchOne,
  SqliteStore,
  SYSTEMS,
  token,
  validatingStore,
} from '@imaging/fhir';
import type { AlertCategory, WithId } from '@imaging/fhir';
import {
  exampleDiagnosticReport,
  exampleEndpoint,
  exampleImagingStudy,
  examplePatient,
  exampleServiceRequest,
} from '@imaging/fhir/examples';
import { acknowledgeAlert } from '../domain/alert-operations.ts';
import { placeOrder } from '../domain/orders.ts';
import { registerEndpoint, registerPatient } from '../domain/registrations.ts';
import { issueReport, recordImagingStudy } from '../domain/results.ts';
import { runSafetyPass } from '../domain/safety.ts';
import { updateTask } from '../domain/tasks.ts';
import { RN1_RIS } from './alerts.ts';
import { GP, testClock, testRegions } from './regions.ts';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/** 08:00 UTC on 1 July 2026: the first morning of 2026-Q3. */
export const QUARTER_START_MORNING = '2026-07-01T08:00:00.000Z';

/**
 * A quarter of events in the north, for the learning report's tests: the GP practice N81001 orders from
 * RN1 (the same region, so one store holds everything), on a clock moved by hand, with the safety job run
 * at set times. Five cases, each `case-<n>`, all ordered at 08:00 on 1 July 2026 (t0) and accepted at t0+30min:
 * 1. routine, tested t0+1h, URGENT report t0+2h, acknowledged t0+30h: 4 h late (due t0+26h);
 * 2. routine, tested t0+1h, CRITICAL report t0+2h, never acknowledged: reaches the fail-safe officer at
 *    t0+4h, then 4 reminders (passes at t0+26h, t0+50h, t0+96h, t0+43d);
 * 3. urgent, tested t0+1h, report due t0+49h, breach raised at t0+50h, report issued t0+96h: 47 h late;
 * 4. urgent, tested t0+1h, URGENT report t0+5h (on time), acknowledged t0+6h (on time);
 * 5. routine, never tested: a DM01 breach (due t0+42d) raised at t0+43d, still open.
 * Returns the regions, with the clock at t0+43d, and RN1's endpoint.
 */
export async function learningQuarter() {
  const regions = testRegions(testClock(QUARTER_START_MORNING));
  // The store stamps meta.lastUpdated on the quarter's clock, as a production store stamps its own time.
  regions.north = regions.open('north', validatingStore(new SqliteStore({ path: ':memory:', clock: regions.clock })));
  const { north, clock } = regions;
  const at = (ms: number) => clock.advance(ms - (clock.now().getTime() - Date.parse(QUARTER_START_MORNING)));
  await registerPatient(north, GP, examplePatient());
  const endpoint = await registerEndpoint(
    north,
    RN1_RIS,
    exampleEndpoint({ id: undefined, identifier: [{ system: 'urn:ietf:rfc:3986', value: exampleEndpoint().address }] }),
  );
  const orders = new Map<number, WithId<ServiceRequest>>();
  for (const [n, priority] of [
    [1, 'routine'],
    [2, 'routine'],
    [3, 'urgent'],
    [4, 'urgent'],
    [5, 'routine'],
  ] as const) {
    const placer = `N81001-00000${n}`;
    await placeOrder(
      north,
      GP,
      exampleServiceRequest({
        identifier: [{ system: SYSTEMS.placerOrder, value: placer }],
        priority,
        authoredOn: clock.now().toISOString(),
        performer: [odsReference('RN1')],
      }),
      `case-${n}`,
    );
    const order = await searchOne<ServiceRequest>(north.store, 'ServiceRequest', {
      identifier: token(SYSTEMS.placerOrder, placer),
    });
    orders.set(n, order as WithId<ServiceRequest>);
  }
  const orderOf = (n: number) => orders.get(n) as WithId<ServiceRequest>;
  // RN1 accepts every order at t0+30min: the DIDS request-received date.
  at(30 * MINUTE);
  for (const n of [1, 2, 3, 4, 5]) {
    const [task] = await caseTasks(regions, n, 'fulfil');
    if (!task) throw new Error(`no fulfilment Task for case-${n}`);
    await updateTask(north, RN1_RIS, task.id, { ...task, status: 'accepted' }, task.meta?.versionId, `case-${n}`);
  }
  at(HOUR);
  for (const n of [1, 2, 3, 4]) {
    const order = orderOf(n);
    await recordImagingStudy(
      north,
      RN1_RIS,
      exampleImagingStudy({
        identifier: [
          { system: DICOM_UID_SYSTEM, value: `urn:oid:1.2.826.0.1.3680043.10.543.${n}` },
          { system: SYSTEMS.accession, value: `RN1-ACC-${n}` },
        ],
        basedOn: [{ reference: `ServiceRequest/${order.id}` }],
        subject: order.subject as never,
        endpoint: [{ reference: `Endpoint/${endpoint.resource.id}` }],
        started: clock.now().toISOString(),
        procedureCode: [order.code ?? {}],
      }),
      `case-${n}`,
    );
  }
  const report = (n: number, category: AlertCategory) => {
    const order = orderOf(n);
    return issueReport(
      north,
      RN1_RIS,
      exampleDiagnosticReport(
        {
          identifier: [{ system: SYSTEMS.report, value: `RN1-REP-${n}` }],
          performer: [odsReference('RN1')],
          basedOn: [{ reference: `ServiceRequest/${order.id}` }],
          subject: order.subject as never,
          issued: clock.now().toISOString(),
        },
        category,
      ),
      `case-${n}`,
    );
  };
  const acknowledge = async (n: number) => {
    const alert = (await alertOf(regions, n)) as WithId<Task>;
    await acknowledgeAlert(
      north,
      GP,
      alert.id,
      { resourceType: 'Parameters', parameter: [{ name: 'acknowledgedBy', valueString: 'Dr Asha Patel' }] },
      undefined,
    );
  };
  const pass = async (ms: number) => {
    at(ms);
    await runSafetyPass(north);
  };
  at(2 * HOUR);
  await report(1, 'URGENT');
  await report(2, 'CRITICAL');
  await pass(3 * HOUR);
  await pass(3.5 * HOUR);
  await pass(4 * HOUR);
  at(5 * HOUR);
  await report(4, 'URGENT');
  at(6 * HOUR);
  await acknowledge(4);
  await pass(26 * HOUR);
  at(30 * HOUR);
  await acknowledge(1);
  await pass(50 * HOUR);
  at(96 * HOUR);
  await report(3, 'NONE');
  await pass(96 * HOUR + MINUTE);
  await pass(43 * DAY);
  return { regions, orderOf, endpoint: `Endpoint/${endpoint.resource.id}` };
}

/** The acknowledgement Task of a case of the learning quarter. */
export function alertOf(regions: ReturnType<typeof testRegions>, n: number) {
  return searchOne<Task>(regions.north.store, 'Task', {
    code: token(CODE_SYSTEMS.taskCode, 'acknowledge-result'),
    'group-identifier': token(SYSTEMS.correlation, `case-${n}`),
  });
}

/** Tasks of one code of a case. */
export function caseTasks(regions: ReturnType<typeof testRegions>, n: number, code: string) {
  return searchAll<Task>(regions.north.store, 'Task', {
    code: token(CODE_SYSTEMS.taskCode, code),
    'group-identifier': token(SYSTEMS.correlation, `case-${n}`),
  });
}
