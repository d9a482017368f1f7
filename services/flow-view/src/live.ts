import type { Clock, Logger } from '@imaging/fhir';
import { eventFeed } from '@imaging/fhir-http';
import type { EventFeed } from '@imaging/fhir-http';
import type { FeedConnection, FeedHandlers } from './adapters/service-feed.ts';
import type { LiveChange, NodeView } from './domain/live.ts';
import { LiveState } from './domain/live.ts';
import type { DemoControls, DirectoryPort, FlowTopology } from './domain/ports.ts';
import { HUB_NODE } from './domain/ports.ts';
import { safetySummary } from './domain/safety.ts';
import { mapPositions } from './domain/topology.ts';
import { activityItem, demoControls, nodeCard, safetyPanel } from './views/overview.ts';

/**
 * What the browser's script is sent on `/live`: fragments of the page, rendered by the same views as the
 * page itself, to put in place; and for a message that moved, where to draw it and what to announce.
 */
export type ViewUpdate =
  | { type: 'node'; id: string; html: string }
  | {
      type: 'activity';
      id: string;
      html: string;
      text: string;
      move?: { from: string; to: string; outcome: string; label: string };
    }
  | { type: 'safety'; html: string }
  | { type: 'controls'; html: string }
  | { type: 'sync'; nodes: { id: string; html: string }[]; safety: string };

export interface LiveDeps {
  directory: DirectoryPort;
  /** Follows one service's event feed (`baseUrl` without /fhir). */
  openFeed(baseUrl: string, handlers: FeedHandlers): FeedConnection;
  clock: Clock;
  logger: Logger;
  demo?: DemoControls;
  /** How often to try the directory again until the hub answers. Default 2 s. */
  directoryRetryMs?: number;
}

export interface Live {
  /** The picture now; undefined until the hub's directory has been read. */
  state(): LiveState | undefined;
  /** Resolves once the directory is read and every feed is being followed. */
  readonly ready: Promise<FlowTopology>;
  /** One browser's `/live` stream. */
  subscribe(signal?: AbortSignal): Response;
  /** Tells browsers the demo's controls changed (a region stopped or started). */
  controlsChanged(): void;
  close(): void;
}

/** Throughput counts decay as the minute passes without news: cards are refreshed this often while watched. */
const DECAY_MS = 5000;

/**
 * Reads the deployment from the hub's directory, then follows the hub's and every gateway's event feed.
 * Each event updates the LiveState; each change is rendered and sent to the browsers watching.
 */
export function startLive(deps: LiveDeps): Live {
  const browsers: EventFeed<ViewUpdate> = eventFeed<ViewUpdate>();
  const connections: FeedConnection[] = [];
  let live: LiveState | undefined;
  let closed = false;
  let decay: NodeJS.Timeout | undefined;

  const card = (node: NodeView) =>
    nodeCard(node, mapPositions(live?.topology.regions ?? []).get(node.id), deps.clock.now()).toString();
  const safety = () =>
    safetyPanel(safetySummary(live?.alerts() ?? new Map(), deps.clock.now()), deps.clock.now()).toString();

  const publish = (changes: LiveChange[]) => {
    for (const change of changes) {
      if (change.kind === 'node') browsers.publish({ type: 'node', id: change.node.id, html: card(change.node) });
      else if (change.kind === 'alerts') browsers.publish({ type: 'safety', html: safety() });
      else {
        const { item } = change;
        const move = item.move;
        browsers.publish({
          type: 'activity',
          id: item.id,
          html: activityItem(item).toString(),
          text: item.text,
          ...(move ? { move: { from: move.from, to: move.to, outcome: move.outcome, label: move.label } } : {}),
        });
      }
    }
  };

  const follow = (topology: FlowTopology) => {
    const state = new LiveState(topology, deps.clock);
    live = state;
    const nodes = [
      { id: HUB_NODE, baseUrl: topology.hubUrl },
      ...topology.regions.map((r) => ({ id: r.id, baseUrl: r.fhirBase.replace(/\/fhir\/?$/, '') })),
    ];
    for (const node of nodes)
      connections.push(
        deps.openFeed(node.baseUrl, {
          onEvent: (event) => publish(state.apply(node.id, event)),
          onStatus: (up, reason) => {
            const changes = state.connection(node.id, up, reason);
            if (changes.length && !up) deps.logger.warn('flow view: a service is down', { node: node.id, reason });
            publish(changes);
          },
        }),
      );
    let last = new Map<string, string>();
    decay = setInterval(() => {
      if (browsers.subscribers === 0) return;
      const now = new Map(state.nodeViews().map((n) => [n.id, `${n.perMinute}/${n.failedPerMinute}`]));
      for (const node of state.nodeViews())
        if (last.get(node.id) !== now.get(node.id)) publish([{ kind: 'node', node }]);
      last = now;
    }, DECAY_MS);
    decay.unref();
  };

  const ready = (async () => {
    for (;;) {
      if (closed) throw new Error('the flow view was closed before it could read the hub’s directory');
      try {
        const topology = await deps.directory.read();
        if (closed) return topology;
        follow(topology);
        deps.logger.info('flow view: following the services', {
          hub: topology.hubUrl,
          regions: topology.regions.map((r) => r.id),
        });
        return topology;
      } catch (err) {
        deps.logger.warn('flow view: cannot read the hub directory yet', { error: String(err) });
        await new Promise((resolve) => setTimeout(resolve, deps.directoryRetryMs ?? 2000).unref());
      }
    }
  })();

  // Nobody need wait for it: a view closed before the hub answered simply never followed anything.
  ready.catch(() => undefined);
  return {
    state: () => live,
    ready,
    subscribe: (signal) =>
      browsers.subscribe({
        ...(signal ? { signal } : {}),
        first: async () =>
          live
            ? [{ type: 'sync', nodes: live.nodeViews().map((n) => ({ id: n.id, html: card(n) })), safety: safety() }]
            : [],
      }),
    controlsChanged() {
      if (deps.demo) browsers.publish({ type: 'controls', html: demoControls(deps.demo).toString() });
    },
    close() {
      closed = true;
      if (decay) clearInterval(decay);
      for (const c of connections) c.close();
      browsers.close();
    },
  };
}
