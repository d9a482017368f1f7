import type { Atom } from '@medplum/core';
import { FhirPathAtom, getSearchParameterDetails, parseFhirPath, UnionAtom } from '@medplum/core';
import type { SearchParameter } from '@medplum/fhirtypes';

/**
 * Each expression text parsed once, whichever resource types share it. R4's common search parameters
 * (`identifier`, `name`, `address`, `telecom`…) have one expression that is a union over every type
 * they apply to; Medplum's `getSearchParameterDetails` parses it twice for each type, and also works
 * out type details the indexer does not use. Parsing was most of a fresh store's first writes of a
 * type (the hub's directory seeding). Keyed by the text, so a parameter loaded again (all of R4
 * replacing the subset) with the same expression gets the same atoms: the atoms are not changed by
 * evaluation.
 */
const parsed = new Map<string, FhirPathAtom>();

/**
 * A search parameter's expression for one resource type, as Medplum's `getParsedExpressionForResourceType`
 * gives it (the union's branches that mention `Type.`, or the whole expression when none does), from
 * the expression parsed once. `parsed-expression.test.ts` checks it prints as Medplum's for every
 * parameter of every type the services load.
 */
export function expressionForResourceType(resourceType: string, param: SearchParameter): FhirPathAtom {
  const expression = param.expression;
  // A derived `:identifier` parameter wraps its expression: Medplum's own path handles it.
  if (expression === undefined || param.code.endsWith(':identifier')) {
    return getSearchParameterDetails(resourceType, param).parsedExpression;
  }
  let whole = parsed.get(expression);
  if (!whole) {
    whole = parseFhirPath(expression);
    parsed.set(expression, whole);
  }
  const branches: Atom[] = [];
  branchesFor(resourceType, whole.child, branches);
  if (branches.length === 0) return whole;
  let result = branches[0] as Atom;
  for (const branch of branches.slice(1)) result = new UnionAtom(result, branch);
  return new FhirPathAtom('<original-not-available>', result);
}

/** The union's leaves that mention the type, in order (Medplum's `buildExpressionsForResourceType`). */
function branchesFor(resourceType: string, atom: Atom, out: Atom[]): void {
  if (atom instanceof UnionAtom) {
    branchesFor(resourceType, atom.left, out);
    branchesFor(resourceType, atom.right, out);
  } else if (atom.toString().includes(`${resourceType}.`)) {
    out.push(atom);
  }
}
