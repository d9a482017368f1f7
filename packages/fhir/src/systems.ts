/**
 * Identifier systems, code systems and canonical URLs used across the product.
 * NHS systems are the national ones; everything of ours lives under one canonical base.
 */

export const NHS_NUMBER_SYSTEM = 'https://fhir.nhs.uk/Id/nhs-number';
export const ODS_SYSTEM = 'https://fhir.nhs.uk/Id/ods-organization-code';
export const SNOMED_SYSTEM = 'http://snomed.info/sct';
export const DICOM_UID_SYSTEM = 'urn:dicom:uid';
/** BaRS message events (servicerequest-request and friends). */
export const BARS_MESSAGE_EVENTS_SYSTEM = 'https://fhir.nhs.uk/CodeSystem/message-events-bars';

/** The project's own canonical base. `.example` is reserved, so nothing here can clash with a real registry. */
export const CANONICAL_BASE = 'https://imaging-connect.example/fhir';

export const SYSTEMS = {
  /** A region (imaging network) id, e.g. `north`. */
  region: `${CANONICAL_BASE}/Id/region`,
  /** A routable service's id: what the `NHSD-Target-Identifier` header carries. */
  serviceId: `${CANONICAL_BASE}/Id/service-id`,
  /** Business identifier of a ServiceRequest (the placer order number), shared by every copy. */
  placerOrder: `${CANONICAL_BASE}/Id/placer-order`,
  /** Business identifier of a Task, shared by every copy across regions. */
  task: `${CANONICAL_BASE}/Id/task`,
  /** Accession number assigned by the imaging provider. */
  accession: `${CANONICAL_BASE}/Id/accession`,
  /** Business identifier of a DiagnosticReport, shared by every copy. */
  report: `${CANONICAL_BASE}/Id/report`,
  /** A message's `X-Request-ID`: on a gateway's pending deliveries and in the hub's audit of what it routed. */
  messageRequest: `${CANONICAL_BASE}/Id/message-request`,
  /**
   * A received message, kept on its stored Bundle so a replay is recognised: `<sending service id>/<X-Request-ID>`.
   * Keyed by the sender the hub checked, so no region can spend another's request ids before it does.
   */
  messageReceipt: `${CANONICAL_BASE}/Id/message-receipt`,
  /**
   * The one outbox lease of a region's gateway (the value is the region id). Local only: no Task a
   * message carries may hold it, so no region can plant or take over another's lease.
   */
  outboxLease: `${CANONICAL_BASE}/Id/outbox-lease`,
  /** A case's `X-Correlation-ID`. */
  correlation: `${CANONICAL_BASE}/Id/correlation`,
  /** A locator pointer's source (absolute URL of the pointed-to resource). */
  pointerSource: `${CANONICAL_BASE}/Id/pointer-source`,
  /** A used SMART client assertion: a hash of its issuer and `jti`, so a replay is recognised. */
  clientAssertion: `${CANONICAL_BASE}/Id/client-assertion`,
  /** A person's role in the hub's directory (in production, the SDS role profile id). */
  practitionerRole: `${CANONICAL_BASE}/Id/practitioner-role`,
  /** A person in the hub's directory (in production, e.g. a GMC or NMC number). */
  practitioner: `${CANONICAL_BASE}/Id/practitioner`,
  /** Business identifier of a Communication an alert sends, so a repeat creates nothing new. */
  communication: `${CANONICAL_BASE}/Id/communication`,
  /**
   * An alert's copy another region sent for a GP practice here (alert-copied), as stored: `<sending service
   * id>/<its communication identifier>`. Keyed by the sender the hub checked, and never the system this
   * region's own Communications use, so no copy can take (and so stop) one this region will create.
   */
  receivedCommunication: `${CANONICAL_BASE}/Id/received-communication`,
  /** Business identifier of a Flag (a turnaround breach on the patient's record), so a repeat creates nothing new. */
  flag: `${CANONICAL_BASE}/Id/flag`,
} as const;

export const CODE_SYSTEMS = {
  /** Our Task codes: fulfil an order, deliver a message, register a pointer, acknowledge a result. */
  taskCode: `${CANONICAL_BASE}/CodeSystem/task-code`,
  /** Our message events beyond BaRS (task-update, report-issued). */
  messageEvent: `${CANONICAL_BASE}/CodeSystem/message-event`,
  /** RCR / AoMRC alert categories: CRITICAL, URGENT, CANCER, SIGNIFICANT, NONE. */
  alertCategory: `${CANONICAL_BASE}/CodeSystem/alert-category`,
  /** Kind of resource a locator pointer points to. */
  pointerKind: `${CANONICAL_BASE}/CodeSystem/pointer-kind`,
  /** What a Basic resource of ours records (`client-assertion`: a used token-request assertion). */
  basicKind: `${CANONICAL_BASE}/CodeSystem/basic-kind`,
  /** Kind of organisation in the hub's directory: imaging-network (a region), gp-practice, imaging-provider, trust. */
  organisationKind: `${CANONICAL_BASE}/CodeSystem/organisation-kind`,
  /**
   * What an AuditEvent records, one code system for every service: at the hub message-routed,
   * pointer-registered, pointers-disclosed, content-retrieved, case-trail-disclosed, audit-event-read; at a gateway each
   * state change (order-placed, study-recorded, report-issued, task-updated, message-received,
   * delivery-completed, alert-raised, alert-escalated…) and each disclosure (resource-read,
   * resources-searched, case-trail-disclosed). docs/security.md lists them all.
   */
  auditSubtype: `${CANONICAL_BASE}/CodeSystem/audit-subtype`,
  /** A person's part in the alert workflow (PractitionerRole.code): requesting-clinician, delegate, … */
  alertRole: `${CANONICAL_BASE}/CodeSystem/alert-role`,
  /** Where an alert stands on its escalation ladder (Task.businessStatus): requester, delegate, … */
  alertStep: `${CANONICAL_BASE}/CodeSystem/alert-step`,
  /** The decision a clinician records as the action on a CRITICAL or CANCER alert. */
  alertDecision: `${CANONICAL_BASE}/CodeSystem/alert-decision`,
  /**
   * The pathway an order is on, which sets its due times: routine, urgent, suspected-cancer, ces. A
   * ServiceRequest.category with `suspected-cancer` puts an order on the urgent suspected-cancer pathway.
   */
  referralPathway: `${CANONICAL_BASE}/CodeSystem/referral-pathway`,
  /** Which turnaround time was missed (a breach Task's input, a Flag's code): dm01, reporting-tat, … */
  turnaroundBreach: `${CANONICAL_BASE}/CodeSystem/turnaround-breach`,
} as const;

export const EXTENSIONS = {
  /** On a DiagnosticReport: its alert category (Coding from CODE_SYSTEMS.alertCategory). */
  alertCategory: `${CANONICAL_BASE}/StructureDefinition/alert-category`,
  /** On a CANCER DiagnosticReport: the suspected primary site (CodeableConcept, SNOMED CT body structure). */
  suspectedPrimarySite: `${CANONICAL_BASE}/StructureDefinition/suspected-primary-site`,
  /** On a ServiceRequest: the requesting clinician (Reference to a PractitionerRole by its identifier). */
  requestingClinician: `${CANONICAL_BASE}/StructureDefinition/requesting-clinician`,
  /**
   * On a Patient's generalPractitioner: the organisation that named that GP practice (valueIdentifier, ODS),
   * set by the gateway from the registrant's token, never taken from a body or a message.
   */
  gpNamedBy: `${CANONICAL_BASE}/StructureDefinition/gp-named-by`,
  /**
   * On a Task of the safety layer (an alert, a turnaround watch, a breach): when the safety job must next
   * look at it (dateTime); absent once closed.
   */
  nextCheck: `${CANONICAL_BASE}/StructureDefinition/next-check`,
  /**
   * On an entry of a `$case-trail` Bundle: the service that holds it (valueString: `hub`, or a region's id),
   * so a trail merged across regions by the hub still says where each entry was recorded.
   */
  trailSource: `${CANONICAL_BASE}/StructureDefinition/trail-source`,
} as const;
