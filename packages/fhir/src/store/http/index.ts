export { HttpStore, HTTP_NORMALISATIONS } from './http-store.ts';
export type { HttpStoreOptions } from './http-store.ts';
export {
  customSearchParameters,
  ensureReferenceIdentifierSearchParameters,
  untilSearchable,
  untilReferenceIdentifiersSearchable,
  prepareReferenceIdentifierSearch,
  identifierParamCode,
  REFERENCE_IDENTIFIER_PARAMS,
  referenceIdentifierSearchParameter,
  referenceIdentifierSearchParameters,
  rewriteReferenceIdentifiers,
} from './reference-identifiers.ts';
