import type { DiagnosticReport, ImagingStudy, Patient, Reference, Resource } from '@medplum/fhirtypes';
import { isAbsent, NHS_NUMBER_SYSTEM, nhsNumberOf, OutcomeError, searchOne, unprocessable } from '@imaging/fhir';
import type { Caller, FhirStore, WithId } from '@imaging/fhir';
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

/** The stored Patient a literal `Patient/id` reference names (what the gateway stores as a subject); else undefined. */
export async function storedPatientOf(
  store: FhirStore,
  reference: Reference | undefined,
): Promise<WithId<Patient> | undefined> {
  const literal = reference?.reference;
  return literal?.startsWith('Patient/') ? store.read<Patient>('Patient', literal.slice('Patient/'.length)) : undefined;
}

/** The NHS number of the patient a stored study or report is for, if any. */
export async function nhsNumberOfSubject(
  deps: GatewayDeps,
  result: ImagingStudy | DiagnosticReport,
): Promise<string | undefined> {
  return nhsNumberOf(await storedPatientOf(deps.store, result.subject));
}

/**
 * A study or report as the national hub reads it, for a clinician in another region who found it through the
 * locator: its subject names the patient's NHS number too. A pointer's NHS number is what the region that
 * registered it said, so the hub checks the result against it before handing it over (a wrong-patient result).
 */
export async function asReadByHub<T extends Resource>(deps: GatewayDeps, resource: WithId<T>): Promise<WithId<T>> {
  if (resource.resourceType !== 'ImagingStudy' && resource.resourceType !== 'DiagnosticReport') return resource;
  const result = resource as WithId<ImagingStudy | DiagnosticReport>;
  const nhsNumber = await nhsNumberOfSubject(deps, result);
  // Only the stored Patient's NHS number is passed on, never an identifier the writer put on the subject.
  const { identifier: _written, ...subject } = result.subject ?? {};
  const named = nhsNumber ? { ...subject, identifier: { system: NHS_NUMBER_SYSTEM, value: nhsNumber } } : subject;
  return { ...result, subject: named } as WithId<T>;
}
