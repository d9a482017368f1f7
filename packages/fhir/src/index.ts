export * from './outcomes.ts';
export * from './systems.ts';
export * from './definitions.ts';
export * from './store/port.ts';
export * from './store/helpers.ts';
export { SqliteStore } from './store/sqlite/sqlite-store.ts';
export type { SqliteStoreOptions } from './store/sqlite/sqlite-store.ts';
