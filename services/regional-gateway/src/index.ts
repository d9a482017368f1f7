export { GatewayEnvSchema, loadGatewayEnv } from './config.ts';
export type { GatewayEnv } from './config.ts';
