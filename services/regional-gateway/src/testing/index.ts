// The gateway's test kit, for tests of other packages (`@imaging/regional-gateway/testing`): the gateway
// app in-process, regions wired through a stand-in hub, and the steps those tests drive directly (the
// delivery worker's pass, placing an order without HTTP) rather than through a running gateway.
export { GP_TOKEN, HUB_TOKEN, OBSERVER_TOKEN, RIS_TOKEN, TEST_HUB_URL, testGateway } from './app.ts';
export { GP, HUB_CALLER, RIS, testClock, testRegions } from './regions.ts';
export type { TestClock, TestHub } from './regions.ts';
export { createApp } from '../app.ts';
export { deliverDue } from '../domain/delivery.ts';
export { placeOrder } from '../domain/orders.ts';
export type { GatewayDeps } from '../domain/ports.ts';
export { registerPatient } from '../domain/registrations.ts';
export { createHubClient } from '../adapters/hub-client.ts';
export { connectedRegions } from './national.ts';
export type { ConnectedRegion, ConnectedRegions } from './national.ts';
