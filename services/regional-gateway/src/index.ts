export { createApp } from './app.ts';
export { GatewayEnvSchema, loadConfig } from './config.ts';
export type { GatewayConfig } from './config.ts';
// The outbox poll's query and index key, for the benchmarks (services/bench) to time the poll itself.
export { OPEN_DELIVERY, pendingDeliveriesQuery } from './domain/outbox.ts';
