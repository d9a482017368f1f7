export { checkSearch } from './check.ts';
export type { CheckedSearch } from './check.ts';
export {
  DATE_PREFIXES,
  MODIFIERS_BY_TYPE,
  RESULT_PARAMETERS,
  ruleProblems,
  searchCapability,
} from './rules.ts';
export type {
  DatePrefix,
  ParamRule,
  SearchCapability,
  SearchModifier,
  SearchParamType,
  SearchRules,
  TypeSearchRules,
} from './rules.ts';
