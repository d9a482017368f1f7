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
  isAlertRole,
  isAlertStep,
  MDT_SITES,
  mdtSiteOf,
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

  it('find the site-specific MDT of a suspected primary site, only by SNOMED CT, and know mdt-<site> roles', () => {
    const sct = (code: string) => ({ coding: [{ system: 'http://snomed.info/sct', code }] });
    expect(mdtSiteOf(sct('45653009'))).toBe('lung'); // right upper lobe
    expect(mdtSiteOf(sct('34402009'))).toBe('colorectal');
    expect(mdtSiteOf(sct('123456789'))).toBeUndefined();
    expect(mdtSiteOf({ coding: [{ system: 'http://example.org', code: '45653009' }] })).toBeUndefined();
    expect(mdtSiteOf(undefined)).toBeUndefined();
    // Each site's role is an alert role with a display; a site the list does not know is not.
    for (const site of Object.keys(MDT_SITES)) expect(isAlertRole(`mdt-${site}`)).toBe(true);
    expect(alertRoleConcept('mdt-lung').coding?.[0]?.display).toBe('Lung cancer multidisciplinary team');
    expect(isAlertRole('mdt-spleen')).toBe(false);
    expect(isAlertRole('cancer-mdt')).toBe(true);
  });
});
