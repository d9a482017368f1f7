import type { DeliveryEvent, RoutedEvent } from '@imaging/messaging';
import { testClock } from '@imaging/regional-gateway/testing';
import { describe, expect, it } from 'vitest';
import type { LiveChange } from './live.ts';
import { ACTIVITY_KEPT, formatDuration, LiveState } from './live.ts';
import type { FlowTopology } from './ports.ts';

const topology: FlowTopology = {
  hubUrl: 'http://hub.test',
  regions: [
    { id: 'north', name: 'North Imaging Network', serviceId: 'imaging-north', fhirBase: 'http://north.test/fhir' },
    {
      id: 'midlands',
      name: 'Midlands Imaging Network',
      serviceId: 'imaging-midlands',
      fhirBase: 'http://mid.test/fhir',
    },
  ],
  organisations: [],
};

const delivery = (overrides: Partial<DeliveryEvent>): DeliveryEvent => ({
  type: 'delivery',
  service: 'imaging-north',
  at: '2026-11-23T09:00:01.000Z',
  requestId: 'req-1',
  correlationId: 'case-1',
  destination: 'imaging-midlands',
  kind: 'message',
  event: 'servicerequest-request',
  state: 'pending',
  attempts: 0,
  queuedAt: '2026-11-23T09:00:00.000Z',
  ...overrides,
});

const routed = (overrides: Partial<RoutedEvent>): RoutedEvent => ({
  type: 'routed',
  service: 'national-hub',
  at: '2026-11-23T09:00:01.000Z',
  subtype: 'message-routed',
  fromRegion: 'north',
  toRegion: 'midlands',
  event: 'task-update',
  requestId: 'req-2',
  correlationId: 'case-1',
  result: 'ok',
  ...overrides,
});

const activities = (changes: LiveChange[]) => changes.flatMap((c) => (c.kind === 'activity' ? [c.item] : []));

describe('the live picture', () => {
  it('knows every node from the directory, the hub first, none up until its feed connects', () => {
    const live = new LiveState(topology, testClock());
    expect(live.nodeViews().map((n) => [n.id, n.kind, n.status])).toEqual([
      ['hub', 'hub', 'unknown'],
      ['north', 'gateway', 'unknown'],
      ['midlands', 'gateway', 'unknown'],
    ]);
  });

  it('a node coming up is no news the first time; going down and coming back are', () => {
    const clock = testClock();
    const live = new LiveState(topology, clock);
    const first = live.connection('midlands', true);
    expect(first.map((c) => c.kind)).toEqual(['node']);
    expect(live.connection('midlands', true)).toEqual([]);
    const down = live.connection('midlands', false, 'connection refused');
    expect(activities(down).map((a) => [a.text, a.tone])).toEqual([
      ['The midlands gateway is down (connection refused)', 'bad'],
    ]);
    expect(live.nodeView('midlands')).toMatchObject({ status: 'down', reason: 'connection refused' });
    const back = live.connection('midlands', true);
    expect(activities(back).map((a) => a.text)).toEqual(['The midlands gateway is back up']);
    expect(live.nodeView('midlands')?.reason).toBeUndefined();
  });

  it('shows a gateway’s queue as it reports it', () => {
    const live = new LiveState(topology, testClock());
    live.apply('north', { type: 'queue', service: 'imaging-north', at: 'x', depth: 2, oldestQueuedAt: 'y' });
    expect(live.nodeView('north')?.queue).toEqual({ depth: 2, oldestQueuedAt: 'y' });
  });

  it('draws a message when it is delivered, waits or is refused; not when it is queued or claimed', () => {
    const live = new LiveState(topology, testClock());
    expect(live.apply('north', delivery({ state: 'pending', attempts: 0 }))).toEqual([]);
    expect(live.apply('north', delivery({ state: 'claimed', attempts: 0 }))).toEqual([]);
    const waiting = activities(live.apply('north', delivery({ attempts: 1, progress: 'attempt 1 failed: 503' })));
    expect(waiting.map((a) => [a.text, a.tone, a.move?.outcome])).toEqual([
      ['Order north → midlands waiting: attempt 1 failed: 503; it will be tried again', 'warn', 'retrying'],
    ]);
    const delivered = activities(
      live.apply(
        'north',
        delivery({
          state: 'delivered',
          attempts: 2,
          deliveredAt: '2026-11-23T09:00:04.200Z',
          at: '2026-11-23T09:00:04.300Z',
        }),
      ),
    );
    expect(delivered[0]?.move).toMatchObject({ from: 'north', to: 'midlands', label: 'order', hopMs: 4200 });
    expect(delivered[0]?.text).toBe('Order north → midlands delivered in 4.2 s (2 attempts)');
    const refused = activities(
      live.apply('north', delivery({ state: 'failed', attempts: 1, progress: 'refused: 403' })),
    );
    expect(refused[0]?.text).toBe('Order north → midlands refused: 403; parked, not retried');
    expect(live.nodeView('north')).toMatchObject({ perMinute: 1, failedPerMinute: 2 });
  });

  it('names a message by what the hub saw when its gateway did not say, and a pointer as one', () => {
    const live = new LiveState(topology, testClock());
    live.apply('hub', routed({ requestId: 'req-2', event: 'task-update' }));
    const status = activities(
      live.apply(
        'midlands',
        delivery({
          requestId: 'req-2',
          state: 'delivered',
          attempts: 1,
          event: undefined,
          deliveredAt: '2026-11-23T09:00:00.300Z',
        }),
      ),
    );
    expect(status[0]?.move).toMatchObject({ label: 'status', from: 'midlands' });
    const pointer = activities(
      live.apply(
        'midlands',
        delivery({
          kind: 'pointer',
          destination: 'national-locator',
          state: 'delivered',
          attempts: 1,
          event: undefined,
        }),
      ),
    );
    expect(pointer[0]?.move).toMatchObject({ label: 'pointer', to: 'locator' });
    expect(pointer[0]?.text).toMatch(/^Locator pointer midlands → the national locator delivered/);
  });

  it('counts what the hub routed and failed to route in the last minute, and forgets older ones', () => {
    const clock = testClock();
    const live = new LiveState(topology, clock);
    live.apply('hub', routed({}));
    live.apply('hub', routed({ result: 'failed' }));
    live.apply('hub', routed({ subtype: 'pointers-disclosed' }));
    expect(live.nodeView('hub')).toMatchObject({ perMinute: 1, failedPerMinute: 1 });
    clock.advance(61_000);
    expect(live.nodeView('hub')).toMatchObject({ perMinute: 0, failedPerMinute: 0 });
  });

  it('keeps each region’s open alerts as last reported', () => {
    const live = new LiveState(topology, testClock());
    const open = [{ task: 't', status: 'requested', category: 'URGENT', since: 'x' }];
    expect(live.apply('north', { type: 'alerts', service: 'imaging-north', at: 'x', open })).toEqual([
      { kind: 'alerts' },
    ]);
    expect(live.alerts().get('north')).toEqual(open);
  });

  it('keeps the newest activity only, newest first', () => {
    const live = new LiveState(topology, testClock());
    for (let i = 0; i < ACTIVITY_KEPT + 5; i++)
      live.apply('north', {
        type: 'task-status',
        service: 'imaging-north',
        at: 'x',
        correlationId: `case-${i}`,
        status: 'accepted',
        task: `T${i}`,
      });
    const kept = live.activity();
    expect(kept).toHaveLength(ACTIVITY_KEPT);
    expect(kept[0]?.text).toBe('north: the order is now accepted');
    expect(kept[0]?.correlationId).toBe(`case-${ACTIVITY_KEPT + 4}`);
  });

  it('ignores a feed for a node it does not know', () => {
    const live = new LiveState(topology, testClock());
    expect(live.connection('atlantis', false)).toEqual([]);
    expect(live.apply('atlantis', routed({}))).toEqual([]);
  });
});

describe('formatDuration', () => {
  it('says a duration the way people read it', () => {
    expect([0, 905, 4200, 61_000, 185_000].map(formatDuration)).toEqual([
      '0 ms',
      '905 ms',
      '4.2 s',
      '1 min 1 s',
      '3 min 5 s',
    ]);
  });
});
