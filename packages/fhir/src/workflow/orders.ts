import type { ServiceRequest, Task } from '@medplum/fhirtypes';
import type { WithId } from '../store/port.ts';

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
