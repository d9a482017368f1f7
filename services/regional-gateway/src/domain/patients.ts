import type { Patient, Reference } from '@medplum/fhirtypes';
import { isAbsent, NHS_NUMBER_SYSTEM, OutcomeError, searchOne, unprocessable } from '@imaging/fhir';
import type { Caller, WithId } from '@imaging/fhir';
import type { GatewayDeps } from './ports.ts';
import { isVisible, readVisible } from './reads.ts';

/**
 * The local Patient a reference points to, among those the caller may read: a literal `Patient/id`, or
 * a logical reference by NHS number. Any other reference is a 422 at `expression`, the same whether the
 * patient is missing or another organisation's, so its existence is not disclosed.
 *
 * By NHS number, the Patient may be the copy this process remembers (deps.patients) rather than a fresh
 * search: the caller must then act on it only in a write that asserts its version (If-Match on its
 * versionId, in the same transaction), and forget it when that write fails with 412 (placeOrder does).
 * A refusal is always decided from a fresh search, since the remembered copy may predate a registration.
 */
export async function resolvePatient(
  deps: GatewayDeps,
  caller: Caller,
  reference: Reference | undefined,
  expression: string,
): Promise<WithId<Patient>> {
  const literal = reference?.reference;
  if (literal?.startsWith('Patient/')) {
    try {
      return await readVisible<Patient>(deps, caller, 'Patient', literal.slice('Patient/'.length));
    } catch (err) {
      // A malformed id (400 on a read) is as much "not a patient you may read" as an unknown one.
      if (isAbsent(err) || (err instanceof OutcomeError && err.status === 400)) {
        throw new OutcomeError(unprocessable(`${literal} is not a patient you may read here`, expression));
      }
      throw err;
    }
  }
  const identifier = reference?.identifier;
  if (identifier?.system === NHS_NUMBER_SYSTEM && identifier.value) {
    const remembered = deps.patients?.get(identifier.value);
    if (remembered && isVisible(caller, remembered)) return remembered;
    const found = await searchOne<Patient>(deps.store, 'Patient', {
      identifier: `${NHS_NUMBER_SYSTEM}|${identifier.value}`,
    });
    if (found) deps.patients?.remember(found);
    else deps.patients?.forget(identifier.value);
    if (found && isVisible(caller, found)) return found;
    throw new OutcomeError(
      unprocessable(
        `No patient with NHS number ${identifier.value} that you may read here: register the patient first`,
        expression,
      ),
    );
  }
  throw new OutcomeError(unprocessable('Expected a reference to a Patient, literal or by NHS number', expression));
}
