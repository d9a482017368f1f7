import { join } from 'node:path';
import { callerOf, createAccessTokenVerifier, defaultDataDir, devTokenSource, jwksUriOf } from '@imaging/auth';
import type { AccessTokenVerifier, AuthVariables } from '@imaging/auth';
import type { Caller, Logger } from '@imaging/fhir';
import { backgroundCreates, observedStore, openStore, systemClock, validatingStore } from '@imaging/fhir';
import type { BackgroundCreates } from '@imaging/fhir';
import { loadOrCreateSecret, nodeFetch, pageTokens } from '@imaging/fhir-http';
import type { PageTokens, RequestVars } from '@imaging/fhir-http';
import type { Context } from 'hono';
import { devNotifications } from './adapters/dev-notifications.ts';
import { createHubClient } from './adapters/hub-client.ts';
import type { GatewayConfig } from './config.ts';
import { assertInRegion } from './domain/caller.ts';
import { patientCache } from './domain/patient-cache.ts';
import type { GatewayDeps } from './domain/ports.ts';
import type { GatewayFlow } from './flow.ts';
import { createGatewayFlow } from './flow.ts';

/** Everything the gateway app needs: the domain's ports plus the HTTP layer's own. Tests build their own. */
export interface AppDeps extends GatewayDeps {
  verifier: AccessTokenVerifier;
  pageTokens: PageTokens;
  /** The hub's base URL (without /fhir), where clients find the token endpoint. */
  hubUrl: string;
  /** The flow view's event feed (`GET /events`); without it the gateway has none. */
  flow?: GatewayFlow;
  /**
   * Where the record of each disclosure (a read, a search, a case's trail) goes: stored in the background,
   * batched, so no read waits for a commit. Closed on a clean shutdown, which stores what is queued; a
   * crash loses at most the last second's records of reads, never a state change's (those are stored with it).
   */
  disclosures: Pick<BackgroundCreates, 'add'>;
  /** Called after a change that queued a delivery, so the worker runs now rather than at its next tick. */
  wakeDelivery?: () => void;
  bodyLimitBytes?: number;
  version?: string;
}

export type AppEnv = { Variables: RequestVars & AuthVariables };
export type AppContext = Context<AppEnv>;

/** The caller of this request, as the domain sees it; a 403 for a client of another region. */
export function callerFrom(c: AppContext, deps: AppDeps): Caller {
  return assertInRegion(callerOf(c.var.auth), deps.region.regionId);
}

/** The ports wired to their real adapters, from the configuration. */
export async function createDeps(
  config: GatewayConfig,
  logger: Logger,
): Promise<AppDeps & { disclosures: BackgroundCreates }> {
  const dataDir = config.IMAGING_DATA_DIR ?? defaultDataDir();
  const publicUrl = config.PUBLIC_URL ?? `http://${config.HOST}:${config.PORT}`;
  const regionDir = join(dataDir, config.REGION_ID);
  const hubPublicUrl = config.HUB_PUBLIC_URL ?? config.HUB_URL;
  const tokenSource = await devTokenSource(`gateway-${config.REGION_ID}`, {
    dataDir,
    hubUrl: config.HUB_URL,
    hubPublicUrl,
  });
  const region = {
    regionId: config.REGION_ID,
    serviceId: config.SERVICE_ID ?? `imaging-${config.REGION_ID}`,
    fhirBaseUrl: `${publicUrl}/fhir`,
  };
  // What the domain builds from validated input is stored without validating it again (trustBuilt), and so
  // are AuditEvents, which only the gateway's own code writes (no client may); the tests' stores validate
  // everything, so the builders are proven to write only valid resources.
  const validated = validatingStore(
    openStore(config.GATEWAY_STORE ?? join(regionDir, 'fhir.sqlite'), { groupCommit: true, fetch: nodeFetch }),
    { trustBuilt: true, trusted: ['AuditEvent'] },
  );
  // Every write is told to the flow feed once stored: the feed needs no hook in the domain code.
  const flow = createGatewayFlow({ store: validated, region, clock: systemClock, logger });
  const store = observedStore(validated, flow.onChange);
  return {
    store,
    disclosures: backgroundCreates(store, { logger, what: 'disclosure AuditEvents', intervalMs: 1000 }),
    flow,
    hub: createHubClient({ hubUrl: config.HUB_URL, tokenSource }),
    clock: systemClock,
    logger,
    notifications: devNotifications({ store, logger, clock: systemClock }),
    patients: patientCache(),
    alerts: {
      acknowledgementWindowsMs: config.ALERT_ACK_WINDOWS,
      escalationStepsMs: config.ESCALATION_STEP,
      patientNotifyAfterMs: config.PATIENT_NOTIFY_AFTER,
      notificationLeaseMs: config.DELIVERY_LEASE,
      batchSize: 100,
    },
    turnaround: {
      dm01WaitMs: config.DM01_WAIT,
      reportingTatMs: config.REPORTING_TAT,
      cesImagingWithinMs: config.CES_IMAGING_WITHIN,
      reportDueMs: config.REPORT_DUE,
      breachStepsMs: config.BREACH_ESCALATION_STEP,
      batchSize: 100,
    },
    region,
    delivery: {
      baseBackoffMs: config.DELIVERY_BASE_BACKOFF,
      maxBackoffMs: config.DELIVERY_MAX_BACKOFF,
      leaseMs: config.DELIVERY_LEASE,
      batchSize: config.DELIVERY_BATCH,
      concurrency: config.DELIVERY_CONCURRENCY,
    },
    hubUrl: hubPublicUrl,
    verifier: createAccessTokenVerifier({
      jwks: jwksUriOf(config.HUB_URL),
      issuer: hubPublicUrl,
      audience: config.TOKEN_AUDIENCE,
    }),
    pageTokens: pageTokens(config.PAGE_TOKEN_SECRET ?? loadOrCreateSecret(join(regionDir, 'page-token.secret')), {
      ttlMs: config.PAGE_TOKEN_TTL,
    }),
    bodyLimitBytes: config.BODY_LIMIT_BYTES,
  };
}
