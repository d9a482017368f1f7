import type { Organization, Reference } from '@medplum/fhirtypes';
import { ODS_SYSTEM } from '../systems.ts';

/**
 * ODS organisation codes. Format rule (our choice, documented): 3–10 upper-case letters or digits.
 * Real codes are 3 (trusts, e.g. RN1) to 6 characters (GP practices, e.g. N81001), with longer site
 * and sub-organisation codes; 10 leaves room without admitting free text. The same rule is used for
 * the deployment topology (packages/config).
 */
export const ODS_CODE_PATTERN = /^[A-Z0-9]{3,10}$/;

export function isValidOdsCode(value: unknown): value is string {
  return typeof value === 'string' && ODS_CODE_PATTERN.test(value);
}

/** The ODS code of an organisation reference or an Organization, when it carries one. */
export function odsOf(subject: Reference | Organization | undefined): string | undefined {
  if (!subject) return undefined;
  const identifiers =
    'resourceType' in subject && subject.resourceType === 'Organization'
      ? subject.identifier
      : [(subject as Reference).identifier];
  const value = identifiers?.find((i) => i?.system === ODS_SYSTEM)?.value;
  return typeof value === 'string' && value !== '' ? value : undefined;
}

/** A logical reference to an organisation by ODS code. */
export function odsReference(odsCode: string, display?: string): Reference<Organization> {
  return { type: 'Organization', identifier: { system: ODS_SYSTEM, value: odsCode }, ...(display ? { display } : {}) };
}
