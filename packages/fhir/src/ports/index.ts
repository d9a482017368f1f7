export * from './caller.ts';
export * from './clock.ts';
export * from './logger.ts';
