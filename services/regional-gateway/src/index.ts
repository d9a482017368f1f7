export { createApp } from './app.ts';
export { GatewayEnvSchema, loadConfig } from './config.ts';
export type { GatewayConfig } from './config.ts';
