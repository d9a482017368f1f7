import { configOrExit } from '@imaging/config';
import { jsonLogger, serveApp } from '@imaging/fhir-http';
import { createApp } from './app.ts';
import { loadConfig } from './config.ts';
import { createDeps } from './deps.ts';
import { startJobs } from './jobs.ts';

const config = configOrExit(() => loadConfig());

const logger = jsonLogger(`gateway-${config.REGION_ID}`);
const deps = await createDeps(config, logger);
const jobs = startJobs(deps, {
  deliveryIntervalMs: config.DELIVERY_INTERVAL,
  safetyIntervalMs: config.SAFETY_INTERVAL,
});
const app = createApp({ ...deps, wakeDelivery: jobs.delivery.wake });

logger.info('starting', { region: config.REGION_ID, store: deps.store.description, hub: config.HUB_URL });
await serveApp(app, {
  port: config.PORT,
  hostname: config.HOST,
  logger,
  onClosing: () => deps.flow?.close(),
  onShutdown: async () => {
    await jobs.stop();
    // The records of the last reads, before the store closes.
    await deps.disclosures.close();
    await deps.store.close();
  },
});
