import type { Patient, Reference } from '@medplum/fhirtypes';
import { NHS_NUMBER_SYSTEM } from '../systems.ts';

/**
 * NHS number Modulus 11 (DOMAIN.md §5): weight digits 1–9 by 10 down to 2, take 11 − (sum mod 11);
 * 11 becomes 0, 10 means no valid number has these nine digits; the result must equal digit 10.
 * Exactly ten digits, no spaces or separators.
 */

/** The check digit for nine leading digits, or undefined when none exists (the result is 10). */
export function nhsNumberCheckDigit(firstNine: string): number | undefined {
  if (!/^\d{9}$/.test(firstNine)) return undefined;
  let sum = 0;
  for (let i = 0; i < 9; i++) sum += Number(firstNine[i]) * (10 - i);
  const check = 11 - (sum % 11);
  if (check === 10) return undefined;
  return check === 11 ? 0 : check;
}

export function isValidNhsNumber(value: unknown): value is string {
  if (typeof value !== 'string' || !/^\d{10}$/.test(value)) return false;
  const check = nhsNumberCheckDigit(value.slice(0, 9));
  return check !== undefined && check === Number(value[9]);
}

/**
 * Numbers beginning 999 are reserved for test and demo data and never issued to a patient (source:
 * the `nhs-number` crate's range notes, docs.rs/crate/nhs-number, "Testable range 999 000 0000 –
 * 999 999 9999"). The n-th valid number of that range, n = 0, 1, 2…: distinct n give distinct numbers.
 */
export function testNhsNumber(n: number): string {
  if (!Number.isInteger(n) || n < 0) throw new RangeError(`testNhsNumber: n must be a non-negative integer, got ${n}`);
  let seen = -1;
  for (let body = 0; body <= 999_999; body++) {
    const firstNine = `999${String(body).padStart(6, '0')}`;
    const check = nhsNumberCheckDigit(firstNine);
    if (check === undefined) continue;
    if (++seen === n) return `${firstNine}${check}`;
  }
  throw new RangeError(`testNhsNumber: only ${seen + 1} valid test NHS numbers exist`);
}

/** A random valid test NHS number (999 range); `random` returns [0, 1) like Math.random. */
export function randomTestNhsNumber(random: () => number = Math.random): string {
  for (;;) {
    const firstNine = `999${String(Math.floor(random() * 1_000_000)).padStart(6, '0')}`;
    const check = nhsNumberCheckDigit(firstNine);
    if (check !== undefined) return `${firstNine}${check}`;
  }
}

/** The NHS number of a Patient, or of a logical patient reference. */
export function nhsNumberOf(subject: Patient | Reference | undefined): string | undefined {
  // Another service's answer is not validated: a subject that is not an object has no NHS number.
  if (!subject || typeof subject !== 'object') return undefined;
  const identifiers =
    'resourceType' in subject && subject.resourceType === 'Patient'
      ? subject.identifier
      : [(subject as Reference).identifier];
  return identifiers?.find((i) => i?.system === NHS_NUMBER_SYSTEM && typeof i.value === 'string')?.value;
}

/** A logical reference to a patient by NHS number. */
export function patientReferenceByNhsNumber(nhsNumber: string, display?: string): Reference<Patient> {
  return {
    type: 'Patient',
    identifier: { system: NHS_NUMBER_SYSTEM, value: nhsNumber },
    ...(display ? { display } : {}),
  };
}
