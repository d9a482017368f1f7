export { checkSearch, presentationProblem, resultParameterProblem, searchHandlingOf } from './check.ts';
export type { ChainToResolve, CheckedSearch, CheckOptions, SearchHandling, SearchSubset } from './check.ts';
export {
  DATE_PREFIXES,
  MODIFIERS_BY_TYPE,
  PRESENTATION_PARAMETERS,
  RESULT_PARAMETERS,
  ruleProblems,
  SUMMARY_VALUES,
  searchCapability,
  sortableParams,
} from './rules.ts';
export type {
  ChainRule,
  DatePrefix,
  ParamRule,
  SearchCapability,
  SearchModifier,
  SearchParamType,
  SearchRules,
  SummaryValue,
  TypeSearchRules,
} from './rules.ts';
export { elementNames, SUBSETTED, subsetted } from './subset.ts';
