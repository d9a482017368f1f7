import type { BundleEntry, DiagnosticReport, Task } from '@medplum/fhirtypes';
import { ALERT_CATEGORY_INFO, ALERT_STEP_DISPLAY, isOutcomeError, retryOnConflict, SYSTEMS } from '@imaging/fhir';
import type { WithId } from '@imaging/fhir';
import { climbLadder, nextStepIndex } from './alert-recipients.ts';
import type { Alert } from './alert-task.ts';
import {
  alertOf,
  alertTask,
  dueAlertsQuery,
  LADDERS,
  patientNotificationPending,
  withNextCheck,
} from './alert-task.ts';
import {
  ALERT_AUDIT,
  alertCommunication,
  communicationEntry,
  recipientKey,
  recipientName,
  skippedEntries,
} from './alerts.ts';
import { auditEntry } from './audit.ts';
import { workThroughDue } from './due-work.ts';
import type { GatewayDeps } from './ports.ts';
import { entryResource, runTransaction } from './transactions.ts';

/**
 * The safety job (requirements 12 and 15). Each pass reads only the alerts whose next check is due,
 * through the next-check index, and for each:
 * - escalates an overdue one a step up its ladder (requester → delegate → responsible consultant or GP
 *   practice → the network's fail-safe officer; a performer's watch goes straight to its own network's
 *   fail-safe officer): a Communication to the new recipient, the Task's step and next check moved on, and
 *   an AuditEvent, in one transaction. A step where nobody can receive is passed at once, audited. The last
 *   step repeats its reminder each step window until the alert is answered: nothing is ever dropped;
 * - tells the patient, through the NotificationPort, of an alert still unacknowledged long after it was
 *   raised (PATIENT_NOTIFY_AFTER), exactly once.
 * Every change is a versioned update, so N replicas on one store fire each step once: a 412 means another
 * replica did it, and this one moves on.
 */

export interface EscalationPass {
  /** Steps taken (a repeated reminder at the last step counts as one). */
  escalated: number;
  /** Patients told. */
  notified: number;
  /** Already done by another replica (412), or answered meanwhile. */
  raced: number;
  /** Not done this pass (the directory or the notifier unreachable, a malformed Task): tried again next pass. */
  failed: number;
}

export async function escalateOverdueAlerts(deps: GatewayDeps): Promise<EscalationPass> {
  const pass = { escalated: 0, notified: 0, raced: 0 };
  const work = await workThroughDue(deps, {
    query: (now) => dueAlertsQuery(now, deps.alerts.batchSize),
    batchSize: deps.alerts.batchSize,
    check: (task) => checkAlert(deps, task, pass),
    what: 'alert check',
  });
  return { ...pass, raced: pass.raced + work.raced, failed: work.failed };
}

async function checkAlert(deps: GatewayDeps, task: WithId<Task>, pass: Omit<EscalationPass, 'failed'>): Promise<void> {
  let alert = alertOf(task);
  const now = deps.clock.now();
  let acted = false;
  if (alert.state !== 'closed' && alert.stepDueAt && alert.stepDueAt.getTime() <= now.getTime()) {
    alert = await escalate(deps, alert, now);
    pass.escalated++;
    acted = true;
  }
  if (patientNotificationDue(deps, alert, now)) {
    if (await notifyPatient(deps, alert, now)) pass.notified++;
    else pass.raced++;
    acted = true;
  }
  // A next check with nothing due (a stale index value): set it right, so it is not read again and again.
  if (!acted) await reschedule(deps, alert, now);
}

function patientNotificationDue(deps: GatewayDeps, alert: Alert, now: Date): boolean {
  if (!patientNotificationPending(alert)) return false;
  const claimed = alert.patientNotification?.claimedAt;
  const dueAt = claimed
    ? claimed.getTime() + deps.alerts.notificationLeaseMs
    : (alert.patientNotificationDueAt as Date).getTime();
  return dueAt <= now.getTime();
}

/** One step up the ladder (or the last step's reminder again), in one versioned transaction. */
async function escalate(deps: GatewayDeps, alert: Alert, now: Date): Promise<Alert> {
  const taskRef = `Task/${alert.id}`;
  const climb = await climbLadder(deps, alert, nextStepIndex(alert));
  const { recipient } = climb;
  const reminder = recipient.step === alert.step;
  const stepMs = deps.alerts.escalationStepsMs[alert.category];
  const known = new Set(alert.recipients.map(recipientKey));
  const updated = withNextCheck(
    {
      ...alert,
      step: recipient.step,
      stepDueAt: new Date(now.getTime() + stepMs),
      recipients: known.has(recipientKey(recipient.reference))
        ? alert.recipients
        : [...alert.recipients, recipient.reference],
      lastModified: now,
    },
    deps.alerts.notificationLeaseMs,
  );
  const conclusion = await conclusionOf(deps, alert);
  const waitingFor = alert.state === 'raised' ? 'acknowledged' : 'acted on (the action is not recorded)';
  const reason = `${ALERT_CATEGORY_INFO[alert.category].display} alert not ${waitingFor} in time`;
  const entries: BundleEntry[] = [
    {
      resource: { ...alertTask(updated), id: alert.id },
      request: { method: 'PUT', url: taskRef, ifMatch: `W/"${alert.versionId}"` },
    },
    communicationEntry(
      alertCommunication({
        alert,
        task: { reference: taskRef },
        // The version being replaced makes each escalation's Communication its own, and the same on a retry.
        key: `${recipient.step}-${alert.versionId}`,
        recipients: [recipient.reference],
        sender: {
          identifier: { system: SYSTEMS.serviceId, value: deps.region.serviceId },
          display: deps.region.serviceId,
        },
        sent: now,
        reason,
        text: [
          `${reason}: ${reminder ? 'reminder' : 'escalated to you'} (${ALERT_STEP_DISPLAY[recipient.step]}).`,
          `Raised ${alert.raisedAt.toISOString()}; acknowledgement was due ${alert.acknowledgementDueAt.toISOString()}.`,
          ...(conclusion ? [`Conclusion: ${conclusion}`] : []),
        ],
      }),
      [alert.ownerOrganisation, alert.performer],
    ),
    ...skippedEntries(deps, alert, taskRef, climb.skipped, now),
    auditEntry(deps.region, {
      subtype: 'alert-escalated',
      description: ALERT_AUDIT['alert-escalated'],
      action: 'U',
      who: 'system',
      what: [{ reference: taskRef }, alert.report],
      ...(alert.patient ? { patient: alert.patient } : {}),
      correlationId: alert.correlationId,
      detail: {
        from: alert.step,
        to: recipient.step,
        recipient: recipientName(recipient.reference),
        ...(reminder ? { reminder: 'true' } : {}),
        'next-check': updated.nextCheckAt?.toISOString() ?? '',
      },
      recorded: now,
    }),
  ];
  const response = await runTransaction(deps.store, entries);
  deps.logger.warn('alert escalated', {
    alert: alert.identifier,
    category: alert.category,
    from: alert.step,
    to: recipient.step,
    skipped: climb.skipped.map((s) => s.step),
    ladder: LADDERS[alert.kind].join(' > '),
    correlationId: alert.correlationId,
  });
  return alertOf(entryResource<Task>(response, 0));
}

async function conclusionOf(deps: GatewayDeps, alert: Alert): Promise<string | undefined> {
  const ref = alert.report.reference;
  if (!ref?.startsWith('DiagnosticReport/')) return undefined;
  const report = await deps.store.read<DiagnosticReport>('DiagnosticReport', ref.split('/')[1] as string);
  return report.conclusion;
}

/**
 * Tells the patient, once: the notification is first claimed with a versioned update (so one replica
 * sends it), then sent, then recorded. A replica that dies between claim and record leaves a claim that
 * lapses after the lease, and another sends it then. False when another replica claimed it first.
 */
async function notifyPatient(deps: GatewayDeps, alert: Alert, now: Date): Promise<boolean> {
  const claimedAt = now;
  const claim = withNextCheck(
    { ...alert, patientNotification: { claimedAt }, lastModified: now },
    deps.alerts.notificationLeaseMs,
  );
  try {
    await deps.store.update({ ...alertTask(claim), id: alert.id } as WithId<Task>, { ifMatch: alert.versionId });
  } catch (err) {
    if (isOutcomeError(err) && err.status === 412) return false;
    throw err;
  }
  const key = `${alert.identifier}-patient`;
  const sent = await deps.notifications.notifyPatient({
    patient: alert.patient ?? { display: 'the patient' },
    alert: { reference: `Task/${alert.id}` },
    report: alert.report,
    category: alert.category,
    raisedAt: alert.raisedAt,
    correlationId: alert.correlationId,
    key,
  });
  await retryOnConflict(async () => {
    const current = alertOf(await deps.store.read<Task>('Task', alert.id));
    if (current.patientNotification?.sent) return;
    const recorded = deps.clock.now();
    const done = withNextCheck(
      {
        ...current,
        patientNotification: { claimedAt: current.patientNotification?.claimedAt ?? claimedAt, sent },
        lastModified: recorded,
      },
      deps.alerts.notificationLeaseMs,
    );
    await runTransaction(deps.store, [
      {
        resource: { ...alertTask(done), id: alert.id },
        request: { method: 'PUT', url: `Task/${alert.id}`, ifMatch: `W/"${current.versionId}"` },
      },
      auditEntry(deps.region, {
        subtype: 'alert-patient-notified',
        description: ALERT_AUDIT['alert-patient-notified'],
        action: 'E',
        who: 'system',
        what: [{ reference: `Task/${alert.id}` }, ...(sent.reference ? [sent] : [])],
        ...(alert.patient ? { patient: alert.patient } : {}),
        correlationId: alert.correlationId,
        detail: { category: alert.category, raised: alert.raisedAt.toISOString() },
        recorded,
      }),
    ]);
  });
  return true;
}

async function reschedule(deps: GatewayDeps, alert: Alert, now: Date): Promise<void> {
  const fixed = withNextCheck({ ...alert, lastModified: now }, deps.alerts.notificationLeaseMs);
  if (fixed.nextCheckAt?.getTime() === alert.nextCheckAt?.getTime()) return;
  await deps.store.update({ ...alertTask(fixed), id: alert.id } as WithId<Task>, { ifMatch: alert.versionId });
}
