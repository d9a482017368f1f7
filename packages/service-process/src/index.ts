export { SERVICE_VARIABLES, ServiceProcess, START_TIMEOUT_MS } from './service-process.ts';
export type { ServiceSpec } from './service-process.ts';
export { freePort, isPortFree, PortInUseError } from './ports.ts';
