import { createAccessTokenVerifier, defaultDataDir, devTokenSource, jwksUriOf, serviceClient } from '@imaging/auth';
import type { AccessClaims, AccessTokenVerifier, TokenSource } from '@imaging/auth';
import type { Clock, Logger } from '@imaging/fhir';
import { systemClock } from '@imaging/fhir';
import { FLOW_SCOPES } from '@imaging/messaging';
import type { Context } from 'hono';
import { caseTrails } from './adapters/case-trails.ts';
import { hubDirectory } from './adapters/hub-directory.ts';
import { connectFeed } from './adapters/service-feed.ts';
import type { FlowViewConfig } from './config.ts';
import type { DemoControls, TrailPort } from './domain/ports.ts';
import type { Live } from './live.ts';
import { startLive } from './live.ts';

/** What the app needs. Tests build their own. */
export interface AppDeps {
  live: Live;
  trails: TrailPort;
  /** Checks the tokens viewers sign in with (the hub's, by its JWKS). */
  verifier: AccessTokenVerifier;
  clock: Clock;
  logger: Logger;
  /** The hub's base URL, for the sign-in page. */
  hubUrl: string;
  /** The overview (no patient data) without a token: the development topology only. */
  publicOverview: boolean;
  /** The demo's controls, when the demo serves the view. */
  demo?: DemoControls;
}

export type AppEnv = { Variables: { viewer: AccessClaims | undefined } };
export type AppContext = Context<AppEnv>;

/** The scopes the view asks the hub for: the directory, the feeds and the case trails. Nothing else. */
export const VIEW_SCOPES = ['system/Organization.rs', 'system/Endpoint.rs', FLOW_SCOPES.events, FLOW_SCOPES.case];

/** The real adapters, from the configuration (and the demo's controls when the demo serves the view). */
export async function createDeps(
  config: FlowViewConfig,
  logger: Logger,
  extra: { demo?: DemoControls; tokens?: TokenSource } = {},
): Promise<AppDeps> {
  const tokens =
    extra.tokens ??
    (await devTokenSource(config.CLIENT_ID, {
      hubUrl: config.HUB_URL,
      dataDir: config.IMAGING_DATA_DIR ?? defaultDataDir(),
      scope: VIEW_SCOPES.join(' '),
    }));
  const client = serviceClient({ tokens });
  const live = startLive({
    directory: hubDirectory(config.HUB_URL, client),
    openFeed: (baseUrl, handlers) => connectFeed({ baseUrl, tokens }, handlers),
    clock: systemClock,
    logger,
    ...(extra.demo ? { demo: extra.demo } : {}),
  });
  return {
    live,
    trails: caseTrails(config.HUB_URL, client),
    verifier: createAccessTokenVerifier({
      jwks: jwksUriOf(config.HUB_URL),
      issuer: config.HUB_URL,
      audience: config.TOKEN_AUDIENCE,
    }),
    clock: systemClock,
    logger,
    hubUrl: config.HUB_URL,
    publicOverview: config.PUBLIC_OVERVIEW,
    ...(extra.demo ? { demo: extra.demo } : {}),
  };
}
