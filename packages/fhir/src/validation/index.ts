export * from './nhs-number.ts';
export * from './ods.ts';
export { isFhirId } from './base.ts';
export { isEndpointAddress, isFhirPrimitiveString } from './primitives.ts';
export type { ValidationContext } from './context.ts';
export {
  referenceTarget,
  referenceIssues,
  patientReferenceIssues,
  odsReferenceIssues,
  isOrganisationReference,
} from './references.ts';
export type { ReferenceTarget } from './references.ts';
export {
  validationIssues,
  assertValid,
  assertWellFormed,
  wellFormedIssues,
  validationFindings,
  validationFindingsWithBuiltElement,
  bundleFindings,
  outcomeErrorFor,
} from './validate.ts';
export type { ValidationFindings } from './validate.ts';
export { builtFromValidated, isBuiltFromValidated, validatingStore } from './validating-store.ts';
export type { ValidatingStoreOptions } from './validating-store.ts';
export {
  PROFILE_URLS,
  IMAGING_ENDPOINT_CONNECTION_TYPES,
  DIRECTORY_ENDPOINT_CONNECTION_TYPES,
  isDicomUidUrn,
} from './profiles/index.ts';
export type { ProfiledResourceType } from './profiles/index.ts';
export { VALIDATE_OPERATION, validateOperation } from './validate-operation.ts';
