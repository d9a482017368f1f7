export { createApp, HUB_SERVICE_SCOPES } from './app.ts';
export { createDeps } from './deps.ts';
export type { AppDeps, AppEnv } from './deps.ts';
export { HubEnvSchema, loadConfig, publicUrlOf } from './config.ts';
export type { HubConfig } from './config.ts';
export {
  directoryResources,
  findRegion,
  findService,
  odsOrganizationId,
  regionOrganizationId,
  seedDirectory,
} from './domain/directory.ts';
export type { RegionService } from './domain/directory.ts';
export { ROUTE_SCOPE } from './routes/process-message.ts';
