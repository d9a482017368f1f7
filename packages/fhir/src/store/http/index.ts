export { HttpStore, HTTP_NORMALISATIONS } from './http-store.ts';
export type { HttpStoreOptions } from './http-store.ts';
