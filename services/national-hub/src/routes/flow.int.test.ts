import { exampleFulfilmentTask } from '@imaging/fhir/examples';
import { readEventStream, trailSourceOf } from '@imaging/fhir-http';
import type { FlowEvent } from '@imaging/messaging';
import { buildMessage, MESSAGE_HEADERS, TASK_UPDATE } from '@imaging/messaging';
import type { AuditEvent, Bundle } from '@medplum/fhirtypes';
import { afterAll, describe, expect, it } from 'vitest';
import type { TestHub } from '../testing/index.ts';
import { createTestHub, startFakeRegion, tempDataDir, topologyWith } from '../testing/index.ts';

const temp = tempDataDir();
const midlands = await startFakeRegion('imaging-midlands');
const hub: TestHub = await createTestHub({
  dataDir: temp.dir,
  topology: topologyWith({ midlands: midlands.url }),
  forwardTimeoutMs: 500,
});
midlands.trust(hub);
afterAll(async () => {
  hub.flow.close();
  await midlands.close();
  temp.remove();
});

/** The requester's region (north) cancels its order: a message the hub routes to the performer's (midlands). */
const cancel = (to: string) =>
  buildMessage({
    event: TASK_UPDATE,
    timestamp: '2026-11-23T09:00:00Z',
    sourceService: 'imaging-north',
    destinationService: to,
    focus: exampleFulfilmentTask({ status: 'cancelled' }),
    resources: [],
    identifierOf: () => undefined,
  });

async function route(to: string, requestId: string, correlationId: string): Promise<number> {
  const res = await hub.app.request('/fhir/$process-message', {
    method: 'POST',
    headers: {
      Authorization: `Bearer ${await hub.tokenFor('gateway-north')}`,
      'Content-Type': 'application/fhir+json',
      [MESSAGE_HEADERS.target]: to,
      [MESSAGE_HEADERS.requestId]: requestId,
      [MESSAGE_HEADERS.correlationId]: correlationId,
    },
    body: JSON.stringify(cancel(to)),
  });
  await res.body?.cancel();
  return res.status;
}

const get = (path: string, token?: string, signal?: AbortSignal) =>
  hub.app.request(path, { headers: token ? { Authorization: `Bearer ${token}` } : {}, ...(signal ? { signal } : {}) });

describe('GET /events: the hub’s flow feed', () => {
  it('needs a token with scope flow/events', async () => {
    expect((await get('/events')).status).toBe(401);
    expect((await get('/events', await hub.tokenFor('gateway-north'))).status).toBe(403);
  });

  it('streams hello, then what the hub routes: from, to, event and how it ended, with no patient data', async () => {
    const stopped = new AbortController();
    const stream = await get('/events', await hub.tokenFor('flow-view'), stopped.signal);
    expect(stream.status).toBe(200);
    const seen: FlowEvent[] = [];
    const reading = (async () => {
      for await (const e of readEventStream(stream.body as ReadableStream<Uint8Array>)) {
        seen.push(JSON.parse(e.data) as FlowEvent);
        if (seen.length === 3) break;
      }
    })();
    for (let i = 0; i < 100 && seen.length === 0; i++) await new Promise((resolve) => setTimeout(resolve, 10));
    expect(await route('imaging-midlands', 'req-flow-1', 'case-flow-1')).toBe(200);
    midlands.behave('fail');
    expect(await route('imaging-midlands', 'req-flow-2', 'case-flow-1')).toBe(502);
    midlands.behave('accept');
    await reading;
    stopped.abort();
    expect(seen[0]).toEqual({ type: 'hello', service: 'national-hub', at: expect.any(String) });
    expect(seen.slice(1)).toEqual([
      expect.objectContaining({
        type: 'routed',
        service: 'national-hub',
        subtype: 'message-routed',
        fromRegion: 'north',
        toRegion: 'midlands',
        event: 'task-update',
        requestId: 'req-flow-1',
        correlationId: 'case-flow-1',
        result: 'ok',
      }),
      expect.objectContaining({ toRegion: 'midlands', requestId: 'req-flow-2', result: 'failed' }),
    ]);
    expect(JSON.stringify(seen)).not.toMatch(/nhs-number/);
  });
});

describe('GET /fhir/$case-trail at the hub', () => {
  it('gives the case’s AuditEvents, oldest first and marked as the hub’s, to a client with scope flow/case', async () => {
    expect(await route('imaging-midlands', 'req-trail-1', 'case-trail-1')).toBe(200);
    expect(await route('imaging-midlands', 'req-trail-2', 'case-other')).toBe(200);
    midlands.behave('refuse');
    expect(await route('imaging-midlands', 'req-trail-3', 'case-trail-1')).toBe(422);
    midlands.behave('accept');
    const path = '/fhir/$case-trail?correlation-id=case-trail-1';
    // A gateway is neither an observer nor an auditor, nor one of the case's organisations: an unknown case's answer.
    const refused = await get(path, await hub.tokenFor('gateway-north'));
    expect(refused.status).toBe(200);
    expect(((await refused.json()) as Bundle).entry ?? []).toEqual([]);
    const res = await get(path, await hub.tokenFor('flow-view'));
    expect(res.status).toBe(200);
    const bundle = (await res.json()) as Bundle;
    expect(bundle.type).toBe('collection');
    // The regions' trails are merged in too (audit-trail.test.ts in the gateway): here, the hub's own.
    const own = (bundle.entry ?? []).filter((e) => trailSourceOf(e) === 'hub');
    const events = own.map((e) => e.resource as AuditEvent);
    expect(events.map((e) => e.outcome)).toEqual(['0', '4']);
    expect(own[0]?.fullUrl).toBe(`${hub.publicUrl}/fhir/AuditEvent/${events[0]?.id}/_history/1`);
    expect((await get('/fhir/$case-trail', await hub.tokenFor('flow-view'))).status).toBe(400);
  });
});

describe('GET /fhir/AuditEvent at the hub: a search of what it recorded', () => {
  it('finds what the hub routed in a case, for the flow view; refused to a gateway from its token alone', async () => {
    expect(await route('imaging-midlands', 'req-search-1', 'case-search-1')).toBe(200);
    const query =
      '/fhir/AuditEvent?entity:identifier=https://imaging-connect.example/fhir/Id/correlation|case-search-1';
    const res = await get(query, await hub.tokenFor('flow-view'));
    expect(res.status).toBe(200);
    const events = ((await res.json()) as Bundle).entry?.map((e) => e.resource as AuditEvent) ?? [];
    expect(events.map((e) => [e.subtype?.[0]?.code, e.outcome])).toEqual([['message-routed', '0']]);
    const refused = await get(query, await hub.tokenFor('gateway-north'));
    expect(refused.status).toBe(403);
    const unknown = await get('/fhir/AuditEvent?source=hub', await hub.tokenFor('flow-view'));
    expect(unknown.status).toBe(400);
  });
});
