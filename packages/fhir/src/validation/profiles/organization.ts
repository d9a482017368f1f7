import type { Organization } from '@medplum/fhirtypes';
import { issue } from '../../outcomes.ts';
import { ODS_SYSTEM, SYSTEMS } from '../../systems.ts';
import { isValidOdsCode } from '../ods.ts';
import type { ProfileRules } from './common.ts';

/**
 * Organization: identified by a well-formed ODS code — or, for a region (an imaging network, which has
 * no ODS code of its own; the hub's directory lists them), by its region id.
 */
export const organizationRules: ProfileRules<Organization> = (org) => {
  const ods = (org.identifier ?? [])
    .map((identifier, i) => ({ identifier, i }))
    .filter(({ identifier }) => identifier.system === ODS_SYSTEM);
  if (ods.length === 0) {
    if (isRegionIdentified(org.identifier)) return [];
    return [
      issue({
        code: 'required',
        text: `An ODS code is required (identifier with system ${ODS_SYSTEM})`,
        expression: 'Organization.identifier',
      }),
    ];
  }
  return ods
    .filter(({ identifier }) => !isValidOdsCode(identifier.value))
    .map(({ identifier, i }) =>
      issue({
        code: 'value',
        text: `'${identifier.value ?? ''}' is not an ODS code (3–10 upper-case letters or digits)`,
        expression: `Organization.identifier[${i}].value`,
      }),
    );
};

/** True when an identifier list (of an Organization or a Reference) names a region by its id. */
export function isRegionIdentified(identifiers: Organization['identifier'] | undefined): boolean {
  return (identifiers ?? []).some((i) => i.system === SYSTEMS.region && typeof i.value === 'string' && i.value !== '');
}
