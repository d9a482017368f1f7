export * from './task-lifecycle.ts';
export type { PlacedOrder } from './orders.ts';
export { caseReaders } from './orders.ts';
