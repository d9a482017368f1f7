import type { Bundle, Task } from '@medplum/fhirtypes';
import { SYSTEMS } from '@imaging/fhir';
import { examplePatient, exampleServiceRequest } from '@imaging/fhir/examples';
import { connectedRegions, deliverDue, GP, placeOrder, registerPatient } from '@imaging/regional-gateway/testing';
import { afterAll, describe, expect, it } from 'vitest';
import { flowViewOver } from '../testing/index.ts';
import type { CaseTrails, TimelineEntry } from './case-timeline.ts';
import { buildCaseTimeline } from './case-timeline.ts';

// A real case on the real hub and gateways (in one process): the GP orders from the north for RM1 in the
// midlands while the midlands is down, the order is delivered once it is back, and RM1 accepts it.
const regions = await connectedRegions();
const view = await flowViewOver(regions);
afterAll(() => {
  view.close();
  regions.close();
});

const CASE = 'case-N81001-000777-1';
const PLACER = 'N81001-000777-1';
await registerPatient(regions.north.deps, GP, examplePatient());
await placeOrder(
  regions.north.deps,
  GP,
  exampleServiceRequest({ identifier: [{ system: SYSTEMS.placerOrder, value: PLACER }] }),
  CASE,
);
regions.setDown('midlands', true);
expect(await deliverDue(regions.north.deps)).toMatchObject({ retried: 1 });
regions.setDown('midlands', false);
regions.clock.advance(60_000);
expect(await deliverDue(regions.north.deps)).toMatchObject({ delivered: 1 });
{
  const ris = { Authorization: `Bearer ${await regions.tokenFor('ris-rm1')}` };
  const worklist = (await (
    await regions.midlands.app.request('/fhir/Task?status=requested', { headers: ris })
  ).json()) as Bundle;
  const task = worklist.entry?.[0]?.resource as Task;
  const accepted = await regions.midlands.app.request(`/fhir/Task/${task.id}`, {
    method: 'PUT',
    headers: { ...ris, 'Content-Type': 'application/fhir+json', 'If-Match': `W/"${task.meta?.versionId}"` },
    body: JSON.stringify({ ...task, status: 'accepted' }),
  });
  expect(accepted.status).toBe(200);
  expect(await deliverDue(regions.midlands.deps)).toMatchObject({ delivered: 1 });
}

/** Every service's trail of a case, read as the view reads it (its own token, `$case-trail`). */
async function trailsOf(correlationId: string, unreadable: string[] = []): Promise<CaseTrails> {
  return {
    correlationId,
    hub: unreadable.includes('hub') ? undefined : await view.trails.trail({ kind: 'hub' }, correlationId),
    regions: await Promise.all(
      view.topology.regions.map(async (region) => ({
        region,
        resources: unreadable.includes(region.id)
          ? undefined
          : await view.trails.trail({ kind: 'region', region }, correlationId),
      })),
    ),
  };
}

const line = (e: TimelineEntry) => `${e.lane}${e.toLane ? ` → ${e.toLane}` : ''}: ${e.text}`;

/** Whether `expected` appear in `lines` in this order (other lines may come between). */
function inOrder(lines: string[], expected: RegExp[]): string[] {
  const missing: string[] = [];
  let from = 0;
  for (const pattern of expected) {
    const at = lines.findIndex((l, i) => i >= from && pattern.test(l));
    if (at < 0) missing.push(String(pattern));
    else from = at + 1;
  }
  return missing;
}

describe('a case’s story, built from what every service holds about it', () => {
  it('a lane per actor: the requester, its gateway, the hub, the performer’s gateway, the performer', async () => {
    const timeline = buildCaseTimeline(await trailsOf(CASE), view.topology);
    expect(timeline.lanes.map((l) => [l.id, l.label])).toEqual([
      ['org:N81001', 'GP practice N81001'],
      ['gateway:north', 'North gateway'],
      ['hub', 'National hub'],
      ['gateway:midlands', 'Midlands gateway'],
      ['org:RM1', 'RIS/PACS RM1'],
    ]);
    expect(timeline.summary).toMatchObject({
      placer: PLACER,
      requester: { ods: 'N81001', region: 'north' },
      performer: { ods: 'RM1', region: 'midlands' },
      status: 'accepted',
    });
    expect(timeline.missing).toEqual([]);
  });

  it('every request, message, attempt and status change, in time order, in the lane of whoever did it', async () => {
    const timeline = buildCaseTimeline(await trailsOf(CASE), view.topology);
    const lines = timeline.entries.map(line);
    // The story as the senders and the hub lived it. The hub records a message once the receiver has
    // answered, and the sender marks it delivered once the hub has: each step after the one before.
    expect(
      inOrder(lines, [
        /^org:N81001 → gateway:north: Places order N81001-000777-1: .* at RM1$/,
        /^gateway:north: Fulfilment Task created: requested$/,
        /^gateway:north: Queues the order for midlands$/,
        /^gateway:north → gateway:midlands: Hub routes the order north → midlands: not delivered \(imaging-midlands could not be reached\)$/,
        /^gateway:north: Could not deliver the order to midlands \(attempt 1 failed: 503 \(ECONNREFUSED\)\): will retry$/,
        /^gateway:north → gateway:midlands: Hub routes the order north → midlands: delivered$/,
        /^gateway:north: Delivered the order to midlands at attempt 2, 1 min 0 s after it was queued$/,
        /^org:RM1 → gateway:midlands: Sets the order accepted$/,
        /^gateway:midlands → gateway:north: Hub routes the status update midlands → north: delivered$/,
        /^gateway:midlands: Delivered the status update to north, \d+ ms after it was queued$/,
      ]),
      lines.join('\n'),
    ).toEqual([]);
    // What each receiver stored, between the sender's attempt and its acknowledgement. Not checked against
    // the hub's line for the same message: a store keeps each version's time unique, so the versions one
    // transaction writes within a millisecond get the next ones, and can run a few milliseconds ahead of
    // the clock the hub reads after the receiver answered.
    expect(
      inOrder(lines, [
        /^gateway:north: Could not deliver the order to midlands \(attempt 1 failed: 503 \(ECONNREFUSED\)\): will retry$/,
        /^gateway:midlands: Order N81001-000777-1 received from north and stored$/,
        /^gateway:north: Delivered the order to midlands at attempt 2, 1 min 0 s after it was queued$/,
        /^org:RM1 → gateway:midlands: Sets the order accepted$/,
        /^gateway:north: Status update received from midlands: accepted$/,
        /^gateway:midlands: Delivered the status update to north, \d+ ms after it was queued$/,
      ]),
      lines.join('\n'),
    ).toEqual([]);
    const times = timeline.entries.map((e) => Date.parse(e.at));
    expect(times).toEqual([...times].sort((a, b) => a - b));
    // The worker's own claims are bookkeeping, not part of the story.
    expect(lines.filter((l) => /in-progress|claimed/.test(l))).toEqual([]);
  });

  it('links each entry to the stored version it comes from, at the service that holds it', async () => {
    const timeline = buildCaseTimeline(await trailsOf(CASE), view.topology);
    const accepted = timeline.entries.find((e) => e.text === 'Sets the order accepted');
    expect(accepted?.resource).toMatchObject({ source: 'midlands', type: 'Task', version: '2' });
    expect(accepted?.resource?.url).toBe(
      `${regions.midlands.deps.region.fhirBaseUrl}/Task/${accepted?.resource?.id}/_history/2`,
    );
    const routed = timeline.entries.find((e) => e.lane === 'gateway:north' && /Hub routes/.test(e.text));
    expect(routed?.resource).toMatchObject({ source: 'hub', type: 'AuditEvent' });
    expect(routed?.resource?.url).toBe(`${view.topology.hubUrl}/fhir/AuditEvent/${routed?.resource?.id}/_history/1`);
    // A delivery is an outbox Task, which the gateway serves to nobody by id: it is read in the case's trail.
    const delivered = timeline.entries.find((e) => e.kind === 'delivery' && /^Delivered/.test(e.text));
    expect(delivered?.resource).toMatchObject({ type: 'Task' });
    expect(delivered?.resource?.url).toBe(
      `${delivered?.resource?.source === 'north' ? regions.north.deps.region.fhirBaseUrl : regions.midlands.deps.region.fhirBaseUrl}/$case-trail?correlation-id=${encodeURIComponent(CASE)}`,
    );
    expect(timeline.entries.every((e) => e.resource)).toBe(true);
  });

  it('says which service could not be read, and tells the rest of the story', async () => {
    const timeline = buildCaseTimeline(await trailsOf(CASE, ['midlands']), view.topology);
    expect(timeline.missing).toEqual(['the Midlands Imaging Network gateway']);
    // What the hub recorded about the midlands is still told; what the midlands holds is not.
    expect(timeline.entries.some((e) => e.resource?.source === 'midlands' || e.lane === 'org:RM1')).toBe(false);
    expect(timeline.entries.some((e) => e.resource?.source === 'hub')).toBe(true);
    expect(timeline.entries.some((e) => /Places order/.test(e.text))).toBe(true);
  });

  it('an unknown case has no story', async () => {
    const timeline = buildCaseTimeline(await trailsOf('case-nobody-knows'), view.topology);
    expect(timeline.entries).toEqual([]);
    expect(timeline.summary).toEqual({});
  });
});
