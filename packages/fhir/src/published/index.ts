export { profileDefinitions } from './structure-definitions.ts';
export {
  expandOptionsOf,
  expandValueSet,
  IMAGING_PROCEDURES_VALUE_SET,
  imagingProceduresValueSet,
  publishedValueSets,
} from './value-sets.ts';
export type { ExpandOptions } from './value-sets.ts';
