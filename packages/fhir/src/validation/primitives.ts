import { validationRegexes } from '@medplum/core';
import { isStorableText } from './base.ts';

/** The longest R4 string Medplum's validator accepts (1 MB, https://hl7.org/fhir/R4/datatypes.html#string). */
const MAX_STRING_LENGTH = 1024 * 1024;

/**
 * A value Medplum's validator accepts for an R4 `string` or `url` (an `id` is `isFhirId`'s): a JS string with non-whitespace content, at most 1 MB, matching the type's pattern. The same
 * checks as its `validateString`, with its own patterns, and our base validation's: text a store can keep
 * (no lone surrogate). One stricter: Medplum takes an empty string for an absent element and lets it
 * through, where this refuses it. For code that puts a value from
 * outside into a resource it builds, and would otherwise have the whole resource validated for it.
 */
function isFhirPrimitive(value: unknown, type: 'string' | 'url'): value is string {
  if (typeof value !== 'string' || !value.trim() || value.length > MAX_STRING_LENGTH) return false;
  return (validationRegexes[type] as RegExp).test(value) && isStorableText(value);
}

/** An R4 `string`: not empty nor only whitespace, no control characters but tab, CR and LF. */
export function isFhirPrimitiveString(value: unknown): value is string {
  return isFhirPrimitive(value, 'string');
}

/** An absolute http(s) URL: what our Endpoint profile requires of `Endpoint.address`. */
export function isHttpUrl(value: string): boolean {
  try {
    const url = new URL(value);
    return url.protocol === 'https:' || url.protocol === 'http:';
  } catch {
    return false;
  }
}

/** A valid `Endpoint.address`: an R4 `url` (no whitespace) and, by our profile, an absolute http(s) URL. */
export function isEndpointAddress(value: unknown): value is string {
  return isFhirPrimitive(value, 'url') && isHttpUrl(value);
}
