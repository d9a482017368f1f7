import type { Task } from '@medplum/fhirtypes';
import { assertValid, CODE_SYSTEMS, EXTENSIONS, odsReference, SYSTEMS } from '@imaging/fhir';
import { outcomeErrorOf } from '@imaging/fhir/testing';
import { describe, expect, it } from 'vitest';
import type { NewAlert } from './alert-task.ts';
import {
  alertOf,
  alertTask,
  closesOnAcknowledgement,
  dueAlertsQuery,
  patientNotificationPending,
  withNextCheck,
} from './alert-task.ts';

const at = (iso: string) => new Date(iso);
const LEASE = 30_000;

function raised(overrides: Partial<NewAlert> = {}): NewAlert {
  return {
    kind: 'acknowledge-result',
    identifier: 'RM1-REP-1-acknowledge',
    correlationId: 'case-1',
    category: 'CRITICAL',
    report: { reference: 'DiagnosticReport/r1' },
    order: { reference: 'ServiceRequest/o1' },
    patient: { reference: 'Patient/p1' },
    owner: {
      type: 'PractitionerRole',
      identifier: { system: SYSTEMS.practitionerRole, value: 'n81001-patel' },
      display: 'Dr Asha Patel',
    },
    ownerOrganisation: 'N81001',
    performer: 'RM1',
    raisedAt: at('2026-11-23T09:00:00Z'),
    acknowledgementDueAt: at('2026-11-23T10:00:00Z'),
    state: 'raised',
    step: 'requester',
    stepDueAt: at('2026-11-23T10:00:00Z'),
    recipients: [odsReference('N81001')],
    patientNotificationDueAt: at('2026-12-07T09:00:00Z'),
    lastModified: at('2026-11-23T09:00:00Z'),
    ...overrides,
  };
}

const stored = (task: Task): Task => ({ ...task, id: 't1', meta: { ...task.meta, versionId: '3' } });

describe('the alert Task', () => {
  it('round-trips an alert through a valid Task, with every field in its place', () => {
    const alert = withNextCheck(
      raised({
        state: 'acknowledged',
        acknowledgement: { at: at('2026-11-23T09:20:00Z'), by: { display: 'Dr Asha Patel' } },
        verbalCommunication: { reference: 'Communication/c1' },
        action: {
          kind: 'decision',
          at: at('2026-11-23T09:40:00Z'),
          by: { display: 'Dr Asha Patel' },
          decision: { system: CODE_SYSTEMS.alertDecision, code: 'emergency-care' },
          note: 'sent to ED',
        },
      }),
      LEASE,
    );
    const task = alertTask(alert);
    expect(() => assertValid(task)).not.toThrow();
    expect(task).toMatchObject({
      status: 'in-progress',
      priority: 'stat',
      code: { coding: [{ code: 'acknowledge-result' }] },
      focus: { reference: 'DiagnosticReport/r1' },
      basedOn: [{ reference: 'ServiceRequest/o1' }],
      requester: { identifier: { value: 'RM1' } },
      businessStatus: { coding: [{ system: CODE_SYSTEMS.alertStep, code: 'requester' }] },
      restriction: { period: { end: '2026-11-23T10:00:00.000Z' } },
      extension: [{ url: EXTENSIONS.nextCheck, valueDateTime: '2026-11-23T10:00:00.000Z' }],
    });
    const decoded = alertOf(stored(task));
    expect({ ...decoded, id: undefined, versionId: undefined, meta: undefined }).toEqual({
      ...alert,
      id: undefined,
      versionId: undefined,
      meta: undefined,
    });
    expect(decoded.versionId).toBe('3');
  });

  it('next check: the step due time or the patient notification, whichever is first; nothing once closed', () => {
    expect(withNextCheck(raised(), LEASE).nextCheckAt).toEqual(at('2026-11-23T10:00:00Z'));
    const lateStep = raised({ stepDueAt: at('2026-12-10T00:00:00Z') });
    expect(withNextCheck(lateStep, LEASE).nextCheckAt).toEqual(at('2026-12-07T09:00:00Z'));
    const claimed = raised({
      stepDueAt: at('2026-12-10T00:00:00Z'),
      patientNotification: { claimedAt: at('2026-12-07T09:00:05Z') },
    });
    expect(withNextCheck(claimed, LEASE).nextCheckAt).toEqual(at('2026-12-07T09:00:35Z'));
    const sent = raised({
      stepDueAt: at('2026-12-10T00:00:00Z'),
      patientNotification: { claimedAt: at('2026-12-07T09:00:05Z'), sent: { reference: 'Communication/n1' } },
    });
    expect(withNextCheck(sent, LEASE).nextCheckAt).toEqual(at('2026-12-10T00:00:00Z'));
    expect(patientNotificationPending(sent)).toBe(false);
    // Acknowledged: the patient is not told, whatever the date.
    expect(patientNotificationPending(raised({ state: 'acknowledged' }))).toBe(false);
    const closed = withNextCheck(raised({ state: 'closed' }), LEASE);
    expect(closed.nextCheckAt).toBeUndefined();
    expect(alertTask(closed).extension).toBeUndefined();
    expect(alertTask(closed).status).toBe('completed');
  });

  it('closes on acknowledgement for URGENT and SIGNIFICANT only', () => {
    expect(['CRITICAL', 'URGENT', 'CANCER', 'SIGNIFICANT'].filter((c) => closesOnAcknowledgement(c as never))).toEqual([
      'URGENT',
      'SIGNIFICANT',
    ]);
  });

  it('refuses a Task that holds no alert with a 422 naming each problem', async () => {
    const task = stored(alertTask(raised()));
    const broken: Task = {
      ...task,
      status: 'draft',
      input: task.input?.filter((i) => i.type?.text !== 'alert-category'),
      businessStatus: { coding: [{ system: CODE_SYSTEMS.alertStep, code: 'watching' }] },
    };
    const err = await outcomeErrorOf(Promise.resolve().then(() => alertOf(broken)));
    expect(err.status).toBe(422);
    expect(err.outcome.issue.map((i) => i.expression?.[0])).toEqual([
      'Task.status',
      "Task.input.where(type.text = 'alert-category')",
      'Task.businessStatus',
    ]);
  });

  it('is found when due through the next-check index only', () => {
    expect(dueAlertsQuery(at('2026-11-23T10:00:00Z'), 50)).toEqual({
      'next-check': 'le2026-11-23T10:00:00.000Z',
      code: `${CODE_SYSTEMS.taskCode}|acknowledge-result,${CODE_SYSTEMS.taskCode}|watch-acknowledgement`,
      _count: '50',
      _total: 'none',
    });
  });
});
