import { configOrExit } from '@imaging/config';
import { jsonLogger, serveApp } from '@imaging/fhir-http';
import { createApp } from './app.ts';
import { loadConfig } from './config.ts';
import { createDeps } from './deps.ts';

// The flow view on its own, against any running topology: HUB_URL=… CLIENT_ID=flow-view node src/main.ts
const config = configOrExit(() => loadConfig());
const logger = jsonLogger('flow-view');
const deps = await createDeps(config, logger);
logger.info('starting', { hub: config.HUB_URL, client: config.CLIENT_ID, publicOverview: config.PUBLIC_OVERVIEW });
await serveApp(createApp(deps), {
  port: config.PORT,
  hostname: config.HOST,
  logger,
  onClosing: () => deps.live.close(),
});
