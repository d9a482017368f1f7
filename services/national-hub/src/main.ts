import { ConfigError } from '@imaging/config';
import { jsonLogger, serveApp } from '@imaging/fhir-http';
import { createApp } from './app.ts';
import { loadConfig } from './config.ts';
import { createDeps } from './deps.ts';
import { startJobs } from './jobs.ts';

let config: ReturnType<typeof loadConfig>;
try {
  config = loadConfig();
} catch (err) {
  if (!(err instanceof ConfigError)) throw err;
  process.stderr.write(`${err.message}\n`);
  process.exit(1);
}

const logger = jsonLogger('national-hub');
const deps = await createDeps(config, logger);
const jobs = startJobs(deps);
const app = createApp(deps);

logger.info('starting', { url: deps.publicUrl, store: deps.store.description, clients: deps.registry.ids().length });
await serveApp(app, {
  port: config.PORT,
  hostname: config.HOST,
  logger,
  onShutdown: async () => {
    await jobs.stop();
    await deps.store.close();
  },
});
