import type { Clock, FhirStore, Logger, StoreChange } from '@imaging/fhir';
import { eventFeed } from '@imaging/fhir-http';
import type { EventFeed } from '@imaging/fhir-http';
import type { FlowEvent, QueueEvent } from '@imaging/messaging';
import { flowChangeOf, messageEventCode, openAlerts, queueGauge } from './domain/flow.ts';
import type { RegionIdentity } from './domain/ports.ts';

/** The gateway's event feed for the flow view: fed by what the store stores, read by `GET /events`. */
export interface GatewayFlow {
  /** Given to observedStore: told of every write once it is stored. */
  onChange(changes: readonly StoreChange[]): void;
  /** One subscriber's stream: hello, the queue and the open alerts as they are, then every change. */
  subscribe(signal?: AbortSignal): Response;
  close(): void;
}

export interface GatewayFlowDeps {
  /** The store the gauges are read from (reads are the same observed or not). */
  store: FhirStore;
  region: RegionIdentity;
  clock: Clock;
  logger: Logger;
}

/** Versions (and message events) remembered; the oldest are forgotten past this. */
const REMEMBERED = 5000;

/**
 * Deliveries and status changes go out as they are stored. The queue gauge and the open alerts are read
 * from the store again after a change (once per `settleMs`, however many changes), and only while someone
 * is subscribed: the feed costs nothing when nobody watches.
 */
export function createGatewayFlow(deps: GatewayFlowDeps, options: { settleMs?: number } = {}): GatewayFlow {
  const feed: EventFeed<FlowEvent> = eventFeed<FlowEvent>();
  const settleMs = options.settleMs ?? 100;
  const versions = new Map<string, string>();
  // The event of each message Bundle queued here, so its delivery's events can say what it carries.
  const messageEvents = new Map<string, string>();
  const remember = <V>(map: Map<string, V>, key: string, value: V) => {
    map.delete(key);
    map.set(key, value);
    if (map.size > REMEMBERED) map.delete(map.keys().next().value as string);
  };
  let lastQueue: QueueEvent | undefined;

  const gauge = async () => {
    const queue = await queueGauge(deps.store, deps.region, deps.clock.now());
    lastQueue = queue;
    return queue;
  };
  const alerts = async () => ({
    type: 'alerts' as const,
    service: deps.region.serviceId,
    at: deps.clock.now().toISOString(),
    open: await openAlerts(deps.store),
  });

  const refresh = (what: string, read: () => Promise<FlowEvent | undefined>) => {
    let timer: NodeJS.Timeout | undefined;
    return () => {
      if (timer || feed.subscribers === 0) return;
      timer = setTimeout(() => {
        timer = undefined;
        read().then(
          (event) => event && feed.publish(event),
          (err: unknown) => deps.logger.warn(`flow feed: could not read the ${what}`, { error: String(err) }),
        );
      }, settleMs);
      timer.unref();
    };
  };
  const refreshQueue = refresh('queue', async () => {
    const before = lastQueue;
    const queue = await gauge();
    const same = before && before.depth === queue.depth && before.oldestQueuedAt === queue.oldestQueuedAt;
    return same ? undefined : queue;
  });
  const refreshAlerts = refresh('open alerts', alerts);

  return {
    onChange(changes) {
      for (const change of changes) {
        const key = `${change.resource.resourceType}/${change.resource.id}`;
        const version = change.resource.meta?.versionId ?? '';
        if (versions.get(key) === version) continue;
        remember(versions, key, version);
        const event = messageEventCode(change.resource);
        if (event) remember(messageEvents, change.resource.id, event);
        const meaning = flowChangeOf(change, deps.region, messageEvents);
        if (meaning?.kind === 'delivery') {
          feed.publish(meaning.event);
          refreshQueue();
        } else if (meaning?.kind === 'task-status') feed.publish(meaning.event);
        else if (meaning?.kind === 'alerts-changed') refreshAlerts();
      }
    },
    subscribe(signal) {
      return feed.subscribe({
        ...(signal ? { signal } : {}),
        first: async () => [
          {
            type: 'hello',
            service: deps.region.serviceId,
            region: deps.region.regionId,
            at: deps.clock.now().toISOString(),
          },
          await gauge(),
          await alerts(),
        ],
      });
    },
    close: () => feed.close(),
  };
}
