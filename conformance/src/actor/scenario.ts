import type { Bundle, DiagnosticReport, ImagingStudy, ServiceRequest, Task } from '@medplum/fhirtypes';
import { generateSigningKey, signAccessToken } from '@imaging/auth';
import { NHS_NUMBER_SYSTEM, randomTestNhsNumber, SYSTEMS } from '@imaging/fhir';
import type { PlacedOrder, WithId } from '@imaging/fhir';
import { examplePatient, exampleServiceRequest } from '@imaging/fhir/examples';
import { MESSAGE_HEADERS, ORDER_REQUEST, parseMessage, REPORT_ISSUED, TASK_UPDATE } from '@imaging/messaging';
import { createReferrer, createRisPacs, pollUntil } from '@imaging/simulators';
import { randomBytes, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { note, suiteOptions } from '../suite/context.ts';
import type { ActorRole } from '../suite/meta.ts';
import { rawFhir } from '../suite/raw-fhir.ts';
import type { RawAnswer } from '../suite/raw-fhir.ts';
import {
  carried,
  citesOrder,
  deliveriesOf,
  identifierValue,
  lifecycleProblems,
  messageValidationErrors,
  outcomeProblems,
  resourceValidationErrors,
  statusesCarried,
  withFreshFocus,
} from './messages.ts';
import type { HubDelivery } from './stand-in-hub.ts';
import { PROVIDER, REFERRER, startActorWorld } from './world.ts';
import type { ActorWorld } from './world.ts';

/**
 * The actor tests, one scenario for both roles. A GP in the north orders a CT from RM1 in the midlands;
 * the suite's hub routes every message between the two regions. The system under test is one of the
 * regions (midlands for `imaging-provider`, north for `referrer`); our own gateway is the other.
 * Where a region is ours, the suite's simulators play its users (the GP's system, the RIS/PACS).
 *
 * The tests run in order and build on each other (the order placed in the first is worked in the next).
 */
export function describeActorTests(role: ActorRole): void {
  const options = suiteOptions();
  const run = randomBytes(3).toString('hex').toUpperCase();
  const placer = `${REFERRER.ods}-C${run}-1`;
  const nhsNumber = randomTestNhsNumber();

  let world: ActorWorld;
  let placed: PlacedOrder | undefined;
  /** How long a hop may take: ours are quick; a vendor's RIS may be worked by a person. */
  const patience = options.actorTarget ? options.actorTimeoutMs : 60_000;
  /** A test's own limit: its waits, plus a minute for everything else. */
  const within = (waits: number) => waits * patience + 60_000;

  const sutName = () =>
    world.sut.ours
      ? `our regional gateway (${world.sut.serviceId}, ${world.sut.fhirBase})`
      : `${world.sut.serviceId} at ${world.sut.fhirBase}`;
  const sutClient = () => (role === 'imaging-provider' ? world.provider : world.referrer);
  const awaitDelivery = (
    event: string,
    destination: string,
    what: string,
    accept: (d: HubDelivery) => boolean = () => true,
  ) =>
    pollUntil(
      async () =>
        deliveriesOf(world.hub.deliveries, event, destination, placer).find((d) => d.status !== undefined && accept(d)),
      {
        timeoutMs: patience,
        intervalMs: 100,
        what,
      },
    );
  const requirePlaced = (): PlacedOrder => {
    expect(placed, 'the order placed by the first test').toBeDefined();
    return placed as PlacedOrder;
  };

  describe(`${role}: the system under test`, () => {
    beforeAll(async () => {
      world = await startActorWorld(role, options);
    }, 180_000);
    afterAll(async () => {
      await world?.stop();
    });

    if (role === 'imaging-provider') {
      it(
        'accepts a routed order and its Task: the hub’s delivery to $process-message is answered ok, and the order and Task are stored',
        async () => {
          note(`system under test: ${sutName()}`);
          placed = await placeOrder(world, placer, nhsNumber);
          const delivery = await awaitDelivery(
            ORDER_REQUEST.code,
            world.sut.serviceId,
            `the order ${placer} delivered to ${world.sut.serviceId}`,
          );
          expectAcknowledged(delivery);
          const taskValue = identifierValue(placed.task, SYSTEMS.task) as string;
          const tasks = await sutClient().search<Task>('Task', { identifier: `${SYSTEMS.task}|${taskValue}` });
          expect(
            tasks.map((t) => t.status),
            `the Task ${taskValue} at the system under test`,
          ).toEqual(['requested']);
          const orders = await sutClient().search<ServiceRequest>('ServiceRequest', {
            identifier: `${SYSTEMS.placerOrder}|${placer}`,
          });
          expect(orders, `one order ${placer} at the system under test`).toHaveLength(1);
          expect(tasks[0]?.focus?.reference).toBe(`ServiceRequest/${orders[0]?.id}`);
        },
        within(1),
      );
    } else {
      it(
        'routes a referrer’s order with its Task and Patient to the performer’s region, as a valid message the peer accepts',
        async () => {
          note(`system under test: ${sutName()}`);
          placed = await placeOrder(world, placer, nhsNumber);
          expect(placed.task.status).toBe('requested');
          const delivery = await awaitDelivery(
            ORDER_REQUEST.code,
            world.peer.serviceId,
            `the order ${placer} routed to ${world.peer.serviceId}`,
          );
          const message = delivery.message as Bundle;
          expect(() => parseMessage(message), 'a well-formed order message').not.toThrow();
          expect(
            carried(message)
              .map((r) => r.resourceType)
              .sort(),
          ).toEqual(['Patient', 'ServiceRequest', 'Task']);
          expect(messageValidationErrors(message)).toEqual([]);
          expectAcknowledged(delivery);
        },
        within(1),
      );
    }

    it(
      'moves the Task through legal states to completed, each change sent to the other region and accepted there',
      async () => {
        const order = requirePlaced();
        if (world.sut.ours || role === 'referrer' || options.simulateRis) {
          note('the RIS/PACS simulator (ris-rm1) works the order at the midlands gateway');
          await workTheOrder(world, identifierValue(order.task, SYSTEMS.task) as string, patience);
        } else
          note(
            `waiting up to ${patience / 1000} s for the system under test to work the order (accept, start, image, report, complete)`,
          );
        const seen = await referrer(world).waitForTaskStatus(order.task.id, 'completed', patience);
        const updates = deliveriesOf(
          world.hub.deliveries,
          TASK_UPDATE.code,
          world.topology.regions.find((r) => r.id === 'north')?.serviceId as string,
          placer,
        );
        const statuses = statusesCarried(updates);
        note(`statuses sent by the imaging provider's region: requested → ${statuses.join(' → ')}`);
        expect(lifecycleProblems(statuses, 'requested', 'completed')).toEqual([]);
        for (const update of updates) expectAcknowledged(update);
        expect(seen.task.status).toBe('completed');
      },
      within(2),
    );

    it(
      'sends an ImagingStudy and a DiagnosticReport that validate and reference the order, and the referrer can read them',
      async () => {
        const order = requirePlaced();
        const north = world.topology.regions.find((r) => r.id === 'north')?.serviceId as string;
        const delivery = await awaitDelivery(
          REPORT_ISSUED.code,
          north,
          `the report on ${placer} delivered to ${north}`,
        );
        const message = delivery.message as Bundle;
        expect(() => parseMessage(message), 'a well-formed report message').not.toThrow();
        const report = carried(message).find((r): r is DiagnosticReport => r.resourceType === 'DiagnosticReport');
        const studies = carried(message).filter((r): r is ImagingStudy => r.resourceType === 'ImagingStudy');
        expect(report, 'a DiagnosticReport in the message').toBeDefined();
        expect(studies.length, 'an ImagingStudy in the message').toBeGreaterThan(0);
        expect(messageValidationErrors(message)).toEqual([]);
        expect(citesOrder(report as DiagnosticReport, placer), `the report is based on order ${placer}`).toBe(true);
        for (const study of studies)
          expect(citesOrder(study, placer), `the study is based on order ${placer}`).toBe(true);
        expectAcknowledged(delivery);

        // What the referrer's region holds now: the report and studies, pointing at its own order.
        const task = await referrer(world).readTask(order.task.id);
        const result = await referrer(world).readResult(task);
        expect(result.report.basedOn?.map((b) => b.reference)).toContain(`ServiceRequest/${order.serviceRequest.id}`);
        expect(result.studies.length).toBeGreaterThan(0);
        for (const study of result.studies)
          expect(citesOrder(study, placer, `ServiceRequest/${order.serviceRequest.id}`)).toBe(true);
        expect([result.report, ...result.studies].flatMap(resourceValidationErrors)).toEqual([]);
        note(
          `report ${identifierValue(result.report, SYSTEMS.report) ?? result.report.id} with ${result.studies.length} study/studies`,
        );
      },
      within(1),
    );

    describe('rejects bad input at $process-message with an OperationOutcome, and stores nothing', () => {
      /** The message the hub delivered to the system under test, as the base of each bad variant. */
      const baseDelivery = () => {
        const event = role === 'imaging-provider' ? ORDER_REQUEST.code : REPORT_ISSUED.code;
        const delivery = deliveriesOf(world.hub.deliveries, event, world.sut.serviceId, placer).find(
          (d) => d.status === 200,
        );
        expect(delivery, `a ${event} message delivered to the system under test earlier`).toBeDefined();
        return delivery as HubDelivery;
      };
      const post = (body: string, headers: Record<string, string>) =>
        rawFhir(world.sut.fhirBase, 'hub (suite) → system under test').request('POST', '$process-message', {
          body,
          headers: {
            [MESSAGE_HEADERS.requestId]: randomUUID(),
            [MESSAGE_HEADERS.correlationId]: `conformance-${run}`,
            ...headers,
          },
        });
      const bearer = async () => ({ Authorization: `Bearer ${await world.hub.hubToken()}` });

      const cases: { name: string; statuses: number[]; send(fresh: Bundle): Promise<RawAnswer> }[] = [
        { name: 'no bearer token: 401', statuses: [401], send: (m) => post(JSON.stringify(m), {}) },
        {
          name: 'a token signed by a key the hub never published: 401',
          statuses: [401],
          send: async (m) => {
            const forged = await signAccessToken(
              { sub: 'national-hub', client_kind: 'hub', scope: ['hub/deliver'] },
              { signingKey: await generateSigningKey(), issuer: world.hub.url },
            );
            return post(JSON.stringify(m), { Authorization: `Bearer ${forged.access_token}` });
          },
        },
        {
          name: 'a referrer’s token, not the hub’s: 403',
          statuses: [403],
          send: async (m) => {
            const token = await world.hub.tokenFor({
              sub: REFERRER.client,
              client_kind: 'referrer',
              org: REFERRER.ods,
              region: 'north',
              scope: ['system/Task.rus'],
            });
            return post(JSON.stringify(m), { Authorization: `Bearer ${token}` });
          },
        },
        {
          name: 'malformed JSON: 400',
          statuses: [400],
          send: async () => post('{"resourceType": "Bundle", "type": "mess', await bearer()),
        },
        {
          name: 'a resource that is not a Bundle: 400',
          statuses: [400, 422],
          send: async (m) => post(JSON.stringify(carried(m)[0]), await bearer()),
        },
        {
          name: 'a message Bundle without its MessageHeader: 400',
          statuses: [400],
          send: async (m) => post(JSON.stringify({ ...m, entry: m.entry?.slice(1) }), await bearer()),
        },
        {
          name: 'an unknown message event: 422',
          statuses: [422, 400],
          send: async (m) => {
            const copy = structuredClone(m);
            const header = copy.entry?.[0]?.resource as { eventCoding?: { code?: string } };
            if (header.eventCoding) header.eventCoding.code = 'no-such-event';
            return post(JSON.stringify(copy), await bearer());
          },
        },
        {
          name: 'a message for another service (wrong destination): 422',
          statuses: [422, 400],
          send: async (m) => {
            const copy = structuredClone(m);
            const header = copy.entry?.[0]?.resource as { destination?: { endpoint?: string }[] };
            if (header.destination?.[0]) header.destination[0].endpoint = 'imaging-nowhere';
            return post(JSON.stringify(copy), await bearer());
          },
        },
      ];

      it.for(cases.map((c, i) => [c.name, i] as const))('%s', async ([, i]) => {
        const c = cases[i] as (typeof cases)[number];
        const fresh = withFreshFocus(baseDelivery().message as Bundle, `bad${i}`);
        const answer = await c.send(fresh.message);
        expect(c.statuses, `status ${answer.status}`).toContain(answer.status);
        expect(outcomeProblems(answer.body, answer.text)).toEqual([]);
        const stored = await sutClient().search(fresh.focusType as 'Task', {
          identifier: `${fresh.system}|${fresh.value}`,
        });
        expect(stored, `nothing stored with ${fresh.focusType} identifier ${fresh.value}`).toEqual([]);
      });
    });

    it('a replayed delivery (the same X-Request-ID and body) is acknowledged, and nothing is stored twice', async () => {
      const event = role === 'imaging-provider' ? ORDER_REQUEST.code : REPORT_ISSUED.code;
      const original = deliveriesOf(world.hub.deliveries, event, world.sut.serviceId, placer).find(
        (d) => d.status === 200,
      );
      expect(original, `the ${event} message delivered earlier`).toBeDefined();
      const delivery = original as HubDelivery;
      const answer = await rawFhir(world.sut.fhirBase, 'hub (suite) → system under test').request<Bundle>(
        'POST',
        '$process-message',
        {
          body: delivery.message,
          headers: {
            Authorization: `Bearer ${await world.hub.hubToken()}`,
            [MESSAGE_HEADERS.requestId]: delivery.requestId,
            [MESSAGE_HEADERS.correlationId]: `conformance-${run}`,
          },
        },
      );
      expect(answer.status, answer.text.slice(0, 300)).toBe(200);
      expect(answer.body?.resourceType).toBe('Bundle');
      const [focusType, system] =
        role === 'imaging-provider'
          ? (['ServiceRequest', SYSTEMS.placerOrder] as const)
          : (['DiagnosticReport', SYSTEMS.report] as const);
      const value = identifierValue(
        carried(delivery.message).find((r) => r.resourceType === focusType),
        system,
      ) as string;
      const stored = await sutClient().search(focusType, { identifier: `${system}|${value}` });
      expect(stored, `${focusType} ${value} stored once at the system under test`).toHaveLength(1);
    });
  });

  function expectAcknowledged(delivery: HubDelivery): void {
    expect(
      delivery.status,
      `the region answered the hub's delivery of ${delivery.event}: ${JSON.stringify(delivery.response)?.slice(0, 300)}`,
    ).toBe(200);
    const response = delivery.response as Bundle | undefined;
    const header = response?.entry?.[0]?.resource as { response?: { code?: string } } | undefined;
    expect(header?.response?.code, 'the response message says ok').toBe('ok');
  }
}

function referrer(world: ActorWorld) {
  return createReferrer(world.referrer, REFERRER.ods);
}

/** The GP registers a test patient and orders a CT chest from RM1, at the north's gateway. */
async function placeOrder(world: ActorWorld, placer: string, nhsNumber: string): Promise<PlacedOrder> {
  const gp = referrer(world);
  const patient = await gp.registerPatient(
    examplePatient({ identifier: [{ system: NHS_NUMBER_SYSTEM, value: nhsNumber }] }),
  );
  return gp.placeOrder(
    exampleServiceRequest({
      identifier: [{ system: SYSTEMS.placerOrder, value: placer }],
      subject: { reference: `Patient/${patient.id}` },
      authoredOn: new Date().toISOString(),
    }),
  );
}

/** The RIS/PACS at the midlands gateway works the order: accept, start, endpoint, study, report, complete. */
async function workTheOrder(world: ActorWorld, taskValue: string, timeoutMs: number): Promise<void> {
  const ris = createRisPacs(world.provider, PROVIDER.ods);
  const work = await pollUntil(
    async () => (await ris.findNewTasks()).find((t) => identifierValue(t, SYSTEMS.task) === taskValue),
    {
      timeoutMs,
      intervalMs: 200,
      what: `Task ${taskValue} in ris-rm1's worklist`,
    },
  );
  const order = await ris.readOrder(work);
  let task: WithId<Task> = await ris.acceptTask(work);
  task = await ris.startTask(task);
  const endpoint = await ris.registerDicomWebEndpoint('https://pacs.rm1.example/dicomweb', 'RM1 PACS (conformance)');
  const uid = `2.25.${BigInt(`0x${randomUUID().replaceAll('-', '')}`).toString()}`;
  const study = await ris.recordImagingStudy(order, endpoint.resource, {
    studyUid: uid,
    accession: `RM1-ACC-${taskValue}`,
    description: 'CT chest',
  });
  const report = await ris.issueReport(order, study.resource, {
    alertCategory: 'NONE',
    conclusion: 'No abnormality detected.',
  });
  await ris.completeTask(task, report.resource);
}
