import {
  allOk,
  CODE_SYSTEMS,
  isBuiltFromValidated,
  NHS_NUMBER_SYSTEM,
  odsReference,
  OutcomeError,
  SYSTEMS,
  systemClock,
  testNhsNumber,
} from '@imaging/fhir';
import { EXAMPLE, exampleFulfilmentTask, examplePatient, exampleServiceRequest } from '@imaging/fhir/examples';
import { buildMessage, MESSAGE_HEADERS, ORDER_REQUEST, TASK_UPDATE } from '@imaging/messaging';
import type { FhirStore } from '@imaging/fhir';
import type { AuditEvent, Bundle, MessageHeader, OperationOutcome, Resource, Task } from '@medplum/fhirtypes';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import type { TestHub } from '../testing/index.ts';
import type { RegionResult } from '../domain/ports.ts';
import { pointerIds } from '../adapters/pointer-ids.ts';
import { storeDirectoryLookups } from '../domain/directory-lookups.ts';
import { routeMessage } from '../domain/router.ts';
import { createTestHub, deadUrl, startFakeRegion, tempDataDir, topologyWith } from '../testing/index.ts';

const temp = tempDataDir();
const north = await startFakeRegion('imaging-north');
const midlands = await startFakeRegion('imaging-midlands');
const hub: TestHub = await createTestHub({
  dataDir: temp.dir,
  topology: topologyWith({ north: north.url, midlands: midlands.url, south: await deadUrl() }),
  forwardTimeoutMs: 500,
});
north.trust(hub);
midlands.trust(hub);
afterAll(async () => {
  await north.close();
  await midlands.close();
  temp.remove();
});

beforeEach(() => {
  north.received.length = 0;
  midlands.received.length = 0;
  north.behave('accept');
  midlands.behave('accept');
});

/**
 * A task-update message from one region's gateway to another's: by default the requester's (N81001,
 * north) cancel of its order, which the region serving the owner (RM1, midlands) may be sent.
 */
function taskUpdate(from: string, to: string, change: Partial<Task> = {}): Bundle {
  return buildMessage({
    event: TASK_UPDATE,
    timestamp: '2026-11-23T09:00:00Z',
    sourceService: from,
    destinationService: to,
    focus: exampleFulfilmentTask({ status: 'cancelled', ...change }),
    resources: [],
    identifierOf: () => undefined,
  });
}

let counter = 0;
function routeHeaders(target: string, overrides: Record<string, string | undefined> = {}): Record<string, string> {
  const headers: Record<string, string | undefined> = {
    [MESSAGE_HEADERS.target]: target,
    [MESSAGE_HEADERS.requestId]: `req-${++counter}`,
    [MESSAGE_HEADERS.correlationId]: 'case-N81001-000123',
    ...overrides,
  };
  return Object.fromEntries(Object.entries(headers).filter((e): e is [string, string] => e[1] !== undefined));
}

async function route(
  body: unknown,
  headers: Record<string, string>,
  client = 'gateway-north',
  scope?: string,
): Promise<Response> {
  return hub.app.request('/fhir/$process-message', {
    method: 'POST',
    headers: {
      Authorization: `Bearer ${await hub.tokenFor(client, scope)}`,
      'Content-Type': 'application/fhir+json',
      ...headers,
    },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
}

const audits = async () => (await hub.store.search<AuditEvent>('AuditEvent', { _count: '1000' })).resources;
const issues = async (res: Response) => ((await res.json()) as OperationOutcome).issue ?? [];

describe('routing a message', () => {
  it('forwards to the target region with the same three headers and a hub token, and relays its answer', async () => {
    const headers = routeHeaders('imaging-midlands');
    const res = await route(taskUpdate('imaging-north', 'imaging-midlands'), headers);
    expect(res.status).toBe(200);
    const response = (await res.json()) as Bundle;
    const header = response.entry?.[0]?.resource as MessageHeader;
    expect(header.response?.code).toBe('ok');
    expect(header.source?.endpoint).toBe('imaging-midlands');

    expect(midlands.received).toHaveLength(1);
    const got = midlands.received[0];
    expect(got?.path).toBe('/fhir/$process-message');
    expect([got?.target, got?.requestId, got?.correlationId]).toEqual([
      headers[MESSAGE_HEADERS.target],
      headers[MESSAGE_HEADERS.requestId],
      headers[MESSAGE_HEADERS.correlationId],
    ]);
    // The fake region verified this token against the hub's JWKS: it is the hub's own service token.
    expect(got?.claims).toMatchObject({ sub: 'national-hub', client_kind: 'hub', iss: hub.publicUrl });
    expect(got?.claims.scope.split(' ')).toEqual([
      'hub/deliver',
      'system/ImagingStudy.rs',
      'system/DiagnosticReport.rs',
      'system/AuditEvent.rs',
    ]);
    expect((got?.body as Bundle | undefined)?.entry?.[1]?.resource).toEqual(
      taskUpdate('imaging-north', 'imaging-midlands').entry?.[1]?.resource,
    );
    expect(north.received).toHaveLength(0);
  });

  it('writes an AuditEvent of the disclosure: sender, receiver, event, focus, patient, request and correlation ids, outcome', async () => {
    const before = (await audits()).length;
    const headers = routeHeaders('imaging-midlands', { [MESSAGE_HEADERS.requestId]: 'req-audit-1' });
    expect((await route(taskUpdate('imaging-north', 'imaging-midlands'), headers)).status).toBe(200);
    const all = await audits();
    expect(all).toHaveLength(before + 1);
    const event = all.at(-1) as AuditEvent;
    expect(event.subtype?.[0]).toMatchObject({ system: CODE_SYSTEMS.auditSubtype, code: 'message-routed' });
    expect(event.outcome).toBe('0');
    const [source, destination] = event.agent;
    expect(source).toMatchObject({
      requestor: true,
      altId: 'gateway-north',
      who: { identifier: { system: SYSTEMS.region, value: 'north' } },
    });
    expect(destination).toMatchObject({
      requestor: false,
      who: { identifier: { system: SYSTEMS.region, value: 'midlands' } },
    });
    const whats = event.entity?.map((e) => e.what?.identifier);
    expect(whats).toContainEqual({ system: NHS_NUMBER_SYSTEM, value: EXAMPLE.nhsNumber });
    expect(whats).toContainEqual({ system: SYSTEMS.task, value: EXAMPLE.task });
    expect(whats).toContainEqual({ system: SYSTEMS.messageRequest, value: 'req-audit-1' });
    expect(whats).toContainEqual({ system: SYSTEMS.correlation, value: 'case-N81001-000123' });
    const focus = event.entity?.find((e) => e.what?.identifier?.system === SYSTEMS.task);
    expect(focus?.detail?.[0]?.valueString).toBe(`${CODE_SYSTEMS.messageEvent}|task-update`);
  });

  it('takes the NHS number from a carried Patient too', async () => {
    const order = buildMessage({
      event: ORDER_REQUEST,
      timestamp: '2026-11-23T09:00:00Z',
      sourceService: 'imaging-north',
      destinationService: 'imaging-midlands',
      focus: exampleServiceRequest(),
      resources: [
        examplePatient({ identifier: [{ system: NHS_NUMBER_SYSTEM, value: testNhsNumber(7) }] }),
        exampleFulfilmentTask(),
      ],
      identifierOf: () => undefined,
    });
    expect(
      (await route(order, routeHeaders('imaging-midlands', { [MESSAGE_HEADERS.requestId]: 'req-order-1' }))).status,
    ).toBe(200);
    const event = (await audits()).at(-1) as AuditEvent;
    const patients = event.entity
      ?.filter((e) => e.what?.identifier?.system === NHS_NUMBER_SYSTEM)
      .map((e) => e.what?.identifier?.value);
    expect(patients?.sort()).toEqual([EXAMPLE.nhsNumber, testNhsNumber(7)].sort());
  });

  it('logs the routed message with its correlation id', async () => {
    await route(
      taskUpdate('imaging-north', 'imaging-midlands'),
      routeHeaders('imaging-midlands', { [MESSAGE_HEADERS.correlationId]: 'case-logged' }),
    );
    const lines = hub.logger.entries.filter((e) => e.correlationId === 'case-logged');
    expect(lines.map((l) => l.message)).toEqual(expect.arrayContaining(['message routed', 'request']));
  });
});

describe('refusing a message (nothing delivered)', () => {
  it('an unknown target service id is 422 not-found, and the receiver sees nothing', async () => {
    const before = (await audits()).length;
    const res = await route(taskUpdate('imaging-north', 'imaging-atlantis'), routeHeaders('imaging-atlantis'));
    expect(res.status).toBe(422);
    const [issue] = await issues(res);
    expect(issue).toMatchObject({ code: 'not-found', expression: ['http.NHSD-Target-Identifier'] });
    expect(midlands.received).toHaveLength(0);
    expect(north.received).toHaveLength(0);
    expect(await audits()).toHaveLength(before);
  });

  it('missing or malformed headers are 400, one issue per header', async () => {
    const res = await route(
      taskUpdate('imaging-north', 'imaging-midlands'),
      routeHeaders('imaging-midlands', {
        [MESSAGE_HEADERS.requestId]: undefined,
        [MESSAGE_HEADERS.correlationId]: 'has spaces in it',
      }),
    );
    expect(res.status).toBe(400);
    expect((await issues(res)).map((i) => [i.code, i.expression?.[0]])).toEqual([
      ['required', 'http.X-Request-ID'],
      ['value', 'http.X-Correlation-ID'],
    ]);
    const noTarget = await route(
      taskUpdate('imaging-north', 'imaging-midlands'),
      routeHeaders('imaging-midlands', { [MESSAGE_HEADERS.target]: undefined }),
    );
    expect(noTarget.status).toBe(400);
    expect(midlands.received).toHaveLength(0);
  });

  it('a body that is not a message is 400; a message that breaks its definition is 422', async () => {
    expect((await route('{"resourceType":', routeHeaders('imaging-midlands'))).status).toBe(400);
    const notMessage = await route({ resourceType: 'Bundle', type: 'collection' }, routeHeaders('imaging-midlands'));
    expect(notMessage.status).toBe(400);
    expect((await issues(notMessage))[0]?.expression).toEqual(['Bundle.type']);

    const message = taskUpdate('imaging-north', 'imaging-midlands');
    message.entry?.push({ fullUrl: 'urn:uuid:4f1f1bd2-35a4-4a4e-9b5e-5d4c1d7e0b11', resource: examplePatient() });
    const broken = await route(message, routeHeaders('imaging-midlands'));
    expect(broken.status).toBe(422);
    expect((await issues(broken))[0]?.expression).toEqual(['Bundle.entry[2].resource']);
    expect(midlands.received).toHaveLength(0);
  });

  it('a message nested too deep is 400 before anything walks it, and nothing is delivered', async () => {
    let entry = '{}';
    for (let i = 0; i < 10_000; i++) entry = `{"resource":{"resourceType":"Bundle","entry":[${entry}]}}`;
    const res = await route(
      `{"resourceType":"Bundle","type":"message","entry":[${entry}]}`,
      routeHeaders('imaging-midlands'),
    );
    expect(res.status).toBe(400);
    expect((await issues(res))[0]?.details?.text).toBe('JSON nested deeper than 64 levels');
    expect(midlands.received).toHaveLength(0);
  });

  it('a sender claiming another region as its source is 403', async () => {
    const res = await route(taskUpdate('imaging-south', 'imaging-midlands'), routeHeaders('imaging-midlands'));
    expect(res.status).toBe(403);
    expect((await issues(res))[0]).toMatchObject({
      code: 'forbidden',
      expression: ['Bundle.entry[0].resource.source.endpoint'],
    });
    expect(midlands.received).toHaveLength(0);
  });

  it('a destination that differs from the target header is 422', async () => {
    const res = await route(taskUpdate('imaging-north', 'imaging-south'), routeHeaders('imaging-midlands'));
    expect(res.status).toBe(422);
    expect((await issues(res))[0]?.expression).toEqual(['Bundle.entry[0].resource.destination[0].endpoint']);
    expect(midlands.received).toHaveLength(0);
  });

  it('no token is 401; a token without hub/route is 403', async () => {
    const noToken = await hub.app.request('/fhir/$process-message', {
      method: 'POST',
      headers: { 'Content-Type': 'application/fhir+json', ...routeHeaders('imaging-midlands') },
      body: JSON.stringify(taskUpdate('imaging-north', 'imaging-midlands')),
    });
    expect(noToken.status).toBe(401);
    const narrow = await route(
      taskUpdate('imaging-north', 'imaging-midlands'),
      routeHeaders('imaging-midlands'),
      'gateway-north',
      'system/Organization.rs',
    );
    expect(narrow.status).toBe(403);
    expect(narrow.headers.get('WWW-Authenticate')).toContain('insufficient_scope');
    expect(midlands.received).toHaveLength(0);
  });

  it('a sender without authority over the content is 403 at the offending element, audited, and nothing is forwarded', async () => {
    const before = (await audits()).length;
    // The north serves the requester (N81001): it may cancel the Task, not move the owner's work on.
    const res = await route(
      taskUpdate('imaging-north', 'imaging-midlands', { status: 'in-progress' }),
      routeHeaders('imaging-midlands', { [MESSAGE_HEADERS.correlationId]: 'case-no-authority' }),
    );
    expect(res.status).toBe(403);
    const [issue] = await issues(res);
    expect(issue).toMatchObject({ code: 'forbidden', expression: ['Bundle.entry[1].resource.status'] });
    expect(midlands.received).toHaveLength(0);
    const all = await audits();
    expect(all).toHaveLength(before + 1);
    expect(all.at(-1)).toMatchObject({ outcome: '4', agent: [{ altId: 'gateway-north' }, {}] });
    expect(all.at(-1)?.outcomeDesc).toBe(issue?.details?.text);
    const warned = hub.logger.entries.filter((e) => e.correlationId === 'case-no-authority' && e.level === 'warn');
    expect(warned.map((e) => e.message)).toEqual(['message refused: the sender has no authority over its content']);
  });

  it('a sender naming an organisation the directory does not know is 403', async () => {
    const res = await route(
      taskUpdate('imaging-north', 'imaging-midlands', { owner: odsReference('ZZZ99') }),
      routeHeaders('imaging-midlands'),
    );
    expect(res.status).toBe(403);
    expect((await issues(res))[0]?.expression).toEqual(['Bundle.entry[1].resource.owner']);
    expect(midlands.received).toHaveLength(0);
  });

  it('a client that is not a gateway may not route, whatever its scopes', async () => {
    const clinician = { clientId: 'clinician-rs1', kind: 'clinician' as const, organisation: 'RS1', region: 'south' };
    const deps = {
      store: hub.store,
      directory: storeDirectoryLookups(hub.store),
      regions: { call: async () => ({ answered: false as const, reason: 'never called' }) },
      clock: systemClock,
      logger: hub.logger,
      hubUrl: hub.publicUrl,
      pointerIds: pointerIds('unused'),
    };
    const attempt = routeMessage(deps, clinician, taskUpdate('imaging-south', 'imaging-midlands'), {
      target: 'imaging-midlands',
      requestId: 'req-clinician',
      correlationId: 'case-clinician',
    });
    await expect(attempt).rejects.toBeInstanceOf(OutcomeError);
    await expect(attempt).rejects.toMatchObject({ status: 403 });
    expect(midlands.received).toHaveLength(0);
  });
});

describe('when the receiver fails', () => {
  it('a receiver that cannot be reached is 503 unavailable (the sender keeps the message), and the failure is audited', async () => {
    const res = await route(
      taskUpdate('imaging-north', 'imaging-south', { owner: odsReference('RS1') }),
      routeHeaders('imaging-south', { [MESSAGE_HEADERS.requestId]: 'req-down-1' }),
    );
    expect(res.status).toBe(503);
    const outcome = (await res.json()) as OperationOutcome;
    expect(outcome.id).toBe('unavailable');
    expect(outcome.issue?.[0]?.code).toBe('transient');
    const event = (await audits()).at(-1) as AuditEvent;
    expect(event.outcome).toBe('8');
    expect(event.entity?.map((e) => e.what?.identifier?.value)).toContain('req-down-1');
  });

  it('a receiver that does not answer in time is 503', async () => {
    midlands.behave('hang');
    const res = await route(taskUpdate('imaging-north', 'imaging-midlands'), routeHeaders('imaging-midlands'));
    expect(res.status).toBe(503);
    expect(midlands.received).toHaveLength(1);
  });

  it('a receiver 5xx is relayed as 502 bad-gateway with its outcome text', async () => {
    midlands.behave('fail');
    const res = await route(taskUpdate('imaging-north', 'imaging-midlands'), routeHeaders('imaging-midlands'));
    expect(res.status).toBe(502);
    const outcome = (await res.json()) as OperationOutcome;
    expect(outcome.id).toBe('bad-gateway');
    expect(outcome.issue?.[0]?.details?.text).toContain('The receiving store is broken');
  });

  it("a receiver's refusal of the content is relayed as its 403, so the sender parks the message", async () => {
    midlands.behave('forbid');
    const res = await route(taskUpdate('imaging-north', 'imaging-midlands'), routeHeaders('imaging-midlands'));
    expect(res.status).toBe(403);
    const [issue] = await issues(res);
    expect(issue?.details?.text).toBe('Task T-1 here is shared with imaging-south, not imaging-north');
    expect(issue?.expression).toEqual(['Bundle.entry[1].resource.identifier']);
    expect(((await audits()).at(-1) as AuditEvent).outcome).toBe('4');
  });

  it("a receiver refusing the hub's own token is 502: the hub's set-up, not the sender's message", async () => {
    midlands.behave('distrust');
    const res = await route(taskUpdate('imaging-north', 'imaging-midlands'), routeHeaders('imaging-midlands'));
    expect(res.status).toBe(502);
    expect(((await res.json()) as OperationOutcome).issue?.[0]?.details?.text).toContain(
      "refused the hub's credentials",
    );
  });

  it("a receiver's refusal keeps its status and its outcome", async () => {
    midlands.behave('refuse');
    const res = await route(taskUpdate('imaging-north', 'imaging-midlands'), routeHeaders('imaging-midlands'));
    expect(res.status).toBe(422);
    const [issue] = await issues(res);
    expect(issue?.details?.text).toBe('No Task T-1 here');
    expect(issue?.expression).toEqual(['Bundle.entry[1].resource.identifier']);
    expect(((await audits()).at(-1) as AuditEvent).outcome).toBe('4');
  });
});

describe("the routed message's AuditEvent", () => {
  const gateway = { clientId: 'gateway-north', kind: 'gateway' as const, region: 'north' };
  /** The hub's domain, with the receiver answering `answer`, and a note of each resource created and whether it was marked. */
  function routing(answer: RegionResult<Resource>) {
    const created: [string, boolean][] = [];
    const store: FhirStore = {
      ...hub.store,
      description: hub.store.description,
      async create(resource, options) {
        created.push([resource.resourceType, isBuiltFromValidated(resource)]);
        return hub.store.create(resource, options);
      },
    };
    const deps = {
      store,
      directory: storeDirectoryLookups(store),
      regions: { call: async <T>() => answer as RegionResult<T> },
      clock: systemClock,
      logger: hub.logger,
      hubUrl: hub.publicUrl,
      pointerIds: pointerIds('unused'),
    };
    const send = (requestId: string) =>
      routeMessage(deps, gateway, taskUpdate('imaging-north', 'imaging-midlands'), {
        target: 'imaging-midlands',
        requestId,
        correlationId: 'case-audit-text',
      });
    return { created, send };
  }
  const refusal = (text: string): RegionResult<Resource> => ({
    answered: true,
    ok: false,
    status: 422,
    outcome: { resourceType: 'OperationOutcome', issue: [{ severity: 'error', code: 'invalid', details: { text } }] },
    text,
  });
  const auditOf = async (requestId: string) =>
    (await audits()).find((a) => a.entity?.some((e) => e.what?.identifier?.value === requestId)) as AuditEvent;

  it('is built from validated input only, so marked as such; the test store validates it all the same', async () => {
    const { created, send } = routing({ answered: true, ok: true, status: 200, body: allOk('Processed') });
    expect((await send('req-audit-marked')).status).toBe(200);
    expect(created).toEqual([['AuditEvent', true]]);
    expect((await auditOf('req-audit-marked')).outcomeDesc).toBe('Processed');
  });

  it("keeps a receiver's answer that no R4 string could hold as text that one can", async () => {
    const odd = routing(refusal('No Task\u0000 here\u0007, \ud800 nor \tthere'));
    expect((await odd.send('req-audit-odd')).status).toBe(422);
    expect((await auditOf('req-audit-odd')).outcomeDesc).toBe('No Task  here , \ufffd nor \tthere');
    expect(odd.created).toEqual([['AuditEvent', true]]);

    await routing(refusal(' \n ')).send('req-audit-blank');
    expect((await auditOf('req-audit-blank')).outcomeDesc).toBe('422');

    await routing(refusal('x'.repeat(10_000))).send('req-audit-long');
    const long = (await auditOf('req-audit-long')).outcomeDesc as string;
    expect([long.length, long.endsWith('x…')]).toEqual([4000, true]);
  });
});
