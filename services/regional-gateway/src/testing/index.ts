// The gateway's test kit, for tests of other packages (`@imaging/regional-gateway/testing`): the gateway
// app in-process, regions wired through a stand-in hub, and the steps those tests drive directly (the
// delivery worker's pass, placing an order without HTTP) rather than through a running gateway.
export { GP_TOKEN, HUB_TOKEN, OBSERVER_TOKEN, RIS_TOKEN, TEST_HUB_URL, testGateway } from './app.ts';
export { GP, HUB_CALLER, RIS, testClock, testRegions } from './regions.ts';
export { connectedRegions } from './national.ts';
export type { ConnectedOptions, ConnectedRegion, ConnectedRegions } from './national.ts';
export type { TestClock, TestHub } from './regions.ts';
export { acknowledgementTasks, alertCase, auditsOf, communications, RN1_RIS, theAlert, watchTasks } from './alerts.ts';
export type { AlertCaseOptions } from './alerts.ts';
export { createApp } from '../app.ts';
export { acknowledgeAlert, recordAlertAction } from '../domain/alert-operations.ts';
export { escalateOverdueAlerts } from '../domain/escalation.ts';
export { checkTurnarounds } from '../domain/breaches.ts';
export { runSafetyPass } from '../domain/safety.ts';
export { breachTasks, flags, issueFinalReport, recordStudy, turnaroundCase, turnaroundWatches } from './turnaround.ts';
// The clinical-safety scenarios, to run on another store (e.g. HAPI FHIR partitions) through `connectedWorld`.
export { connectedWorld } from '../scenarios/safety-world.ts';
export type { SafetyWorld } from '../scenarios/safety-world.ts';
export { suspectedCesScenario } from '../scenarios/4-suspected-ces.ts';
export { delayedCancerReportScenario } from '../scenarios/5-delayed-cancer-report.ts';
export { deliverDue } from '../domain/delivery.ts';
export { ACCESS_SYSTEM } from '../domain/labels.ts';
export { placeOrder } from '../domain/orders.ts';
export type { GatewayDeps } from '../domain/ports.ts';
export { registerPatient } from '../domain/registrations.ts';
export { createHubClient } from '../adapters/hub-client.ts';
