import type { Bundle, DocumentReference } from '@medplum/fhirtypes';
import type { Clock, FhirStore, Logger } from '@imaging/fhir';
import type { RoutingHeaders } from '@imaging/messaging';

/** Where an organisation is served: its region, the region's routable service id and gateway. */
export interface ServiceLocation {
  regionId: string;
  serviceId: string;
  fhirBaseUrl: string;
}

/**
 * What the gateway needs of the national hub. Failures are OutcomeErrors: 503 (or another 5xx) when
 * the hub or the other region cannot be reached, a 4xx when the message was refused.
 */
export interface HubPort {
  /** The region serving an ODS code, or undefined when the directory does not know it. */
  findService(ods: string): Promise<ServiceLocation | undefined>;
  /** Routes a message Bundle to the service named in `headers.target`; returns the response message. */
  routeMessage(message: Bundle, headers: RoutingHeaders): Promise<Bundle>;
  /** Registers (idempotently) a locator pointer to a resource held here. */
  registerPointer(pointer: DocumentReference, headers: { requestId: string; correlationId: string }): Promise<void>;
}

/** Who this gateway is. */
export interface RegionIdentity {
  regionId: string;
  serviceId: string;
  /** The gateway's public FHIR base, e.g. http://127.0.0.1:4101/fhir. */
  fhirBaseUrl: string;
}

export interface DeliverySettings {
  /** First retry delay; doubles per attempt up to `maxBackoffMs`. */
  baseBackoffMs: number;
  maxBackoffMs: number;
  /** How long a claimed delivery stays claimed before another replica may take it over. */
  leaseMs: number;
  /** How many open deliveries one pass looks at (and at most claims, in one transaction). */
  batchSize: number;
  /** How many sends a pass has in flight at once, each from a different queue (deliveryQueueOf). */
  concurrency: number;
}

export const DEFAULT_DELIVERY: DeliverySettings = {
  baseBackoffMs: 1000,
  maxBackoffMs: 60_000,
  leaseMs: 30_000,
  batchSize: 200,
  concurrency: 32,
};

export interface GatewayDeps {
  store: FhirStore;
  hub: HubPort;
  clock: Clock;
  logger: Logger;
  region: RegionIdentity;
  delivery: DeliverySettings;
}
