import type { ResourceType } from '@medplum/fhirtypes';
import { BARS_MESSAGE_EVENTS_SYSTEM, CODE_SYSTEMS } from '@imaging/fhir';

/**
 * The message events the pathway carries between regions, each with what its Bundle must hold: a
 * light MessageDefinition. The order travels with the BaRS event code; status updates and issued
 * reports use codes of ours, as BaRS defines none for them.
 */
export interface MessageEventDefinition {
  system: string;
  code: string;
  display: string;
  focus: ResourceType;
  /** Resource types the Bundle must (min) and may (max) carry besides the MessageHeader. */
  entries: Partial<Record<ResourceType, { min: number; max: number }>>;
}

export const ORDER_REQUEST: MessageEventDefinition = {
  system: BARS_MESSAGE_EVENTS_SYSTEM,
  code: 'servicerequest-request',
  display: 'ServiceRequest Request',
  focus: 'ServiceRequest',
  entries: {
    ServiceRequest: { min: 1, max: 1 },
    Patient: { min: 1, max: 1 },
    Task: { min: 1, max: 1 },
    Encounter: { min: 0, max: 1 },
  },
};

export const TASK_UPDATE: MessageEventDefinition = {
  system: CODE_SYSTEMS.messageEvent,
  code: 'task-update',
  display: 'Task status update',
  focus: 'Task',
  entries: { Task: { min: 1, max: 1 } },
};

export const REPORT_ISSUED: MessageEventDefinition = {
  system: CODE_SYSTEMS.messageEvent,
  code: 'diagnosticreport-issued',
  display: 'Diagnostic report issued',
  focus: 'DiagnosticReport',
  entries: {
    DiagnosticReport: { min: 1, max: 1 },
    ImagingStudy: { min: 0, max: 10 },
    Endpoint: { min: 0, max: 10 },
  },
};

/**
 * Closing the loop at the source: the requester's region tells the performer's that an alert on its
 * report was acknowledged, and (for CRITICAL and CANCER) what action was taken. The focus is the
 * acknowledgement Task, as the requester's region holds it; the performer's region updates its watch on
 * the alert (docs/clinical-safety.md).
 */
export const ALERT_ACKNOWLEDGED: MessageEventDefinition = {
  system: CODE_SYSTEMS.messageEvent,
  code: 'alert-acknowledged',
  display: 'Result alert acknowledged',
  focus: 'Task',
  entries: { Task: { min: 1, max: 1 } },
};

export const ALERT_ACTION_RECORDED: MessageEventDefinition = {
  system: CODE_SYSTEMS.messageEvent,
  code: 'alert-action-recorded',
  display: 'Action on a result alert recorded',
  focus: 'Task',
  entries: { Task: { min: 1, max: 1 } },
};

/**
 * After discharge an alert also goes to the patient's registered GP practice (requirement 14). When that
 * practice is served by another region than the requester's, the requester's region sends it its copy: the
 * alert's Communication, addressed to the practice, naming the alert, the order and the report by identifier.
 */
export const ALERT_COPIED: MessageEventDefinition = {
  system: CODE_SYSTEMS.messageEvent,
  code: 'alert-copied',
  display: "Result alert copied to the patient's registered GP practice",
  focus: 'Communication',
  entries: { Communication: { min: 1, max: 1 } },
};

export const MESSAGE_EVENTS: readonly MessageEventDefinition[] = [
  ORDER_REQUEST,
  TASK_UPDATE,
  REPORT_ISSUED,
  ALERT_ACKNOWLEDGED,
  ALERT_ACTION_RECORDED,
  ALERT_COPIED,
];

export function findMessageEvent(
  system: string | undefined,
  code: string | undefined,
): MessageEventDefinition | undefined {
  return MESSAGE_EVENTS.find((e) => e.system === system && e.code === code);
}
