import type { Patient, Reference } from '@medplum/fhirtypes';
import { NHS_NUMBER_SYSTEM, OutcomeError, searchOne, unprocessable } from '@imaging/fhir';
import type { FhirStore, WithId } from '@imaging/fhir';

/**
 * The local Patient a reference points to: a literal `Patient/id`, or a logical reference by NHS
 * number. A reference to no local patient is a 422 at `expression`.
 */
export async function resolvePatient(
  store: FhirStore,
  reference: Reference | undefined,
  expression: string,
): Promise<WithId<Patient>> {
  const literal = reference?.reference;
  if (literal?.startsWith('Patient/')) {
    try {
      return await store.read<Patient>('Patient', literal.slice('Patient/'.length));
    } catch (err) {
      if (err instanceof OutcomeError && (err.status === 404 || err.status === 410)) {
        throw new OutcomeError(unprocessable(`${literal} does not exist in this region`, expression));
      }
      throw err;
    }
  }
  const identifier = reference?.identifier;
  if (identifier?.system === NHS_NUMBER_SYSTEM && identifier.value) {
    const found = await searchOne<Patient>(store, 'Patient', {
      identifier: `${NHS_NUMBER_SYSTEM}|${identifier.value}`,
    });
    if (found) return found;
    throw new OutcomeError(unprocessable(`No patient with NHS number ${identifier.value} in this region`, expression));
  }
  throw new OutcomeError(unprocessable('Expected a reference to a Patient, literal or by NHS number', expression));
}
