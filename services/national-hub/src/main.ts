import { configOrExit } from '@imaging/config';
import { jsonLogger, serveApp } from '@imaging/fhir-http';
import { createApp } from './app.ts';
import { loadConfig } from './config.ts';
import { createDeps } from './deps.ts';
import { startJobs } from './jobs.ts';

const config = configOrExit(() => loadConfig());

const logger = jsonLogger('national-hub');
const deps = await createDeps(config, logger);
const jobs = startJobs(deps);
const app = createApp(deps);

logger.info('starting', { url: deps.publicUrl, store: deps.store.description, clients: deps.registry.ids().length });
await serveApp(app, {
  port: config.PORT,
  hostname: config.HOST,
  logger,
  onClosing: () => deps.flow?.close(),
  onShutdown: async () => {
    await jobs.stop();
    await deps.store.close();
  },
});
