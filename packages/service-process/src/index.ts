export { SERVICE_VARIABLES, ServiceProcess, START_TIMEOUT_MS } from './service-process.ts';
export type { ServiceSpec } from './service-process.ts';
export { freePort, freePortBase, isPortFree, PortInUseError } from './ports.ts';
export { cpuTimeMs } from './cpu-time.ts';
