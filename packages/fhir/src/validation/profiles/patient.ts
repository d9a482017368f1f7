import type { Patient } from '@medplum/fhirtypes';
import { issue } from '../../outcomes.ts';
import { NHS_NUMBER_SYSTEM } from '../../systems.ts';
import { isValidNhsNumber } from '../nhs-number.ts';
import type { ProfileRules } from './common.ts';

/** Patient: identified by an NHS number that passes Modulus 11 (requirement 1). */
export const patientRules: ProfileRules<Patient> = (patient) => {
  const identifiers = patient.identifier ?? [];
  const nhs = identifiers
    .map((identifier, i) => ({ identifier, i }))
    .filter(({ identifier }) => identifier.system === NHS_NUMBER_SYSTEM);
  if (nhs.length === 0) {
    return [
      issue({
        code: 'required',
        text: `An NHS number is required (identifier with system ${NHS_NUMBER_SYSTEM})`,
        expression: 'Patient.identifier',
      }),
    ];
  }
  return nhs
    .filter(({ identifier }) => !isValidNhsNumber(identifier.value))
    .map(({ identifier, i }) =>
      issue({
        code: 'business-rule',
        text: `'${identifier.value ?? ''}' is not a valid NHS number (10 digits passing Modulus 11)`,
        expression: `Patient.identifier[${i}].value`,
      }),
    );
};
