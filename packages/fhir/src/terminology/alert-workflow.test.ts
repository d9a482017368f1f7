import { describe, expect, it } from 'vitest';
import { CODE_SYSTEMS } from '../systems.ts';
import {
  ALERT_DECISIONS,
  ALERT_ROLES,
  ALERT_STEPS,
  alertDecisionCoding,
  alertRoleConcept,
  alertRoleOf,
  alertStepConcept,
  isAlertDecision,
  isAlertStep,
} from './alert-workflow.ts';

describe('alert workflow codes', () => {
  it('round-trip a role through a PractitionerRole code, ignoring other systems', () => {
    for (const role of ALERT_ROLES) expect(alertRoleOf([alertRoleConcept(role)])).toBe(role);
    expect(alertRoleOf([{ coding: [{ system: 'http://snomed.info/sct', code: 'delegate' }] }])).toBeUndefined();
    expect(alertRoleOf(undefined)).toBeUndefined();
  });

  it('code ladder steps and decisions in our own systems, with a display for each', () => {
    for (const step of ALERT_STEPS) {
      expect(alertStepConcept(step).coding?.[0]).toMatchObject({ system: CODE_SYSTEMS.alertStep, code: step });
      expect(isAlertStep(step)).toBe(true);
    }
    for (const decision of ALERT_DECISIONS) {
      expect(alertDecisionCoding(decision).system).toBe(CODE_SYSTEMS.alertDecision);
      expect(alertDecisionCoding(decision).display).not.toBe('');
    }
    expect(isAlertDecision('ignored')).toBe(false);
    expect(isAlertStep('nowhere')).toBe(false);
  });
});
