// For tests of other packages (`@imaging/config/testing`): checks that a service's README table and its
// environment schema agree.
export { documentationProblems, documentedVariables } from './documented-env.ts';
export type { DocumentedVariable } from './documented-env.ts';
