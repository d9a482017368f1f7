// The demo as a library, for the conformance suite ("the pathway on HAPI"): the same scenario and checks.
export { SCENARIO, startDemo } from './demo.ts';
export type { DemoResult, DemoRun } from './demo.ts';
export { DEFAULT_PORT_BASE, parseDemoArgs } from './options.ts';
export type { DemoOptions } from './options.ts';
