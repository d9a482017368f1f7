import type { Endpoint, Patient } from '@medplum/fhirtypes';
import { forbidden, issue, NHS_NUMBER_SYSTEM, OutcomeError, Problems, retryOnConflict, searchOne } from '@imaging/fhir';
import type { WithId, Caller } from '@imaging/fhir';
import { identifierQuery } from './identifiers.ts';
import { labelledAs, withAccess } from './labels.ts';
import type { GatewayDeps } from './ports.ts';
import { admitWellFormed, assertOwnIdentifier } from './references.ts';
import type { Recorded } from './results.ts';

/**
 * A referrer registers the patient it is about to order for. A patient is matched on NHS number:
 * registering one the region already holds gives the caller's organisation access to that record
 * (it already knows the NHS number) and returns it, unchanged otherwise.
 */
export async function registerPatient(
  deps: GatewayDeps,
  caller: Caller,
  incoming: Patient,
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
  return retryOnConflict(async () => {
    const existing = await searchOne<Patient>(deps.store, 'Patient', identifierQuery(nhs));
    if (!existing) {
      const { resource, created } = await deps.store.create(labelledAs(patient, [organisation]), {
        ifNoneExist: identifierQuery(nhs),
      });
      return { resource, created };
    }
    const labelled = withAccess(existing, [organisation]);
    if (labelled === existing) return { resource: existing, created: false };
    return { resource: await deps.store.update(labelled, { ifMatch: existing.meta?.versionId }), created: false };
  });
}

/** An imaging provider registers the DICOMweb endpoint its studies point to. */
export async function registerEndpoint(
  deps: GatewayDeps,
  caller: Caller,
  incoming: Endpoint,
): Promise<Recorded<Endpoint>> {
  if (caller.kind !== 'provider' || !caller.organisation)
    throw new OutcomeError(forbidden('Only an imaging provider may register an endpoint'));
  const problems = new Problems();
  const { admitted: endpoint, findings } = await admitWellFormed(deps, caller, incoming, problems);
  const identifier = endpoint.identifier?.find((i) => i.system && i.value);
  if (identifier) await problems.check(() => assertOwnIdentifier(deps, caller, endpoint, identifier));
  problems.add(...findings.rules);
  problems.throwIfAny();
  const labelled = labelledAs(endpoint, [caller.organisation]);
  const { resource, created } = await deps.store.create(
    labelled,
    identifier ? { ifNoneExist: identifierQuery(identifier) } : {},
  );
  return { resource: resource as WithId<Endpoint>, created };
}
