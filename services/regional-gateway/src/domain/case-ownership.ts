import type { Task } from '@medplum/fhirtypes';
import { CODE_SYSTEMS, odsOf, searchAll, SYSTEMS, token } from '@imaging/fhir';
import type { FhirStore } from '@imaging/fhir';

/**
 * A case (X-Correlation-ID) is its requester's: every order it holds is one organisation's. Callers name
 * cases, and the organisations of a case's orders may read its whole trail, so an order of another
 * organisation joining a case it guessed the name of would disclose that case to it. Checked when an
 * order is placed and again when a routed order arrives.
 *
 * Returns the requesters other than `requester` of the orders this store holds in the case: none for a
 * new case, or one of `requester`'s own.
 */
export async function otherRequestersOfCase(
  store: FhirStore,
  correlationId: string,
  requester: string,
): Promise<string[]> {
  const fulfilments = await searchAll<Task>(store, 'Task', {
    'group-identifier': token(SYSTEMS.correlation, correlationId),
    code: token(CODE_SYSTEMS.taskCode, 'fulfil'),
  });
  const requesters = new Set(fulfilments.map((task) => odsOf(task.requester) ?? '(none)'));
  requesters.delete(requester);
  return [...requesters];
}
