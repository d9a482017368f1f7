export * from './authority.ts';
export * from './build.ts';
export * from './events.ts';
export * from './headers.ts';
export * from './parse.ts';
export * from './response.ts';
export * from './alert-authority.ts';
export * from './flow-events.ts';
