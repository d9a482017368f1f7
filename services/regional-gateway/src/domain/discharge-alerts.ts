import type { BundleEntry, DiagnosticReport, ServiceRequest, Task } from '@medplum/fhirtypes';
import { CODE_SYSTEMS, odsOf, odsReference, searchAll } from '@imaging/fhir';
import type { WithId } from '@imaging/fhir';
import { PRACTICE_COPY_KEY } from '@imaging/messaging';
import type { Alert } from './alert-task.ts';
import { alertOf, alertTask, OPEN_ALERT_TASK_STATUSES } from './alert-task.ts';
import type { Practice } from './alerts.ts';
import {
  ALERT_AUDIT,
  alertCommunication,
  alertCopyEntries,
  communicationEntry,
  dischargedPatientsPractice,
  practiceCopyText,
  recipientKey,
  recipientName,
} from './alerts.ts';
import { auditEntry } from './audit.ts';
import type { GatewayDeps } from './ports.ts';
import { safetyOn } from './ports.ts';

/**
 * After discharge, alerts also go to the registered GP practice (requirement 14), and that includes alerts
 * raised while the patient was still in: when the requester records a discharge (order-updates.ts), every
 * alert on the order still open (unacknowledged, or for CRITICAL and CANCER not yet acted on) goes to the
 * practice as it would have had the patient left first. The entries join the transaction that stores the
 * discharge: each alert Task gains the practice among its recipients by a versioned update, so a discharge
 * sent twice, or handled by two replicas at once, copies each alert once (the second finds the practice
 * there already, or loses the race with a 412 and writes nothing).
 */
export async function copyOpenAlertsAfterDischarge(
  deps: GatewayDeps,
  order: WithId<ServiceRequest>,
): Promise<BundleEntry[]> {
  if (!safetyOn(deps)) return [];
  const requester = odsOf(order.requester);
  if (!requester) return [];
  const practice = await dischargedPatientsPractice(deps, order, requester);
  if (!practice) return [];
  const open = await searchAll<Task>(deps.store, 'Task', {
    'based-on': `ServiceRequest/${order.id}`,
    code: `${CODE_SYSTEMS.taskCode}|acknowledge-result`,
    status: OPEN_ALERT_TASK_STATUSES,
  });
  const entries: BundleEntry[] = [];
  for (const task of open) {
    const alert = alertOf(task as WithId<Task>);
    if (alert.state === 'closed' || alert.recipients.some((r) => recipientKey(r) === recipientKey(practice.reference)))
      continue;
    entries.push(...(await practiceCopyEntries(deps, alert, order, practice)));
  }
  return entries;
}

/**
 * One open alert's copy for the practice: the Task with the practice among its recipients (versioned), the
 * practice's Communication here or, when another region serves it, its copy through the outbox (as when
 * the alert is raised after discharge), and an AuditEvent.
 */
async function practiceCopyEntries(
  deps: GatewayDeps,
  alert: Alert,
  order: WithId<ServiceRequest>,
  practice: Practice,
): Promise<BundleEntry[]> {
  const now = deps.clock.now();
  const taskRef = `Task/${alert.id}`;
  const reportRef = alert.report.reference as string;
  const report = await deps.store.read<DiagnosticReport>('DiagnosticReport', reportRef.split('/')[1] as string);
  const updated: Alert = { ...alert, recipients: [...alert.recipients, practice.reference], lastModified: now };
  const copy = { alert: updated, order, report, reportRef, taskRef, practice, now, discharged: 'after' as const };
  const elsewhere = practice.location.serviceId !== deps.region.serviceId;
  return [
    {
      resource: { ...alertTask(updated), id: alert.id },
      request: { method: 'PUT', url: taskRef, ifMatch: `W/"${alert.versionId}"` },
    },
    ...(elsewhere
      ? alertCopyEntries(deps, copy)
      : [
          communicationEntry(
            alertCommunication({
              alert,
              task: { reference: taskRef },
              key: PRACTICE_COPY_KEY,
              recipients: [practice.reference],
              sender: odsReference(alert.performer),
              sent: now,
              text: practiceCopyText(copy),
            }),
            [alert.ownerOrganisation, alert.performer],
          ),
        ]),
    auditEntry(deps.region, {
      subtype: 'alert-discharge-copied',
      description: ALERT_AUDIT['alert-discharge-copied'],
      action: 'U',
      who: 'system',
      what: [{ reference: taskRef }, alert.report],
      ...(alert.patient ? { patient: alert.patient } : {}),
      correlationId: alert.correlationId,
      detail: {
        practice: recipientName(practice.reference),
        region: practice.location.regionId,
        state: alert.state,
      },
      recorded: now,
    }),
  ];
}
