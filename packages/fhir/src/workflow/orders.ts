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
 * The organisations that may read a case's trail as their own, from its stored orders: each order's
 * requester and performer (ODS codes). Decided from this at the gateway and at the hub alike, never from
 * what a request says.
 *
 * A case is one requester's: a gateway refuses another organisation's order naming a case it holds. Yet
 * no one store sees every case name (two regions, or two new orders racing under one new name), so a
 * trail whose orders name more than one requester is no organisation's: none may read the others' orders
 * through it. National readers still see it whole, and each region's own trail still serves its orders.
 */
export function caseReaders(resources: readonly Resource[]): Set<string> {
  const organisations = new Set<string>();
  const requesters = new Set<string>();
  for (const r of resources) {
    if (r.resourceType !== 'ServiceRequest') continue;
    const [requester, performer] = [odsOf(r.requester), odsOf(r.performer?.[0])];
    requesters.add(requester ?? '(none)');
    for (const ods of [requester, performer]) if (ods) organisations.add(ods);
  }
  return requesters.size > 1 ? new Set() : organisations;
}
