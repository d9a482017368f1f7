import type { TokenSource } from '@imaging/auth';
import { devTokenSource } from '@imaging/auth';
import { CODE_SYSTEMS, manualClock, NHS_NUMBER_SYSTEM, OutcomeError, SYSTEMS, testNhsNumber } from '@imaging/fhir';
import { exampleFulfilmentTask } from '@imaging/fhir/examples';
import { buildMessage, TASK_UPDATE } from '@imaging/messaging';
import type { DocumentReference, MessageHeader, Task } from '@medplum/fhirtypes';
import { afterAll, describe, expect, it } from 'vitest';
// The real hub, served on a real port (the hub's test kit, a devDependency).
import { deadUrl, startFakeRegion, startTestHub, tempDataDir, topologyWith } from '@imaging/national-hub/testing';
import { createHubClient } from './hub-client.ts';
import { isTransient } from '../domain/delivery.ts';

const temp = tempDataDir();
const midlands = await startFakeRegion('imaging-midlands');
const hub = await startTestHub({ dataDir: temp.dir, topology: topologyWith({ midlands: midlands.url }) });
midlands.trust(hub);
afterAll(async () => {
  await hub.close();
  await midlands.close();
  temp.remove();
});

const northTokens = await devTokenSource('gateway-north', { hubUrl: hub.url, dataDir: temp.dir });

/** Counts the client's calls to the hub. */
function countingFetch() {
  const calls: string[] = [];
  const counted: typeof fetch = (input, init) => {
    calls.push(String(input));
    return fetch(input, init);
  };
  return { calls, fetch: counted };
}

const failure = async (promise: Promise<unknown>): Promise<OutcomeError> => {
  try {
    await promise;
  } catch (err) {
    if (err instanceof OutcomeError) return err;
    throw err;
  }
  throw new Error('expected the call to fail');
};

describe('findAlertRoles', () => {
  it("reads an organisation's and a region's alert recipients from the directory, cached for a short time", async () => {
    const clock = manualClock();
    const counter = countingFetch();
    const client = createHubClient({ hubUrl: hub.url, tokenSource: northTokens, fetch: counter.fetch, clock });
    const roles = await client.findAlertRoles({ ods: 'N81001' });
    expect(roles?.map((r) => [r.id, r.role, r.active, r.name]).sort()).toEqual([
      ['n81001-hughes', 'responsible-clinician', true, 'Dr Clare Hughes'],
      ['n81001-okafor', 'delegate', true, 'Dr Ben Okafor'],
      ['n81001-patel', 'requesting-clinician', true, 'Dr Asha Patel'],
      ['n81001-reed', 'requesting-clinician', false, 'Dr Tom Reed'],
    ]);
    const calls = counter.calls.length;
    await client.findAlertRoles({ ods: 'N81001' });
    expect(counter.calls).toHaveLength(calls);
    expect(await client.findAlertRoles({ region: 'north' })).toEqual([
      { id: 'north-failsafe', role: 'fail-safe-officer', active: true, name: 'Jo Fairweather' },
    ]);
  });

  it('is undefined for an organisation the directory does not know', async () => {
    const client = createHubClient({ hubUrl: hub.url, tokenSource: northTokens });
    expect(await client.findAlertRoles({ ods: 'X99999' })).toBeUndefined();
  });
});

describe('findService', () => {
  it('asks the hub which region serves an ODS code, and caches the answer for a short time', async () => {
    const clock = manualClock();
    const counter = countingFetch();
    const client = createHubClient({
      hubUrl: hub.url,
      tokenSource: northTokens,
      fetch: counter.fetch,
      cacheTtlMs: 60_000,
      clock,
    });
    const expected = { regionId: 'midlands', serviceId: 'imaging-midlands', fhirBaseUrl: `${midlands.url}/fhir` };
    expect(await client.findService('RM1')).toEqual(expected);
    expect(counter.calls).toHaveLength(1);
    expect(counter.calls[0]).toContain('_include=Organization%3Aendpoint');
    expect(await client.findService('RM1')).toEqual(expected);
    expect(counter.calls).toHaveLength(1);
    clock.advance(60_001);
    expect(await client.findService('RM1')).toEqual(expected);
    expect(counter.calls).toHaveLength(2);
  });

  it('is undefined for an ODS code the directory does not know (and does not cache that)', async () => {
    const counter = countingFetch();
    const client = createHubClient({ hubUrl: hub.url, tokenSource: northTokens, fetch: counter.fetch });
    expect(await client.findService('X99999')).toBeUndefined();
    expect(await client.findService('X99999')).toBeUndefined();
    expect(counter.calls).toHaveLength(2);
  });

  it('a hub that cannot be reached is a 503 OutcomeError, which the delivery worker retries', async () => {
    const client = createHubClient({ hubUrl: await deadUrl(), tokenSource: northTokens });
    const error = await failure(client.findService('RM1'));
    expect(error.status).toBe(503);
    expect(isTransient(error.status)).toBe(true);
  });

  it('a token the hub refuses is renewed once and the call retried', async () => {
    let invalidated = 0;
    let stale = true;
    const tokens: TokenSource = {
      getToken: async () => (stale ? 'expired-or-garbage' : northTokens.getToken()),
      invalidate: () => {
        invalidated++;
        stale = false;
      },
    };
    const client = createHubClient({ hubUrl: hub.url, tokenSource: tokens });
    expect((await client.findService('N81001'))?.serviceId).toBe('imaging-north');
    expect(invalidated).toBe(1);
  });
});

describe('routeMessage', () => {
  /** The requester's region (the north serves N81001) cancelling the Task, which it may do. */
  const message = (to: string, status: Task['status'] = 'cancelled') =>
    buildMessage({
      event: TASK_UPDATE,
      timestamp: '2026-11-23T09:00:00Z',
      sourceService: 'imaging-north',
      destinationService: to,
      focus: exampleFulfilmentTask({ status }),
      resources: [],
      identifierOf: () => undefined,
    });

  it('sends the message through the hub with the three headers and returns the response message', async () => {
    const client = createHubClient({ hubUrl: hub.url, tokenSource: northTokens });
    const headers = { target: 'imaging-midlands', requestId: 'client-req-1', correlationId: 'client-case-1' };
    const response = await client.routeMessage(message('imaging-midlands'), headers);
    const header = response.entry?.[0]?.resource as MessageHeader;
    expect(header.response?.code).toBe('ok');
    const got = midlands.received.at(-1);
    expect([got?.target, got?.requestId, got?.correlationId]).toEqual([
      'imaging-midlands',
      'client-req-1',
      'client-case-1',
    ]);
  });

  it("a refusal keeps the hub's status and outcome (not retried)", async () => {
    const client = createHubClient({ hubUrl: hub.url, tokenSource: northTokens });
    const error = await failure(
      client.routeMessage(message('imaging-atlantis'), {
        target: 'imaging-atlantis',
        requestId: 'client-req-2',
        correlationId: 'c',
      }),
    );
    expect(error.status).toBe(422);
    expect(error.outcome.issue?.[0]?.code).toBe('not-found');
    expect(isTransient(error.status)).toBe(false);
  });

  it("content the sender has no authority over is the hub's 403 (not retried), and reaches no one", async () => {
    const client = createHubClient({ hubUrl: hub.url, tokenSource: northTokens });
    const received = midlands.received.length;
    const error = await failure(
      client.routeMessage(message('imaging-midlands', 'in-progress'), {
        target: 'imaging-midlands',
        requestId: 'client-req-3',
        correlationId: 'c',
      }),
    );
    expect(error.status).toBe(403);
    expect(error.outcome.issue?.[0]?.expression).toEqual(['Bundle.entry[1].resource.status']);
    expect(isTransient(error.status)).toBe(false);
    expect(midlands.received).toHaveLength(received);
  });
});

describe('registerPointer', () => {
  const pointer = (url: string): DocumentReference => ({
    resourceType: 'DocumentReference',
    masterIdentifier: { system: SYSTEMS.pointerSource, value: url },
    status: 'current',
    type: { coding: [{ system: CODE_SYSTEMS.pointerKind, code: 'ImagingStudy' }] },
    subject: { type: 'Patient', identifier: { system: NHS_NUMBER_SYSTEM, value: testNhsNumber(9) } },
    custodian: { identifier: { system: SYSTEMS.region, value: 'north' } },
    content: [{ attachment: { contentType: 'application/fhir+json', url } }],
  });

  it('registers a pointer with the hub, idempotently', async () => {
    const client = createHubClient({ hubUrl: hub.url, tokenSource: northTokens });
    const url = 'http://127.0.0.1:4101/fhir/ImagingStudy/client-study-1';
    await client.registerPointer(pointer(url), { requestId: 'ptr-1', correlationId: 'case-ptr' });
    await client.registerPointer(pointer(url), { requestId: 'ptr-1', correlationId: 'case-ptr' });
    const stored = await hub.store.search<DocumentReference>('DocumentReference', {
      identifier: `${SYSTEMS.pointerSource}|${url}`,
    });
    expect(stored.resources).toHaveLength(1);
  });

  it("a pointer into another region's gateway is refused with the hub's 403", async () => {
    const client = createHubClient({ hubUrl: hub.url, tokenSource: northTokens });
    const error = await failure(
      client.registerPointer(pointer(`${midlands.url}/fhir/ImagingStudy/x`), {
        requestId: 'ptr-2',
        correlationId: 'c',
      }),
    );
    expect(error.status).toBe(403);
  });
});
