import type { Bundle, DocumentReference, Patient, Reference } from '@medplum/fhirtypes';
import { ALERT_CATEGORY_INFO } from '@imaging/fhir';
import type { AcknowledgedAlertCategory, AlertCategory, AlertRole, Clock, FhirStore, Logger } from '@imaging/fhir';
import type { RoutingHeaders } from '@imaging/messaging';

/** Where an organisation is served: its region, the region's routable service id and gateway. */
export interface ServiceLocation {
  regionId: string;
  serviceId: string;
  fhirBaseUrl: string;
}

/** Someone an alert can go to, as the hub's directory holds them (a PractitionerRole). */
export interface DirectoryRole {
  /** The PractitionerRole's identifier (SYSTEMS.practitionerRole). */
  id: string;
  role: AlertRole;
  /** False for someone who has left, or whose role has ended: they cannot receive an alert. */
  active: boolean;
  name: string;
}

/** Whose alert roles to look up: an organisation's (by ODS code), or a region's (its fail-safe officer). */
export type RoleHolder = { ods: string } | { region: string };

/**
 * What the gateway needs of the national hub. Failures are OutcomeErrors: 503 (or another 5xx) when
 * the hub or the other region cannot be reached, a 4xx when the message was refused.
 */
export interface HubPort {
  /** The region serving an ODS code, or undefined when the directory does not know it. */
  findService(ods: string): Promise<ServiceLocation | undefined>;
  /**
   * The people the directory holds for an organisation or a region, active or not; undefined when the
   * directory does not know the organisation. Answers may be cached briefly.
   */
  findAlertRoles(holder: RoleHolder): Promise<DirectoryRole[] | undefined>;
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
  /** How many pending deliveries one pass looks at. */
  batchSize: number;
}

export const DEFAULT_DELIVERY: DeliverySettings = {
  baseBackoffMs: 1000,
  maxBackoffMs: 60_000,
  leaseMs: 30_000,
  batchSize: 100,
};

/** A patient to tell that an alert on their result is still unanswered (DOMAIN.md requirement 15). */
export interface PatientNotification {
  /** The local Patient. */
  patient: Reference<Patient>;
  /** The alert Task, and the report it is about. */
  alert: Reference;
  report: Reference;
  category: AlertCategory;
  raisedAt: Date;
  correlationId: string;
  /** A key that is the same for every attempt at this notification, so a repeat records nothing new. */
  key: string;
}

/**
 * How a patient is told. In production this is NHS Notify (SMS, email or letter); the development adapter
 * records what it would send as a Communication to the Patient and logs it. Failures are OutcomeErrors
 * (5xx: try again later).
 */
export interface NotificationPort {
  /** Sends the notification; returns a reference to the record of what was sent. */
  notifyPatient(notification: PatientNotification): Promise<Reference>;
}

/** The alert workflow's windows (docs/clinical-safety.md); every one is configuration. */
export interface AlertSettings {
  /**
   * Whether reports raise alerts at all. Always true in a deployment (no setting turns it off): false only
   * in the scenario tests' control run, which shows that each failure they catch goes silent without it.
   */
  enabled: boolean;
  /** How long the requester has to acknowledge, per category (ALERT_ACK_WINDOWS). */
  acknowledgementWindowsMs: Readonly<Record<AcknowledgedAlertCategory, number>>;
  /** How long each escalation step waits before the next one, per category (ESCALATION_STEP). */
  escalationStepsMs: Readonly<Record<AcknowledgedAlertCategory, number>>;
  /** An alert unacknowledged this long after it was raised is told to the patient (PATIENT_NOTIFY_AFTER). */
  patientNotifyAfterMs: number;
  /** How long a claimed patient notification stays claimed before another replica may send it. */
  notificationLeaseMs: number;
  /** How many due alerts one pass of the escalation job reads at a time. */
  batchSize: number;
}

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/** Our defaults: acknowledgement windows from alert-categories.ts; the step windows are design choices. */
export const DEFAULT_ALERTS: AlertSettings = {
  enabled: true,
  acknowledgementWindowsMs: {
    CRITICAL: ALERT_CATEGORY_INFO.CRITICAL.acknowledgementWindowMs as number,
    URGENT: ALERT_CATEGORY_INFO.URGENT.acknowledgementWindowMs as number,
    CANCER: ALERT_CATEGORY_INFO.CANCER.acknowledgementWindowMs as number,
    SIGNIFICANT: ALERT_CATEGORY_INFO.SIGNIFICANT.acknowledgementWindowMs as number,
  },
  escalationStepsMs: { CRITICAL: 30 * MINUTE, URGENT: 4 * HOUR, CANCER: DAY, SIGNIFICANT: DAY },
  patientNotifyAfterMs: 14 * DAY,
  notificationLeaseMs: 30_000,
  batchSize: 100,
};

export interface GatewayDeps {
  store: FhirStore;
  hub: HubPort;
  clock: Clock;
  logger: Logger;
  region: RegionIdentity;
  delivery: DeliverySettings;
  alerts: AlertSettings;
  notifications: NotificationPort;
}
