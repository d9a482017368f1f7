// The flow view as a library, for the demo, which serves it in its own process with its controls.
export { createApp } from './app.ts';
export type { FlowViewConfig } from './config.ts';
export { loadConfig } from './config.ts';
export type { AppDeps } from './deps.ts';
export { createDeps } from './deps.ts';
export type { DemoControls, DemoOutcome } from './domain/ports.ts';
