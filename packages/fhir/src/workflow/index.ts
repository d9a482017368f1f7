export * from './task-lifecycle.ts';
export type { PlacedOrder } from './orders.ts';
export { caseOrganisations } from './orders.ts';
