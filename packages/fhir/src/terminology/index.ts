export * from './r4-codes.ts';
export * from './imaging-procedures.ts';
export * from './alert-categories.ts';
export * from './task-codes.ts';
export * from './alert-workflow.ts';
export * from './turnaround.ts';
