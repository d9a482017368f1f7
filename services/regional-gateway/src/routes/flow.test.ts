import type { Bundle, OperationOutcome } from '@medplum/fhirtypes';
import { memoryLogger, observedStore } from '@imaging/fhir';
import { readEventStream } from '@imaging/fhir-http';
import type { FlowEvent } from '@imaging/messaging';
import { examplePatient, exampleServiceRequest } from '@imaging/fhir/examples';
import { afterEach, describe, expect, it } from 'vitest';
import { deliverDue } from '../domain/delivery.ts';
import { placeOrder } from '../domain/orders.ts';
import { registerPatient } from '../domain/registrations.ts';
import type { GatewayFlow } from '../flow.ts';
import { createGatewayFlow } from '../flow.ts';
import { GP_TOKEN, OBSERVER_TOKEN, testGateway } from '../testing/app.ts';
import { GP, testRegions } from '../testing/regions.ts';

let flow: GatewayFlow | undefined;
afterEach(() => flow?.close());

/** The north gateway with its flow feed, as createDeps wires it: every write goes through observedStore. */
async function north() {
  const regions = testRegions();
  const deps = regions.north;
  flow = createGatewayFlow({ store: deps.store, region: deps.region, clock: regions.clock, logger: memoryLogger() });
  deps.store = observedStore(deps.store, flow.onChange);
  const gateway = await testGateway(deps, { flow });
  const observer = await gateway.token(OBSERVER_TOKEN);
  const gp = await gateway.token(GP_TOKEN);
  const get = (path: string, token?: string, signal?: AbortSignal) =>
    gateway.app.request(path, {
      headers: token ? { Authorization: `Bearer ${token}` } : {},
      ...(signal ? { signal } : {}),
    });
  return { ...regions, observer, gp, get };
}

/** Collects a stream's events as they come; `until` waits (up to 10 s) for what a test expects next. */
function collect(response: Response) {
  const seen: FlowEvent[] = [];
  void (async () => {
    for await (const e of readEventStream(response.body as ReadableStream<Uint8Array>))
      seen.push(JSON.parse(e.data) as FlowEvent);
  })();
  const until = async (what: string, done: (seen: FlowEvent[]) => boolean) => {
    for (const deadline = Date.now() + 10_000; !done(seen); ) {
      if (Date.now() > deadline) throw new Error(`no ${what} on the feed; it streamed ${JSON.stringify(seen)}`);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  };
  return { seen, until };
}

const queueDepths = (seen: FlowEvent[]) => seen.flatMap((e) => (e.type === 'queue' ? [e.depth] : []));

async function outcome(res: Response): Promise<OperationOutcome> {
  const body = (await res.json()) as OperationOutcome;
  expect(body.resourceType).toBe('OperationOutcome');
  return body;
}

describe('GET /events: the flow feed', () => {
  it('needs a token, and one with scope flow/events', async () => {
    const { get, gp } = await north();
    expect((await get('/events')).status).toBe(401);
    const refused = await get('/events', gp);
    expect(refused.status).toBe(403);
    expect(refused.headers.get('WWW-Authenticate')).toContain('flow/events');
  });

  it('streams hello, the queue and the open alerts, then each delivery and status change as it is stored', async () => {
    const { get, observer, hub, clock, north: deps } = await north();
    const stream = await get('/events', observer);
    expect(stream.status).toBe(200);
    expect(stream.headers.get('Content-Type')).toBe('text/event-stream; charset=utf-8');
    const feed = collect(stream);
    await feed.until('snapshot', (seen) => seen.length >= 3);

    await registerPatient(deps, GP, examplePatient());
    await placeOrder(deps, GP, exampleServiceRequest(), 'case-1');
    await feed.until('queue of one', (seen) => queueDepths(seen).includes(1));
    hub.down.add('imaging-midlands');
    await deliverDue(deps);
    await feed.until('failed attempt', (seen) => seen.some((e) => e.type === 'delivery' && e.attempts === 1));
    hub.down.clear();
    clock.advance(60_000);
    await deliverDue(deps);
    await feed.until('empty queue', (seen) => queueDepths(seen).length === 3);
    const events = feed.seen;
    expect(events.slice(0, 3)).toEqual([
      { type: 'hello', service: 'imaging-north', region: 'north', at: expect.any(String) },
      { type: 'queue', service: 'imaging-north', at: expect.any(String), depth: 0 },
      { type: 'alerts', service: 'imaging-north', at: expect.any(String), open: [] },
    ]);
    const told = events.slice(3).map((e) => {
      if (e.type === 'delivery') return `delivery ${e.state} ${e.attempts}`;
      if (e.type === 'task-status') return `task ${e.status} ${e.correlationId}`;
      if (e.type === 'queue') return `queue ${e.depth}`;
      return e.type;
    });
    expect(told.filter((t) => !t.startsWith('queue'))).toEqual([
      'task requested case-1',
      'delivery pending 0',
      'delivery pending 1',
      'delivery delivered 2',
    ]);
    // The gauge is read again after the changes settle: one queued, then none.
    expect(queueDepths(events)).toEqual([0, 1, 0]);
    // Each delivery says what it carries: it was queued (with its message) while the feed watched.
    expect(events.filter((e) => e.type === 'delivery').map((e) => e.type === 'delivery' && e.event)).toEqual(
      Array(3).fill('servicerequest-request'),
    );
    // Nothing on the feed identifies the patient.
    expect(JSON.stringify(events)).not.toContain(examplePatient().identifier?.[0]?.value);
  });
});

describe('GET /fhir/$case-trail', () => {
  it('needs a token, and one well-formed correlation-id (audit-trail.test.ts: who may read which trail)', async () => {
    const { get, observer } = await north();
    expect((await get('/fhir/$case-trail?correlation-id=case-1')).status).toBe(401);
    for (const query of ['', '?correlation-id=', '?correlation-id=a%20b', '?correlation-id=a&correlation-id=b']) {
      const res = await get(`/fhir/$case-trail${query}`, observer);
      expect(res.status).toBe(400);
      expect((await outcome(res)).issue?.[0]?.expression).toEqual(['correlation-id']);
    }
  });

  it('refuses any parameter but the case, _format and _pretty: 400, one issue each, naming it', async () => {
    const { get, observer } = await north();
    for (const [query, expressions] of [
      ['correlation-id=case-1&foo=bar', ['foo']],
      ['correlation-id=case-1&_count=10&_pretty=maybe', ['_count', '_pretty']],
      ['foo=bar', ['foo', 'correlation-id']],
    ] as const) {
      const res = await get(`/fhir/$case-trail?${query}`, observer);
      expect(res.status, query).toBe(400);
      expect(
        (await outcome(res)).issue?.map((i) => i.expression?.[0]),
        query,
      ).toEqual(expressions);
    }
    expect((await get('/fhir/$case-trail?correlation-id=case-1&_format=json&_pretty=true', observer)).status).toBe(200);
  });

  it('gives every version of the case as a collection, each at its versioned URL', async () => {
    const { get, observer, north: deps } = await north();
    await registerPatient(deps, GP, examplePatient());
    const placed = await placeOrder(deps, GP, exampleServiceRequest(), 'case-1');
    const res = await get('/fhir/$case-trail?correlation-id=case-1', observer);
    expect(res.status).toBe(200);
    const bundle = (await res.json()) as Bundle;
    expect(bundle.type).toBe('collection');
    const urls = (bundle.entry ?? []).map((e) => e.fullUrl);
    const base = deps.region.fhirBaseUrl;
    expect(urls).toContain(`${base}/ServiceRequest/${placed.serviceRequest.id}/_history/1`);
    expect(urls).toContain(`${base}/Task/${placed.task.id}/_history/1`);
    // And the delivery queued with them, and the AuditEvent of the order's placing.
    expect(urls).toHaveLength(4);
    expect(bundle.entry?.map((e) => e.resource?.resourceType)).toContain('AuditEvent');
    const empty = (await (await get('/fhir/$case-trail?correlation-id=case-2', observer)).json()) as Bundle;
    expect(empty.entry ?? []).toEqual([]);
  });

  it('an observer reads nothing else: no scope for resources, and no region', async () => {
    const { get, observer } = await north();
    expect((await get('/fhir/Task', observer)).status).toBe(403);
    expect((await get('/fhir/ServiceRequest', observer)).status).toBe(403);
  });
});

describe('a gateway without a feed', () => {
  it('has no /events', async () => {
    const regions = testRegions();
    const gateway = await testGateway(regions.north);
    const token = await gateway.token(OBSERVER_TOKEN);
    const res = await gateway.app.request('/events', { headers: { Authorization: `Bearer ${token}` } });
    expect(res.status).toBe(404);
  });
});
