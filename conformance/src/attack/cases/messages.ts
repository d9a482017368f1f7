import { randomUUID } from 'node:crypto';
import { NHS_NUMBER_SYSTEM, ODS_SYSTEM, SYSTEMS, searchAll, testNhsNumber } from '@imaging/fhir';
import {
  exampleDiagnosticReport,
  exampleFulfilmentTask,
  examplePatient,
  exampleServiceRequest,
} from '@imaging/fhir/examples';
import {
  buildMessage,
  fulfilmentTaskIdentifier,
  MESSAGE_HEADERS,
  ORDER_REQUEST,
  REPORT_ISSUED,
  TASK_UPDATE,
} from '@imaging/messaging';
import type { MessageEventDefinition } from '@imaging/messaging';
import type { Bundle, DiagnosticReport, Patient, Resource, ServiceRequest, Task } from '@medplum/fhirtypes';
import type { AttackRequest } from '../surface.ts';
import type { AttackWorld } from '../world.ts';
import type { AttackCase } from './case.ts';
import { as, BAD_REQUEST, FORBIDDEN, HUB, OK, UNPROCESSABLE } from './case.ts';

/**
 * Forged routed messages, sent with a real region's credentials (through the hub) or with the hub's own
 * token (straight to a gateway, as if the hub had let them through). Built from what an attacker knows,
 * business identifiers, never from the victim's stored copy: no secret of the case is in any of them.
 */

const ods = (value: string) => ({ type: 'Organization' as const, identifier: { system: ODS_SYSTEM, value } });

function message(event: MessageEventDefinition, from: string, to: string, focus: Resource, resources: Resource[] = []) {
  return buildMessage({
    event,
    timestamp: new Date().toISOString(),
    sourceService: from,
    destinationService: to,
    focus,
    resources,
    identifierOf: () => undefined,
  });
}

/** `$process-message` with the three routing headers; a fresh request id unless one is given. */
export function routed(bundle: Bundle, target: string, requestId = `req-attack-${randomUUID()}`): AttackRequest {
  return {
    method: 'POST',
    path: '/fhir/$process-message',
    headers: {
      [MESSAGE_HEADERS.target]: target,
      [MESSAGE_HEADERS.requestId]: requestId,
      [MESSAGE_HEADERS.correlationId]: 'case-attack',
    },
    body: bundle,
  };
}

/** A task-update for case A's (or B's) fulfilment Task, as whoever sends it chooses to word it. */
export function forgedTaskUpdate(
  world: AttackWorld,
  from: string,
  to: string,
  status: Task['status'],
  options: { owner?: string; which?: 'A' | 'B' } = {},
): Bundle {
  const which = options.which ?? 'A';
  const task: Task = {
    ...exampleFulfilmentTask({
      identifier: [{ system: SYSTEMS.task, value: world.seeded.taskIdentifier[which] }],
      focus: { type: 'ServiceRequest', identifier: { system: SYSTEMS.placerOrder, value: world.seeded.placer[which] } },
      for: { type: 'Patient', identifier: { system: NHS_NUMBER_SYSTEM, value: world.seeded.nhs.A } },
      owner: ods(options.owner ?? 'RM1'),
    }),
    status,
    businessStatus: { text: 'Cancelled by the radiology department' },
  };
  return message(TASK_UPDATE, from, to, task);
}

/** A report for one of the north's orders (by placer number), as if `performer` had written it. */
function forgedReport(world: AttackWorld, from: string, to: string, placer: string, performer: string): Bundle {
  return message(
    REPORT_ISSUED,
    from,
    to,
    exampleDiagnosticReport({
      identifier: [{ system: SYSTEMS.report, value: `${performer}-FORGED-${world.seeded.run}` }],
      basedOn: [{ type: 'ServiceRequest', identifier: { system: SYSTEMS.placerOrder, value: placer } }],
      subject: { type: 'Patient', identifier: { system: NHS_NUMBER_SYSTEM, value: world.seeded.nhs.A } },
      performer: [ods(performer)],
      conclusion: 'No abnormality detected.',
    }),
  );
}

/**
 * An order from `from` to `to`, in the name of `requester`, for `performer`, under `placer`; its Task under
 * the identifier that placer number gives, or the one `taskOf` names.
 */
function forgedOrder(
  from: string,
  to: string,
  requester: string,
  performer: string,
  placer: string,
  taskOf = placer,
): Bundle {
  const patient = examplePatient({ identifier: [{ system: NHS_NUMBER_SYSTEM, value: testNhsNumber(77) }] });
  const identifier = [{ system: SYSTEMS.placerOrder, value: placer }];
  return message(
    ORDER_REQUEST,
    from,
    to,
    {
      ...exampleServiceRequest({ identifier, requester: ods(requester), performer: [ods(performer)] }),
      id: 'order',
    } as ServiceRequest,
    [
      { ...patient, id: 'patient' } as Patient,
      {
        ...exampleFulfilmentTask({
          identifier: [fulfilmentTaskIdentifier({ system: SYSTEMS.placerOrder, value: taskOf })],
          requester: ods(requester),
          owner: ods(performer),
        }),
        id: 'task',
        focus: { reference: 'ServiceRequest/order' },
      } as Task,
    ],
  );
}

const SECOND_REPORT_IDENTIFIER =
  "a report from the midlands for its own order, carrying a second report identifier in the south's namespace";
/**
 * The midlands' report for case B (RM1 performs it), also carrying RS1's next report number: only the first
 * identifier was ever checked, and RS1's own report under the second would later match this one.
 */
const reportWithSecondIdentifier = (w: AttackWorld) => {
  const bundle = forgedReport(w, 'imaging-midlands', 'imaging-north', w.seeded.placer.B, 'RM1');
  const report = bundle.entry?.[1]?.resource as DiagnosticReport;
  report.identifier = [
    { system: SYSTEMS.report, value: `RM1-PLANT-${w.seeded.run}` },
    { system: SYSTEMS.report, value: `RS1-REP-${w.seeded.run}` },
  ];
  return bundle;
};

const NAMES_ANOTHER_ORDERS_REPORT =
  "the performer's region completing case B's Task with case A's report, named by its identifier";
/**
 * Case B's Task at the north, completed by the midlands (its partner, so only the output is wrong), with
 * case A's report as the result: resolved by its business identifier, it is the north's copy of A's report,
 * for another order. The referrer reads B's result through that output.
 */
const completedWithAnotherOrdersReport = (w: AttackWorld) => {
  const bundle = forgedTaskUpdate(w, 'imaging-midlands', 'imaging-north', 'completed', { which: 'B' });
  const task = bundle.entry?.[1]?.resource as Task;
  task.businessStatus = { text: 'Reported' };
  task.output = [
    {
      type: { text: 'report' },
      valueReference: {
        type: 'DiagnosticReport',
        identifier: { system: SYSTEMS.report, value: w.seeded.reportIdentifier.A },
      },
    },
  ];
  return bundle;
};

const CANCELS_FINISHED_TASK = "the requester's region cancelling a Task the performer has finished";

const TAKES_ANOTHER_TASK =
  "an order whose Task takes the identifier of another order's Task, before that order is sent";
/** The north's order N81001-<run>1, its Task under the identifier order N81001-<run>2 will need. */
const orderTakingAnotherTask = (w: AttackWorld) =>
  forgedOrder(
    'imaging-north',
    'imaging-midlands',
    'N81001',
    'RM1',
    `N81001-${w.seeded.run}1`,
    `N81001-${w.seeded.run}2`,
  );

const SOUTH = as('gateway-south');
const NORTH = as('gateway-north');
const MIDLANDS = as('gateway-midlands');

/** Through the hub, with a gateway's own credentials; the hub must refuse, or relay the receiver's refusal. */
const viaHub = (
  name: string,
  credential: AttackCase['credential'],
  build: (w: AttackWorld) => { bundle: Bundle; target: string },
  expect: AttackCase['expect'] = FORBIDDEN,
): AttackCase => ({
  family: 'messages',
  name: `through the hub: ${name}`,
  service: 'hub',
  credential,
  request: (w) => {
    const { bundle, target } = build(w);
    return routed(bundle, target);
  },
  expect,
});

/** Straight to a gateway with the hub's own token: the receiver checks again, against its own copy. */
const straight = (
  name: string,
  service: 'north' | 'midlands',
  build: (w: AttackWorld) => Bundle,
  expect: AttackCase['expect'] = FORBIDDEN,
): AttackCase => ({
  family: 'messages',
  name: `straight to ${service}: ${name}`,
  service,
  credential: HUB,
  request: (w) => routed(build(w), `imaging-${service}`),
  expect,
});

export const MESSAGE_CASES: readonly AttackCase[] = [
  // The three known attacks, each at the hub and at the receiver.
  viaHub("task-update from the south for the north's Task partnered with the midlands", SOUTH, (w) => ({
    bundle: forgedTaskUpdate(w, 'imaging-south', 'imaging-north', 'completed'),
    target: 'imaging-north',
  })),
  straight("task-update from the south for the north's Task partnered with the midlands", 'north', (w) =>
    forgedTaskUpdate(w, 'imaging-south', 'imaging-north', 'completed'),
  ),
  viaHub('the same task-update claiming a south owner: past the hub, refused by the north, relayed', SOUTH, (w) => ({
    bundle: forgedTaskUpdate(w, 'imaging-south', 'imaging-north', 'cancelled', { owner: 'RS1' }),
    target: 'imaging-north',
  })),
  viaHub('report-issued from the south for an order RM1 performs', SOUTH, (w) => ({
    bundle: forgedReport(w, 'imaging-south', 'imaging-north', w.seeded.placer.B, 'RM1'),
    target: 'imaging-north',
  })),
  straight('report-issued from the south for an order RM1 performs', 'north', (w) =>
    forgedReport(w, 'imaging-south', 'imaging-north', w.seeded.placer.B, 'RM1'),
  ),
  viaHub('report-issued naming a south performer: past the hub, refused by the north', SOUTH, (w) => ({
    bundle: forgedReport(w, 'imaging-south', 'imaging-north', w.seeded.placer.B, 'RS1'),
    target: 'imaging-north',
  })),
  viaHub('order-request from the south in the name of a north practice', SOUTH, (w) => ({
    bundle: forgedOrder('imaging-south', 'imaging-midlands', 'N81001', 'RM1', `N81001-${w.seeded.run}7`),
    target: 'imaging-midlands',
  })),
  straight('order-request from the south in the name of a north practice', 'midlands', (w) =>
    forgedOrder('imaging-south', 'imaging-midlands', 'N81001', 'RM1', `N81001-${w.seeded.run}7`),
  ),
  // Variants.
  viaHub('a message claiming to come from the midlands, sent with the south’s credentials', SOUTH, (w) => ({
    bundle: forgedTaskUpdate(w, 'imaging-midlands', 'imaging-north', 'completed'),
    target: 'imaging-north',
  })),
  viaHub("the requester's region moving the Task on (it may only cancel)", NORTH, (w) => ({
    bundle: forgedTaskUpdate(w, 'imaging-north', 'imaging-midlands', 'in-progress', { which: 'B' }),
    target: 'imaging-midlands',
  })),
  straight("the requester's region moving the Task on (it may only cancel)", 'midlands', (w) =>
    forgedTaskUpdate(w, 'imaging-north', 'imaging-midlands', 'in-progress', { which: 'B' }),
  ),
  viaHub('an order under a placer number outside its requester’s namespace', NORTH, (w) => ({
    bundle: forgedOrder('imaging-north', 'imaging-midlands', 'N81001', 'RM1', `RM1-${w.seeded.run}8`),
    target: 'imaging-midlands',
  })),
  viaHub(TAKES_ANOTHER_TASK, NORTH, (w) => ({ bundle: orderTakingAnotherTask(w), target: 'imaging-midlands' })),
  straight(TAKES_ANOTHER_TASK, 'midlands', orderTakingAnotherTask),
  viaHub('an order to the midlands for a performer the midlands does not serve', NORTH, (w) => ({
    bundle: forgedOrder('imaging-north', 'imaging-midlands', 'N81001', 'RS1', `N81001-${w.seeded.run}6`),
    target: 'imaging-midlands',
  })),
  viaHub(
    "a report from the midlands to the north for the south's order (the north shares no such case)",
    MIDLANDS,
    (w) => ({
      bundle: forgedReport(w, 'imaging-midlands', 'imaging-north', w.seeded.placer.C, 'RM1'),
      target: 'imaging-north',
    }),
    [403, 409, 422],
  ),
  // One identifier per business system; the requester cancels only what has not started (by the receiver's copy).
  viaHub(SECOND_REPORT_IDENTIFIER, MIDLANDS, (w) => ({
    bundle: reportWithSecondIdentifier(w),
    target: 'imaging-north',
  })),
  straight(SECOND_REPORT_IDENTIFIER, 'north', reportWithSecondIdentifier),
  // A fulfilment Task's result is its own order's: the receiver resolves the output and refuses another order's.
  viaHub(`${NAMES_ANOTHER_ORDERS_REPORT}: past the hub, refused by the north`, MIDLANDS, (w) => ({
    bundle: completedWithAnotherOrdersReport(w),
    target: 'imaging-north',
  })),
  straight(NAMES_ANOTHER_ORDERS_REPORT, 'north', completedWithAnotherOrdersReport),
  viaHub(`${CANCELS_FINISHED_TASK}: past the hub, refused by the midlands`, NORTH, (w) => ({
    bundle: forgedTaskUpdate(w, 'imaging-north', 'imaging-midlands', 'cancelled'),
    target: 'imaging-midlands',
  })),
  straight(CANCELS_FINISHED_TASK, 'midlands', (w) =>
    forgedTaskUpdate(w, 'imaging-north', 'imaging-midlands', 'cancelled'),
  ),
  viaHub(
    'a MessageHeader destination that is not the target header',
    SOUTH,
    (w) => ({ bundle: forgedTaskUpdate(w, 'imaging-south', 'imaging-north', 'completed'), target: 'imaging-midlands' }),
    UNPROCESSABLE,
  ),
  viaHub(
    'a target the directory does not know',
    SOUTH,
    (w) => ({
      bundle: forgedTaskUpdate(w, 'imaging-south', 'imaging-nowhere', 'completed'),
      target: 'imaging-nowhere',
    }),
    UNPROCESSABLE,
  ),
  viaHub(
    'an event nobody may send',
    SOUTH,
    (w) => {
      const bundle = forgedTaskUpdate(w, 'imaging-south', 'imaging-north', 'completed');
      const header = bundle.entry?.[0]?.resource as { eventCoding?: { code?: string } };
      if (header.eventCoding) header.eventCoding.code = 'patient-merge';
      return { bundle, target: 'imaging-north' };
    },
    [400, 403, 422],
  ),
  viaHub('sent by a GP rather than a gateway', as('gp-n81001'), (w) => ({
    bundle: forgedTaskUpdate(w, 'imaging-north', 'imaging-midlands', 'cancelled', { which: 'B' }),
    target: 'imaging-midlands',
  })),
  viaHub('sent with the hub’s own token', HUB, (w) => ({
    bundle: forgedTaskUpdate(w, 'imaging-midlands', 'imaging-north', 'completed'),
    target: 'imaging-north',
  })),
  {
    family: 'messages',
    name: 'straight to the north with the south gateway’s own token',
    service: 'north',
    credential: SOUTH,
    request: (w) => routed(forgedTaskUpdate(w, 'imaging-south', 'imaging-north', 'completed'), 'imaging-north'),
    expect: FORBIDDEN,
  },
  {
    family: 'messages',
    name: 'through the hub without routing headers',
    service: 'hub',
    credential: SOUTH,
    request: (w) => ({
      method: 'POST',
      path: '/fhir/$process-message',
      body: forgedTaskUpdate(w, 'imaging-south', 'imaging-north', 'completed'),
    }),
    expect: BAD_REQUEST,
  },
  {
    family: 'messages',
    name: 'through the hub with a request id that walks paths',
    service: 'hub',
    credential: SOUTH,
    request: (w) =>
      routed(forgedTaskUpdate(w, 'imaging-south', 'imaging-north', 'completed'), 'imaging-north', '../../Task/x'),
    expect: BAD_REQUEST,
  },
  {
    family: 'messages',
    name: 'a forged order replaying the request id of one the midlands has processed: answered, nothing written',
    service: 'midlands',
    credential: HUB,
    request: async (w) => {
      // A receipt is kept under its sender and request id: `imaging-north/req-…`.
      const receipts = await searchAll<Bundle>(w.stores.midlands, 'Bundle');
      const fromNorth = receipts.map((b) => b.identifier?.value).find((v) => v?.startsWith('imaging-north/'));
      const requestId = fromNorth?.slice('imaging-north/'.length);
      if (!requestId) throw new Error('the midlands holds no message receipt from the north');
      return routed(
        forgedOrder('imaging-north', 'imaging-midlands', 'N81001', 'RM1', `N81001-${w.seeded.run}5`),
        'imaging-midlands',
        requestId,
      );
    },
    expect: OK,
  },
];
