export * from './task-lifecycle.ts';
