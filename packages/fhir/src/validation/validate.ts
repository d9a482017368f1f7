import type { Bundle, OperationOutcomeIssue, Resource } from '@medplum/fhirtypes';
import { invalid, issue, OutcomeError, unprocessableIssues } from '../outcomes.ts';
import { baseFindings, baseFindingsWithBuiltElement, urnTypesOf } from './base.ts';
import type { BaseFindings } from './base.ts';
import type { ValidationContext } from './context.ts';
import { PROFILE_URLS, profileIssues } from './profiles/index.ts';

export interface ValidationFindings {
  /** Base R4 structure problems: the resource is not well-formed FHIR (400). */
  structure: OperationOutcomeIssue[];
  /** Required-binding, profile and business-rule problems (422). */
  rules: OperationOutcomeIssue[];
}

const isError = (i: OperationOutcomeIssue) => i.severity === 'error' || i.severity === 'fatal';

/** Everything wrong with a resource, split by kind. */
export function validationFindings(resource: Resource, ctx: ValidationContext = {}): ValidationFindings {
  const base = baseFindings(resource);
  return withProfileRules(base, profileRuleIssues(resource, ctx, base));
}

/**
 * Everything wrong with `changed`, a copy of `validated` (validated just before) in which the caller has
 * set the top-level element `element` to a value it built and knows to be valid R4 there: the base
 * findings carry over from `validated` outside that element (see baseFindingsWithBuiltElement), and our
 * profile's rules run on `changed` in full. One validation where validating both would take two.
 */
export function validationFindingsWithBuiltElement(
  validated: Resource,
  changed: Resource,
  element: string,
  ctx: ValidationContext = {},
): ValidationFindings {
  const base = baseFindingsWithBuiltElement(validated, changed, element);
  return withProfileRules(base, profileRuleIssues(changed, ctx, base));
}

/**
 * Everything wrong with a Bundle and the resources it carries: base R4 of the whole, which covers each
 * carried resource as if it were validated alone (see baseFindings), and our profiles' rules for the
 * entries at `profiled`, their `urn:uuid:` references to other entries resolved by full URL. Issues are
 * at `Bundle.entry[i].resource…`. For a receiver that stores copies of those entries: one validation of
 * the message instead of one of the message and one of each copy.
 */
export function bundleFindings(bundle: Bundle, profiled: readonly number[]): ValidationFindings {
  const base = baseFindings(bundle);
  const entries = Array.isArray(bundle.entry) ? bundle.entry : [];
  const urnTypes = urnTypesOf(entries);
  const profile = profiled.flatMap((i) => {
    const resource = entries[i]?.resource;
    return resource ? profileRuleIssues(resource, { urnTypes }, base).map((issue) => atEntry(issue, i, resource)) : [];
  });
  return withProfileRules(base, profile);
}

/** Our profile's rules for a resource (and its claimed profiles), as far as its base findings let them run. */
function profileRuleIssues(resource: Resource, ctx: ValidationContext, base: BaseFindings): OperationOutcomeIssue[] {
  const profile: OperationOutcomeIssue[] = [];
  try {
    profile.push(...profileMismatchIssues(resource));
    profile.push(...profileIssues(resource, { ...ctx, resource }));
  } catch (err) {
    // Rules assume base R4 structure; on a malformed resource the structure issues already say why.
    if (!base.structure.some(isError)) throw err;
  }
  return profile;
}

function withProfileRules(base: BaseFindings, profile: OperationOutcomeIssue[]): ValidationFindings {
  // One issue per problem: a place already reported (a structure error, or an earlier rule) is not
  // reported again. Our profile's reference rules come before Medplum's generic reference findings.
  const seen = new Set(base.structure.filter(isError).flatMap((i) => i.expression ?? []));
  const rules = [...base.codes, ...profile, ...base.references].filter((i) => {
    const at = i.expression?.[0];
    if (at === undefined) return true;
    if (seen.has(at)) return false;
    seen.add(at);
    return true;
  });
  return { structure: base.structure, rules };
}

/** An issue about an entry's resource, at its place in the Bundle: `Task.status` → `Bundle.entry[2].resource.status`. */
export function atEntry(issue: OperationOutcomeIssue, index: number, resource: Resource): OperationOutcomeIssue {
  const base = `Bundle.entry[${index}].resource`;
  const type = resource.resourceType;
  const expression = (issue.expression ?? [type]).map((e) => {
    if (e === type) return base;
    if (e.startsWith(`${type}.`)) return `${base}${e.slice(type.length)}`;
    return `${base}.${e}`;
  });
  return { ...issue, expression };
}

/**
 * Every issue with a resource: base R4 (Medplum's validator, required bindings, id format) and the
 * project's profile for its type. Each issue has a severity, a code and a FHIRPath `expression`.
 */
export function validationIssues(resource: Resource, ctx: ValidationContext = {}): OperationOutcomeIssue[] {
  const { structure, rules } = validationFindings(resource, ctx);
  return [...structure, ...rules];
}

/**
 * Throws a 400 listing every structure problem (unknown elements, wrong JSON types, ill-formed ids) and
 * nothing else. For code that reads a client's resource before it is complete enough for `assertValid`:
 * it may then rely on each element having its R4 JSON type (a list is an array, a reference an object).
 */
export function assertWellFormed(resource: unknown): void {
  const errors = wellFormedIssues(resource);
  if (errors.length) throw new OutcomeError(invalid(errors));
}

/** The structure errors `assertWellFormed` would throw, for a caller that reports them with its own. */
export function wellFormedIssues(resource: unknown): OperationOutcomeIssue[] {
  return baseFindings(resource).structure.filter(isError);
}

/**
 * Throws an OutcomeError listing every problem: 400 when the resource is not well-formed base R4,
 * else 422 when it breaks a required binding, a profile or a business rule. Warnings alone pass.
 */
export function assertValid(resource: Resource, ctx: ValidationContext = {}): void {
  const error = outcomeErrorFor(validationFindings(resource, ctx));
  if (error) throw error;
}

/** The error for a set of findings (400 for structure, else 422), or undefined when nothing is an error. */
export function outcomeErrorFor({ structure, rules }: ValidationFindings): OutcomeError | undefined {
  if (structure.some(isError)) return new OutcomeError(invalid([...structure, ...rules]));
  if (rules.some(isError)) return new OutcomeError(unprocessableIssues([...structure, ...rules]));
  return undefined;
}

/** A resource must not claim one of our profiles for another resource type. */
function profileMismatchIssues(resource: Resource): OperationOutcomeIssue[] {
  const ours = new Map<string, string>(Object.entries(PROFILE_URLS).map(([type, url]) => [url, type]));
  return (resource.meta?.profile ?? []).flatMap((url, i) => {
    const type = ours.get(url);
    return type && type !== resource.resourceType
      ? [
          issue({
            code: 'business-rule',
            text: `${url} is a profile of ${type}, not ${resource.resourceType}`,
            expression: `${resource.resourceType}.meta.profile[${i}]`,
          }),
        ]
      : [];
  });
}
