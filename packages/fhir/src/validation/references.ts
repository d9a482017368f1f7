import type { OperationOutcomeIssue, Reference } from '@medplum/fhirtypes';
import { issue } from '../outcomes.ts';
import { NHS_NUMBER_SYSTEM, ODS_SYSTEM, SYSTEMS } from '../systems.ts';
import type { ValidationContext } from './context.ts';
import { isValidNhsNumber } from './nhs-number.ts';
import { isValidOdsCode } from './ods.ts';

/** The resource type a business identifier system identifies, for logical references without `type`. */
const TYPE_OF_IDENTIFIER_SYSTEM: Readonly<Record<string, string>> = {
  [NHS_NUMBER_SYSTEM]: 'Patient',
  [ODS_SYSTEM]: 'Organization',
  [SYSTEMS.placerOrder]: 'ServiceRequest',
  [SYSTEMS.task]: 'Task',
  [SYSTEMS.report]: 'DiagnosticReport',
};

// `Type/id` or `Type/id/_history/vid`, relative or at the end of an absolute URL.
const LITERAL = /(?:^|\/)([A-Z][A-Za-z]+)\/([A-Za-z0-9\-.]{1,64})(?:\/_history\/[A-Za-z0-9\-.]{1,64})?$/;

export interface ReferenceTarget {
  /** The target's resource type, when it can be told; undefined for an unresolved `urn:uuid:` in a transaction. */
  type?: string;
  /** Why the reference cannot be resolved, with the element it is about. */
  problem?: { text: string; at: 'reference' | 'identifier' | 'type' | '' };
}

/** What a reference points at, as far as the reference (and the enclosing transaction) tell. */
export function referenceTarget(ref: Reference, ctx: ValidationContext = {}): ReferenceTarget {
  const literal = ref.reference;
  let type: string | undefined;
  if (typeof literal === 'string') {
    if (literal.startsWith('urn:uuid:')) {
      if (!ctx.urnTypes)
        return { problem: { text: `${literal} can only be resolved inside a transaction Bundle`, at: 'reference' } };
      type = ctx.urnTypes.get(literal);
    } else if (literal.startsWith('#')) {
      const contained = (ctx.resource as { contained?: { id?: string; resourceType: string }[] } | undefined)
        ?.contained;
      type = contained?.find((c) => c.id === literal.slice(1))?.resourceType;
      if (!type) return { problem: { text: `No contained resource with id ${literal.slice(1)}`, at: 'reference' } };
    } else {
      type = LITERAL.exec(literal)?.[1];
      if (!type)
        return { problem: { text: `'${literal}' is not a resolvable reference (expected Type/id)`, at: 'reference' } };
    }
    if (ref.type && type && ref.type !== type) {
      return {
        type,
        problem: { text: `Reference.type '${ref.type}' contradicts the reference '${literal}'`, at: 'type' },
      };
    }
    return type ? { type } : {};
  }
  if (ref.identifier) {
    type = ref.type ?? (ref.identifier.system ? TYPE_OF_IDENTIFIER_SYSTEM[ref.identifier.system] : undefined);
    if (!type)
      return { problem: { text: 'A logical reference needs a type or a known identifier system', at: 'type' } };
    return { type };
  }
  return { problem: { text: 'A reference needs a literal reference or an identifier', at: '' } };
}

function at(expression: string, part: string): string {
  return part ? `${expression}.${part}` : expression;
}

/** Issues when `ref` is missing (if required) or does not point to one of `expected`. */
export function referenceIssues(
  ref: Reference | undefined,
  expected: readonly string[],
  expression: string,
  ctx: ValidationContext,
  required = true,
): OperationOutcomeIssue[] {
  if (!ref) {
    return required
      ? [issue({ code: 'required', text: `A reference to ${expected.join(' or ')} is required`, expression })]
      : [];
  }
  const target = referenceTarget(ref, ctx);
  if (target.problem)
    return [issue({ code: 'business-rule', text: target.problem.text, expression: at(expression, target.problem.at) })];
  if (target.type && !expected.includes(target.type)) {
    return [
      issue({ code: 'business-rule', text: `Must reference ${expected.join(' or ')}, not ${target.type}`, expression }),
    ];
  }
  return [];
}

/**
 * A patient reference: a literal reference to a Patient, or a logical one by NHS number (which must
 * pass Modulus 11). Both may be present.
 */
export function patientReferenceIssues(
  ref: Reference | undefined,
  expression: string,
  ctx: ValidationContext,
  required = true,
): OperationOutcomeIssue[] {
  const issues = referenceIssues(ref, ['Patient'], expression, ctx, required);
  if (!ref || issues.length > 0) return issues;
  const identifier = ref.identifier;
  if (identifier) {
    if (identifier.system === NHS_NUMBER_SYSTEM) {
      if (!isValidNhsNumber(identifier.value)) {
        issues.push(
          issue({
            code: 'business-rule',
            text: `'${identifier.value ?? ''}' is not a valid NHS number (Modulus 11)`,
            expression: `${expression}.identifier.value`,
          }),
        );
      }
    } else if (!ref.reference) {
      issues.push(
        issue({
          code: 'business-rule',
          text: `A logical patient reference must use an NHS number (${NHS_NUMBER_SYSTEM})`,
          expression: `${expression}.identifier.system`,
        }),
      );
    }
  }
  return issues;
}

/** True when a reference points (or claims to point) at an Organization. */
export function isOrganisationReference(ref: Reference, ctx: ValidationContext = {}): boolean {
  return (
    ref.type === 'Organization' ||
    ref.identifier?.system === ODS_SYSTEM ||
    referenceTarget(ref, ctx).type === 'Organization'
  );
}

/**
 * An organisation reference by ODS code: `identifier` with the ODS system and a well-formed code. It may
 * also carry a literal `reference`, which must then point to an Organization.
 */
export function odsReferenceIssues(
  ref: Reference | undefined,
  expression: string,
  ctx: ValidationContext,
  required = true,
): OperationOutcomeIssue[] {
  const issues = referenceIssues(ref, ['Organization'], expression, ctx, required);
  if (!ref || issues.length > 0) return issues;
  if (ref.identifier?.system !== ODS_SYSTEM) {
    return [
      issue({
        code: 'business-rule',
        text: `An organisation reference must carry its ODS code (identifier system ${ODS_SYSTEM})`,
        expression,
      }),
    ];
  }
  if (!isValidOdsCode(ref.identifier.value)) {
    return [
      issue({
        code: 'value',
        text: `'${ref.identifier.value ?? ''}' is not an ODS code (3–10 upper-case letters or digits)`,
        expression: `${expression}.identifier.value`,
      }),
    ];
  }
  return [];
}

/** For references that may point at several kinds of actor: if it is an organisation, it must be by ODS. */
export function actorReferenceIssues(
  ref: Reference | undefined,
  expression: string,
  ctx: ValidationContext,
): OperationOutcomeIssue[] {
  if (!ref || !isOrganisationReference(ref, ctx)) return [];
  return odsReferenceIssues(ref, expression, ctx);
}
