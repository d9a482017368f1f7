import type { Resource, ServiceRequest, Task } from '@medplum/fhirtypes';
import type { WithId } from '../store/port.ts';
import { odsOf } from '../validation/ods.ts';

/**
 * An imaging order as placed with a regional gateway: the ServiceRequest and the fulfilment Task the
 * gateway made for it (what the referrer watches). The gateway returns it from placing an order; a
 * referrer's system gets the same from the API (the create's answer, then a Task search on its focus).
 */
export interface PlacedOrder {
  serviceRequest: WithId<ServiceRequest>;
  task: WithId<Task>;
  /** False when the same order (same placer order number) was placed before: nothing new was stored. */
  created: boolean;
}

/**
 * The organisations a case is between, from its stored orders: each order's requester and performer (ODS
 * codes). Who may read a case's trail as its own organisation is decided from this, at the gateway and at
 * the hub alike, never from what a request says.
 */
export function caseOrganisations(resources: readonly Resource[]): Set<string> {
  const organisations = new Set<string>();
  for (const r of resources) {
    if (r.resourceType !== 'ServiceRequest') continue;
    for (const ods of [odsOf(r.requester), odsOf(r.performer?.[0])]) if (ods) organisations.add(ods);
  }
  return organisations;
}
