import { createAccessTokenVerifier, defaultDataDir, devTokenSource, jwksUriOf } from '@imaging/auth';
import { openStore, validatingStore } from '@imaging/fhir';
import { jsonLogger, loadOrCreateSecret, pageTokens, serveApp } from '@imaging/fhir-http';
import { join } from 'node:path';
import { createApp } from './app.ts';
import { loadGatewayEnv } from './config.ts';
import { systemClock } from './domain/ports.ts';
import { createHubClient } from './hub-client.ts';
import { startDeliveryWorker } from './worker.ts';

const env = loadGatewayEnv();
const dataDir = env.IMAGING_DATA_DIR ?? defaultDataDir();
const logger = jsonLogger(`gateway-${env.REGION_ID}`);
const publicUrl = env.PUBLIC_URL ?? `http://${env.HOST}:${env.PORT}`;
const store = validatingStore(openStore(env.GATEWAY_STORE ?? join(dataDir, env.REGION_ID, 'fhir.sqlite')));
const tokenSource = await devTokenSource(`gateway-${env.REGION_ID}`, { dataDir, hubUrl: env.HUB_URL });

const deps = {
  store,
  hub: createHubClient({ hubUrl: env.HUB_URL, tokenSource }),
  clock: systemClock,
  logger,
  region: {
    regionId: env.REGION_ID,
    serviceId: env.SERVICE_ID ?? `imaging-${env.REGION_ID}`,
    fhirBaseUrl: `${publicUrl}/fhir`,
  },
  delivery: {
    baseBackoffMs: env.DELIVERY_BASE_BACKOFF,
    maxBackoffMs: env.DELIVERY_MAX_BACKOFF,
    leaseMs: env.DELIVERY_LEASE,
    batchSize: 100,
  },
};
const worker = startDeliveryWorker(deps, env.DELIVERY_INTERVAL);
const app = createApp({
  ...deps,
  hubUrl: env.HUB_URL,
  verifier: createAccessTokenVerifier({
    jwks: jwksUriOf(env.HUB_URL),
    issuer: env.HUB_URL,
    audience: env.TOKEN_AUDIENCE,
  }),
  pageTokens: pageTokens(
    env.PAGE_TOKEN_SECRET ?? loadOrCreateSecret(join(dataDir, env.REGION_ID, 'page-token.secret')),
    { ttlMs: env.PAGE_TOKEN_TTL },
  ),
  wakeDelivery: worker.wake,
  bodyLimitBytes: env.BODY_LIMIT_BYTES,
});

logger.info('starting', { region: env.REGION_ID, store: store.description, hub: env.HUB_URL });
await serveApp(app, {
  port: env.PORT,
  hostname: env.HOST,
  logger,
  onShutdown: async () => {
    await worker.stop();
    await store.close();
  },
});
