import type { Clock, StoreChange } from '@imaging/fhir';
import { eventFeed } from '@imaging/fhir-http';
import type { FlowEvent } from '@imaging/messaging';
import { HUB_SERVICE } from '@imaging/messaging';
import { routedEventOf } from './domain/flow.ts';

/** The hub's event feed for the flow view: each AuditEvent it writes, as it is stored. */
export interface HubFlow {
  /** Given to observedStore: told of every write once it is stored. */
  onChange(changes: readonly StoreChange[]): void;
  subscribe(signal?: AbortSignal): Response;
  close(): void;
}

export function createHubFlow(clock: Clock): HubFlow {
  const feed = eventFeed<FlowEvent>();
  return {
    onChange(changes) {
      for (const change of changes) {
        const event = routedEventOf(change);
        if (event) feed.publish(event);
      }
    },
    subscribe: (signal) =>
      feed.subscribe({
        ...(signal ? { signal } : {}),
        first: async () => [{ type: 'hello', service: HUB_SERVICE, at: clock.now().toISOString() }],
      }),
    close: () => feed.close(),
  };
}
