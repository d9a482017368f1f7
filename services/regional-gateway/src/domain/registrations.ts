import type { Endpoint, Patient } from '@medplum/fhirtypes';
import { forbidden, issue, NHS_NUMBER_SYSTEM, OutcomeError, Problems, retryOnConflict, searchOne } from '@imaging/fhir';
import type { Caller } from '@imaging/fhir';
import { createdAudit, patientChangeAudit } from './change-audits.ts';
import { identifierQuery } from './identifiers.ts';
import { labelledAs, withAccess } from './labels.ts';
import type { GatewayDeps } from './ports.ts';
import { registeredBy, withPracticeNamedBy } from './registered-practice.ts';
import { admitWellFormed, assertOwnIdentifier } from './references.ts';
import type { Recorded } from './results.ts';
import { entryResource, isCreated, runTransaction } from './transactions.ts';

/**
 * A referrer registers the patient it is about to order for. A patient is matched on NHS number:
 * registering one the region already holds gives the caller's organisation access to that record
 * (it already knows the NHS number) and records the GP practice it names, as named by it
 * (registered-practice.ts); nothing else of the record changes.
 */
export async function registerPatient(
  deps: GatewayDeps,
  caller: Caller,
  incoming: Patient,
  /** The request's X-Correlation-ID, for the audit trail (a fresh one when called without a request). */
  correlationId: string = crypto.randomUUID(),
): Promise<Recorded<Patient>> {
  if (caller.kind !== 'referrer' || !caller.organisation)
    throw new OutcomeError(forbidden('Only a referrer may register a patient'));
  const organisation = caller.organisation;
  const problems = new Problems();
  const { admitted: patient, findings } = await admitWellFormed(deps, caller, incoming, problems);
  const nhs = patient.identifier?.find((i) => i.system === NHS_NUMBER_SYSTEM && i.value);
  if (!nhs)
    problems.add(
      issue({
        code: 'required',
        text: `A patient needs an NHS number (identifier system ${NHS_NUMBER_SYSTEM})`,
        expression: 'Patient.identifier',
      }),
    );
  problems.add(...findings.rules);
  problems.throwIfAny();
  if (!nhs) throw new Error('registerPatient: a missing NHS number was not reported');
  const registered = await retryOnConflict(async () => {
    const existing = await searchOne<Patient>(deps.store, 'Patient', identifierQuery(nhs));
    if (!existing) {
      const url = `urn:uuid:${crypto.randomUUID()}`;
      const response = await runTransaction(deps.store, [
        {
          fullUrl: url,
          resource: labelledAs(registeredBy(patient, organisation), [organisation]),
          request: { method: 'POST', url: 'Patient', ifNoneExist: identifierQuery(nhs) },
        },
        createdAudit(deps, caller, {
          subtype: 'patient-registered',
          description: 'A patient registered by a referrer',
          what: [],
          identifier: nhs,
          patient: { reference: url },
          correlationId,
        }),
      ]);
      return { resource: entryResource<Patient>(response, 0), created: isCreated(response, 0) };
    }
    const named = withPracticeNamedBy(existing, patient, organisation);
    const labelled = withAccess(named, [organisation]);
    if (labelled === existing) return { resource: existing, created: false };
    const reference = { reference: `Patient/${existing.id}` };
    const response = await runTransaction(deps.store, [
      {
        resource: labelled,
        request: { method: 'PUT', url: reference.reference, ifMatch: `W/"${existing.meta?.versionId}"` },
      },
      ...(labelled !== named
        ? [patientChangeAudit(deps, caller, reference, correlationId, 'patient-access-granted')]
        : []),
      ...(named !== existing
        ? [patientChangeAudit(deps, caller, reference, correlationId, 'patient-practice-named')]
        : []),
    ]);
    return { resource: entryResource<Patient>(response, 0), created: false };
  });
  // The next order for this patient needs no search (patients.ts), its version asserted as it is stored.
  deps.patients?.remember(registered.resource);
  return registered;
}

/** An imaging provider registers the DICOMweb endpoint its studies point to. */
export async function registerEndpoint(
  deps: GatewayDeps,
  caller: Caller,
  incoming: Endpoint,
  correlationId: string = crypto.randomUUID(),
): Promise<Recorded<Endpoint>> {
  if (caller.kind !== 'provider' || !caller.organisation)
    throw new OutcomeError(forbidden('Only an imaging provider may register an endpoint'));
  const problems = new Problems();
  const { admitted: endpoint, findings } = await admitWellFormed(deps, caller, incoming, problems);
  const identifier = endpoint.identifier?.find((i) => i.system && i.value);
  if (identifier) await problems.check(() => assertOwnIdentifier(deps, caller, endpoint, identifier));
  problems.add(...findings.rules);
  problems.throwIfAny();
  const url = `urn:uuid:${crypto.randomUUID()}`;
  const response = await runTransaction(deps.store, [
    {
      fullUrl: url,
      resource: labelledAs(endpoint, [caller.organisation]),
      request: { method: 'POST', url: 'Endpoint', ...(identifier ? { ifNoneExist: identifierQuery(identifier) } : {}) },
    },
    createdAudit(deps, caller, {
      subtype: 'endpoint-registered',
      description: 'A DICOMweb endpoint registered by an imaging provider',
      what: [{ reference: url }],
      ...(identifier ? { identifier } : {}),
      correlationId,
    }),
  ]);
  return { resource: entryResource<Endpoint>(response, 0), created: isCreated(response, 0) };
}
