import type { OperationOutcomeIssue, Resource } from '@medplum/fhirtypes';
import { validateResource } from '@medplum/core';
import { loadFhirDefinitionsFor, resourceTypesIn } from '../definitions.ts';
import { issue } from '../outcomes.ts';
import type { BoundValues } from './required-bindings.ts';
import { requiredBindingIssues } from './required-bindings.ts';

const ID = /^[A-Za-z0-9\-.]{1,64}$/;

export interface BaseFindings {
  /** Base R4 structure: unknown or missing elements, wrong JSON types, invariants, ill-formed ids. */
  structure: OperationOutcomeIssue[];
  /** Values outside a required R4 binding. */
  codes: OperationOutcomeIssue[];
  /** References to a resource type the element does not allow (Medplum only warns; HAPI rejects them). */
  references: OperationOutcomeIssue[];
}

/** Base R4 validation with Medplum's validator, plus the checks it leaves out (required bindings, `id` format). */
export function baseFindings(resource: unknown): BaseFindings {
  if (
    !resource ||
    typeof resource !== 'object' ||
    Array.isArray(resource) ||
    typeof (resource as Resource).resourceType !== 'string'
  ) {
    return {
      structure: [
        issue({
          code: 'structure',
          text: 'Expected a FHIR resource: a JSON object with a resourceType',
          expression: 'resourceType',
        }),
      ],
      codes: [],
      references: [],
    };
  }
  loadFhirDefinitionsFor(resourceTypesIn(resource));
  const r = resource as Resource;
  const structure: OperationOutcomeIssue[] = [];
  const bound: BoundValues = {};
  try {
    structure.push(...validateResource(r, { collect: { tokens: bound } }));
  } catch (err) {
    const outcome = (err as { outcome?: { issue?: OperationOutcomeIssue[] } }).outcome;
    if (!outcome?.issue) throw err;
    structure.push(
      ...outcome.issue.map((i) =>
        i.expression?.length
          ? i
          : { ...i, expression: [i.details?.text === 'Invalid resource type' ? 'resourceType' : r.resourceType] },
      ),
    );
  }
  if (r.id !== undefined && (typeof r.id !== 'string' || !ID.test(r.id))) {
    structure.push(
      issue({
        code: 'structure',
        text: `'${String(r.id)}' is not a valid id (1–64 of A-Z a-z 0-9 - .)`,
        expression: `${r.resourceType}.id`,
      }),
    );
  }
  // Medplum cannot tell the type behind a `urn:uuid:` reference, and says so in a warning. Our own
  // rules resolve those against the transaction's entries; inside a stored Bundle (a message kept in
  // the outbox) they point at that Bundle's own entries. So only literal `Type/id` mismatches count.
  const isUrnWarning = (i: OperationOutcomeIssue) => !!i.details?.text?.includes('got "urn:uuid:');
  const isReferenceWarning = (i: OperationOutcomeIssue) =>
    i.severity === 'warning' && !!i.details?.text?.startsWith('Invalid reference') && !isUrnWarning(i);
  return {
    structure: structure.filter((i) => !isReferenceWarning(i) && !(i.severity === 'warning' && isUrnWarning(i))),
    codes: requiredBindingIssues(bound),
    references: structure
      .filter(isReferenceWarning)
      .map((i) => ({ ...i, severity: 'error' as const, code: 'business-rule' as const })),
  };
}
