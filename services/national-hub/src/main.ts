import { resolve, join } from 'node:path';
import {
  clientRegistryFile,
  createClientRegistry,
  defaultDataDir,
  ensureDevCredentials,
  loadClientRegistry,
  loadDevHubKey,
  purgeAssertionRecords,
} from '@imaging/auth';
import { ConfigError, devTopology, readTopology } from '@imaging/config';
import { openStore, validatingStore } from '@imaging/fhir';
import { jsonLogger, loadOrCreateSecret, pageTokens, serveApp } from '@imaging/fhir-http';
import { createApp } from './app.ts';
import { loadHubEnv, publicUrlOf } from './config.ts';
import { seedDirectory } from './domain/directory.ts';

const logger = jsonLogger('national-hub');

let env: ReturnType<typeof loadHubEnv>;
try {
  env = loadHubEnv();
} catch (err) {
  if (!(err instanceof ConfigError)) throw err;
  process.stderr.write(`${err.message}\n`);
  process.exit(1);
}

const dataDir = env.IMAGING_DATA_DIR ? resolve(env.IMAGING_DATA_DIR) : defaultDataDir();
const publicUrl = publicUrlOf(env);
const topology = env.TOPOLOGY_FILE ? readTopology(env.TOPOLOGY_FILE) : devTopology();

let registry;
let signingKey;
if (env.DEV_CREDENTIALS) {
  const credentials = await ensureDevCredentials(topology, dataDir);
  registry = createClientRegistry(credentials.clients);
  signingKey = credentials.hubKey;
} else {
  registry = loadClientRegistry(env.CLIENT_REGISTRY ?? clientRegistryFile(dataDir));
  signingKey = await loadDevHubKey(dataDir);
}

const store = validatingStore(openStore(env.HUB_STORE ?? join(dataDir, 'hub', 'fhir.sqlite')));
const seeded = await seedDirectory(store, topology);
logger.info('directory seeded', { store: store.description, ...seeded });

// Used client assertions only matter for five minutes; older records are cleared now and then.
const purge = () =>
  purgeAssertionRecords(store, new Date()).then(
    (deleted) => deleted && logger.info('purged used client assertions', { deleted }),
    (err: unknown) => logger.warn('purging used client assertions failed', { error: String(err) }),
  );
void purge();
const purgeTimer = setInterval(purge, 6 * 3_600_000);
purgeTimer.unref();

const app = createApp({
  store,
  registry,
  signingKey,
  publicUrl,
  audience: env.TOKEN_AUDIENCE,
  tokenTtlSeconds: Math.round(env.TOKEN_TTL / 1000),
  logger,
  pageTokens: pageTokens(env.PAGE_TOKEN_SECRET ?? loadOrCreateSecret(join(dataDir, 'hub', 'page-token.secret')), {
    ttlMs: env.PAGE_TOKEN_TTL,
  }),
  forwardTimeoutMs: env.FORWARD_TIMEOUT,
  bodyLimitBytes: env.BODY_LIMIT_BYTES,
});

logger.info('starting', { url: publicUrl, store: store.description, clients: registry.ids().length });
await serveApp(app, {
  port: env.PORT,
  hostname: env.HOST,
  logger,
  onShutdown: async () => {
    clearInterval(purgeTimer);
    await store.close();
  },
});
