import type { Bundle, DocumentReference, Patient, Reference } from '@medplum/fhirtypes';
import { ALERT_CATEGORY_INFO } from '@imaging/fhir';
import type {
  AcknowledgedAlertCategory,
  AlertCategory,
  AlertRole,
  Clock,
  FhirStore,
  Logger,
  ReferralPathway,
} from '@imaging/fhir';
import type { RoutingHeaders } from '@imaging/messaging';
import type { PatientCache } from './patient-cache.ts';

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
  /**
   * How long the outbox lease (outbox-lease.ts) lasts before another replica may take it over; the holder
   * sends for at most half of it. Also how long a claim by an earlier version of the gateway lasts.
   */
  leaseMs: number;
  /** Which replica this is, for the outbox lease. Default: an id made once per process. */
  replicaId?: string;
  /** How many open deliveries one pass looks at. */
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

/** The pathways with a report due time of their own; a routine report has the maximum turnaround only. */
export type ReportDuePathway = Exclude<ReferralPathway, 'routine'>;

/**
 * The turnaround times (docs/clinical-safety.md, Turnaround); every one is configuration. DM01, the
 * maximum reporting turnaround and the CES MRI time are national (DOMAIN.md §4); the pathway report due
 * times and the breach step windows are our defaults.
 */
export interface TurnaroundSettings {
  /** A request not tested this long after it was made is a DM01 breach (DM01_WAIT). */
  dm01WaitMs: number;
  /** An exam not reported this long after it was done is a reporting-TAT breach (REPORTING_TAT). */
  reportingTatMs: number;
  /** A suspected-CES MRI not done this long after the request is a breach (CES_IMAGING_WITHIN). */
  cesImagingWithinMs: number;
  /** When the report is due after the exam, per pathway (REPORT_DUE). */
  reportDueMs: Readonly<Record<ReportDuePathway, number>>;
  /** How long each escalation step of a breach waits before the next, per pathway (BREACH_ESCALATION_STEP). */
  breachStepsMs: Readonly<Record<ReferralPathway, number>>;
  /** How many due watches and breaches one pass of the safety job reads at a time. */
  batchSize: number;
}

/** DM01 6 weeks, reporting 28 days, CES MRI 4 h (DOMAIN.md §4); the report due times are ours (UNVERIFIED). */
export const DEFAULT_TURNAROUND: TurnaroundSettings = {
  dm01WaitMs: 42 * DAY,
  reportingTatMs: 28 * DAY,
  cesImagingWithinMs: 4 * HOUR,
  reportDueMs: { ces: HOUR, 'suspected-cancer': 3 * DAY, urgent: 2 * DAY },
  breachStepsMs: { ces: 30 * MINUTE, 'suspected-cancer': 4 * HOUR, urgent: 4 * HOUR, routine: DAY },
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
  turnaround: TurnaroundSettings;
  notifications: NotificationPort;
  /**
   * The Patients this process has read or written, so that an order for a known patient needs no search
   * (patient-cache.ts). Without one, every order searches.
   */
  patients?: PatientCache;
  /**
   * False switches the clinical safety layer off (no alerts, no turnaround watches, no safety job work):
   * only for tests that prove a scenario fails silently without it. A deployment cannot set it.
   */
  safety?: boolean;
}

/** Whether the clinical safety layer is on (always, outside tests). */
export function safetyOn(deps: Pick<GatewayDeps, 'safety'>): boolean {
  return deps.safety !== false;
}
