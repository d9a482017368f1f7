import type { Clock } from '@imaging/fhir';
import type { DeliveryEvent, FlowEvent, FlowLabel, OpenAlert, RoutedEvent } from '@imaging/messaging';
import { flowLabelOf } from '@imaging/messaging';
import { HUB_NODE } from './ports.ts';
import type { FlowTopology } from './ports.ts';
import { regionOfService } from './topology.ts';

/**
 * The live picture the overview shows, built from the services' event feeds: whether each node is up, its
 * queue and throughput, the messages moving, the status changes, and the open alerts. Plain state and plain
 * events in, the changes to show out: the engine (live.ts) feeds it and renders what changed.
 */

export type NodeStatus = 'up' | 'down' | 'unknown';

export interface NodeView {
  /** `hub`, or the region's id. */
  id: string;
  kind: 'hub' | 'gateway';
  name: string;
  status: NodeStatus;
  /** When the status last changed. */
  since?: string;
  /** Why it is down, briefly. */
  reason?: string;
  /** A gateway's pending deliveries. */
  queue?: { depth: number; oldestQueuedAt?: string };
  /** Messages delivered (a gateway) or routed (the hub) in the last minute. */
  perMinute: number;
  /** Attempts that failed (a gateway) or messages not delivered (the hub) in the last minute. */
  failedPerMinute: number;
}

/** A message that moved, or tried to: from a region, through the hub, to a region (or the locator). */
export interface Move {
  id: string;
  label: FlowLabel;
  from: string;
  /** A region's id, or `locator`. */
  to: string;
  outcome: 'delivered' | 'retrying' | 'refused';
  attempts: number;
  /** From being queued to being delivered. */
  hopMs?: number;
  correlationId: string;
  at: string;
  detail?: string;
}

export interface ActivityItem {
  id: string;
  at: string;
  kind: 'move' | 'status' | 'node';
  text: string;
  tone: 'ok' | 'warn' | 'bad' | 'info';
  correlationId?: string;
  move?: Move;
}

export type LiveChange =
  | { kind: 'node'; node: NodeView }
  | { kind: 'activity'; item: ActivityItem }
  | { kind: 'alerts' };

/** How many activity items are kept (the newest). */
export const ACTIVITY_KEPT = 40;
const MINUTE = 60_000;

interface NodeState {
  view: Omit<NodeView, 'perMinute' | 'failedPerMinute'>;
  done: number[];
  failed: number[];
}

export class LiveState {
  private readonly nodes = new Map<string, NodeState>();
  private readonly items: ActivityItem[] = [];
  private readonly openAlerts = new Map<string, OpenAlert[]>();
  /** The hub's word on each routed message, by request id: what it carried, if the gateway did not say. */
  private readonly routed = new Map<string, RoutedEvent>();
  private sequence = 0;

  readonly topology: FlowTopology;
  private readonly clock: Clock;

  constructor(topology: FlowTopology, clock: Clock) {
    this.topology = topology;
    this.clock = clock;
    this.nodes.set(HUB_NODE, {
      view: { id: HUB_NODE, kind: 'hub', name: 'National hub', status: 'unknown' },
      done: [],
      failed: [],
    });
    for (const region of topology.regions)
      this.nodes.set(region.id, {
        view: { id: region.id, kind: 'gateway', name: region.name, status: 'unknown' },
        done: [],
        failed: [],
      });
  }

  /** Every node, the hub first, then the regions north to south. */
  nodeViews(): NodeView[] {
    return [...this.nodes.keys()].map((id) => this.nodeView(id) as NodeView);
  }

  nodeView(id: string): NodeView | undefined {
    const state = this.nodes.get(id);
    if (!state) return undefined;
    const since = this.clock.now().getTime() - MINUTE;
    state.done = state.done.filter((t) => t > since);
    state.failed = state.failed.filter((t) => t > since);
    return { ...state.view, perMinute: state.done.length, failedPerMinute: state.failed.length };
  }

  /** The newest activity first. */
  activity(): ActivityItem[] {
    return [...this.items];
  }

  /** Open alerts per region, as each gateway last reported them. */
  alerts(): ReadonlyMap<string, OpenAlert[]> {
    return this.openAlerts;
  }

  /** A node's feed connected (up) or was lost (down, with why). */
  connection(id: string, up: boolean, reason?: string): LiveChange[] {
    const state = this.nodes.get(id);
    if (!state) return [];
    const status: NodeStatus = up ? 'up' : 'down';
    if (state.view.status === status) return [];
    const was = state.view.status;
    state.view = {
      ...state.view,
      status,
      since: this.clock.now().toISOString(),
      ...(up ? {} : { reason: reason ?? 'not answering' }),
    };
    if (up) delete state.view.reason;
    const changes: LiveChange[] = [{ kind: 'node', node: this.nodeView(id) as NodeView }];
    // The first connection is not news; a node going down, or coming back, is.
    if (was !== 'unknown' || !up) {
      const label = id === HUB_NODE ? 'The national hub' : `The ${id} gateway`;
      changes.push(
        this.add({
          kind: 'node',
          text: up ? `${label} is back up` : `${label} is down (${state.view.reason})`,
          tone: up ? 'ok' : 'bad',
        }),
      );
    }
    return changes;
  }

  /** An event from a node's feed. */
  apply(id: string, event: FlowEvent): LiveChange[] {
    const state = this.nodes.get(id);
    if (!state) return [];
    switch (event.type) {
      case 'hello':
        return [];
      case 'queue': {
        state.view = {
          ...state.view,
          queue: { depth: event.depth, ...(event.oldestQueuedAt ? { oldestQueuedAt: event.oldestQueuedAt } : {}) },
        };
        return [{ kind: 'node', node: this.nodeView(id) as NodeView }];
      }
      case 'alerts':
        this.openAlerts.set(id, event.open);
        return [{ kind: 'alerts' }];
      case 'routed': {
        if (event.requestId) this.remember(event);
        if (event.subtype !== 'message-routed' && event.subtype !== 'pointer-registered') return [];
        (event.result === 'ok' ? state.done : state.failed).push(this.clock.now().getTime());
        return [{ kind: 'node', node: this.nodeView(id) as NodeView }];
      }
      case 'task-status':
        return [
          this.add({
            kind: 'status',
            text: `${this.regionName(id)}: the order is now ${event.status}`,
            tone:
              event.status === 'cancelled' || event.status === 'rejected' || event.status === 'failed'
                ? 'warn'
                : 'info',
            correlationId: event.correlationId,
          }),
        ];
      case 'delivery':
        return this.delivery(id, state, event);
    }
  }

  private delivery(id: string, state: NodeState, event: DeliveryEvent): LiveChange[] {
    const retrying = event.state === 'pending' && event.attempts > 0;
    if (event.state !== 'delivered' && event.state !== 'failed' && !retrying) return [];
    const to =
      event.kind === 'pointer'
        ? 'locator'
        : (regionOfService(this.topology, event.destination)?.id ?? event.destination);
    const label =
      event.kind === 'pointer' ? 'pointer' : flowLabelOf(event.event ?? this.routed.get(event.requestId)?.event);
    const outcome = event.state === 'delivered' ? 'delivered' : event.state === 'failed' ? 'refused' : 'retrying';
    const at = event.deliveredAt ?? event.at;
    const hopMs = event.deliveredAt ? Date.parse(event.deliveredAt) - Date.parse(event.queuedAt) : undefined;
    const move: Move = {
      id: `${event.requestId}/${event.attempts}`,
      label,
      from: id,
      to,
      outcome,
      attempts: event.attempts,
      ...(hopMs !== undefined && hopMs >= 0 ? { hopMs } : {}),
      correlationId: event.correlationId,
      at,
      ...(event.progress ? { detail: event.progress } : {}),
    };
    (outcome === 'delivered' ? state.done : state.failed).push(this.clock.now().getTime());
    return [
      { kind: 'node', node: this.nodeView(id) as NodeView },
      this.add({
        kind: 'move',
        text: moveText(move, (r) => this.regionName(r)),
        tone: outcome === 'delivered' ? 'ok' : outcome === 'retrying' ? 'warn' : 'bad',
        correlationId: move.correlationId,
        move,
      }),
    ];
  }

  private remember(event: RoutedEvent): void {
    this.routed.set(event.requestId as string, event);
    if (this.routed.size > 1000) this.routed.delete(this.routed.keys().next().value as string);
  }

  private regionName(id: string): string {
    return id === 'locator' ? 'the national locator' : id;
  }

  private add(item: Omit<ActivityItem, 'id' | 'at'> & { at?: string }): LiveChange {
    const full: ActivityItem = { ...item, id: `a${++this.sequence}`, at: item.at ?? this.clock.now().toISOString() };
    this.items.unshift(full);
    this.items.length = Math.min(this.items.length, ACTIVITY_KEPT);
    return { kind: 'activity', item: full };
  }
}

const LABEL_TEXT: Record<FlowLabel, string> = {
  order: 'Order',
  status: 'Status update',
  report: 'Report',
  pointer: 'Locator pointer',
  alert: 'Alert',
  message: 'Message',
};

/** A move in words: `Order north → midlands delivered in 905 ms (2 attempts)`. */
export function moveText(move: Move, nameOf: (region: string) => string = (r) => r): string {
  const route = `${LABEL_TEXT[move.label]} ${nameOf(move.from)} → ${nameOf(move.to)}`;
  if (move.outcome === 'delivered') {
    const hop = move.hopMs === undefined ? '' : ` in ${formatDuration(move.hopMs)}`;
    return `${route} delivered${hop}${move.attempts > 1 ? ` (${move.attempts} attempts)` : ''}`;
  }
  const why = move.detail ? `: ${move.detail.replace(/^refused: /, '')}` : '';
  if (move.outcome === 'retrying') return `${route} waiting${why}; it will be tried again`;
  return `${route} refused${why}; parked, not retried`;
}

/** `905 ms`, `4.2 s`, `3 min 5 s`. */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.max(0, Math.round(ms))} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  const minutes = Math.floor(ms / 60_000);
  return `${minutes} min ${Math.round((ms % 60_000) / 1000)} s`;
}
