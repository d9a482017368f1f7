// The flow view over a whole topology in one process, for its tests: the real hub and real gateway apps
// (the gateway's test kit), the view's real adapters reaching them through app.request, its own dev client.
import { createAccessTokenVerifier, devTokenSource, jwksUriOf, serviceClient } from '@imaging/auth';
import type { Clock } from '@imaging/fhir';
import { memoryLogger, systemClock } from '@imaging/fhir';
import type { ConnectedRegions } from '@imaging/regional-gateway/testing';
import { caseTrails } from '../adapters/case-trails.ts';
import { hubDirectory } from '../adapters/hub-directory.ts';
import type { FeedHandlers } from '../adapters/service-feed.ts';
import { createApp } from '../app.ts';
import type { AppDeps } from '../deps.ts';
import { VIEW_SCOPES } from '../deps.ts';
import type { DemoControls } from '../domain/ports.ts';
import { startLive } from '../live.ts';

export interface ViewOptions {
  publicOverview?: boolean;
  demo?: DemoControls;
  /** The clock of the live picture (throughput windows, activity times). */
  clock?: Clock;
}

export async function flowViewOver(regions: ConnectedRegions, options: ViewOptions = {}) {
  const hubUrl = regions.hub.publicUrl;
  const tokens = await devTokenSource('flow-view', {
    hubUrl,
    dataDir: regions.dataDir,
    fetch: regions.fetch,
    scope: VIEW_SCOPES.join(' '),
  });
  const client = serviceClient({ tokens, fetch: regions.fetch });
  /** The feeds the view follows, by service base URL: a test plays the services' events into them. */
  const feeds = new Map<string, FeedHandlers>();
  const logger = memoryLogger();
  const live = startLive({
    directory: hubDirectory(hubUrl, client),
    openFeed: (baseUrl, handlers) => {
      feeds.set(baseUrl, handlers);
      return { close: () => feeds.delete(baseUrl) };
    },
    clock: options.clock ?? systemClock,
    logger,
    ...(options.demo ? { demo: options.demo } : {}),
  });
  const topology = await live.ready;
  const deps: AppDeps = {
    live,
    trails: caseTrails(hubUrl, client),
    verifier: createAccessTokenVerifier({ jwks: jwksUriOf(hubUrl), issuer: hubUrl, fetch: regions.fetch }),
    clock: options.clock ?? systemClock,
    logger,
    hubUrl,
    publicOverview: options.publicOverview ?? false,
    ...(options.demo ? { demo: options.demo } : {}),
  };
  const app = createApp(deps);
  /** A feed by the node it follows: `hub` or a region's id. */
  const feed = (node: string): FeedHandlers => {
    const base = node === 'hub' ? hubUrl : topology.regions.find((r) => r.id === node)?.fhirBase.replace(/\/fhir$/, '');
    const handlers = base ? feeds.get(base) : undefined;
    if (!handlers) throw new Error(`the view follows no feed for ${node}`);
    return handlers;
  };
  return {
    app,
    live,
    topology,
    trails: deps.trails,
    feed,
    logger,
    viewerToken: () => regions.tokenFor('flow-view'),
    close: () => live.close(),
  };
}
