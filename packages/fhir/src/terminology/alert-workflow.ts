import type { CodeableConcept, Coding } from '@medplum/fhirtypes';
import { CODE_SYSTEMS, SNOMED_SYSTEM } from '../systems.ts';

/**
 * The codes of the alert workflow (docs/clinical-safety.md): who takes part (a PractitionerRole's code in
 * the hub's directory), where an alert stands on its escalation ladder (the alert Task's businessStatus),
 * and the decisions a clinician may record as the action taken on a CRITICAL or CANCER alert.
 */

/**
 * The cancer MDTs a CANCER alert can reach, by the suspected primary site it names (requirement 11). A
 * site-specific MDT holds the role `mdt-<site>`; the SNOMED CT body structures listed map a report's site to
 * one. The list is ours and deliberately short (each code and its common parts, no subsumption): a site it
 * does not know reaches the trust's generic `cancer-mdt`. A terminology server's subsumption would replace it.
 */
export const MDT_SITES = {
  lung: {
    display: 'Lung',
    // Lung, right and left lung, each lobe, bronchus.
    codes: ['39607008', '3341006', '44029006', '45653009', '72481006', '266005', '45229001', '90572001', '955009'],
  },
  breast: { display: 'Breast', codes: ['76752008'] },
  colorectal: { display: 'Colorectal', codes: ['71854001', '34402009'] },
  'upper-gi': { display: 'Upper gastrointestinal', codes: ['32849002', '69695003', '15776009', '10200004'] },
  urology: { display: 'Urology', codes: ['64033007', '41216001', '89837001'] },
  gynaecology: { display: 'Gynaecology', codes: ['15497006'] },
  brain: { display: 'Brain and central nervous system', codes: ['12738006'] },
} as const satisfies Record<string, { display: string; codes: readonly string[] }>;
export type MdtSite = keyof typeof MDT_SITES;

/** The site-specific MDT for a suspected primary site (a SNOMED CT coding), when the list knows it. */
export function mdtSiteOf(site: CodeableConcept | undefined): MdtSite | undefined {
  const codes = new Set((site?.coding ?? []).filter((c) => c.system === SNOMED_SYSTEM).map((c) => c.code));
  return (Object.keys(MDT_SITES) as MdtSite[]).find((key) =>
    MDT_SITES[key].codes.some((code: string) => codes.has(code)),
  );
}

/** A person's (or a team's) part in the alert workflow, as the hub's directory holds it (PractitionerRole.code). */
export const ALERT_ROLES = [
  'requesting-clinician',
  'delegate',
  'responsible-clinician',
  'fail-safe-officer',
  'spinal-on-call',
  'cancer-mdt',
  ...(Object.keys(MDT_SITES) as MdtSite[]).map((site) => `mdt-${site}` as const),
] as const;
export type AlertRole =
  | 'requesting-clinician'
  | 'delegate'
  | 'responsible-clinician'
  | 'fail-safe-officer'
  | 'spinal-on-call'
  | 'cancer-mdt'
  | `mdt-${MdtSite}`;

const FIXED_ROLE_DISPLAY = {
  'requesting-clinician': 'Requesting clinician',
  delegate: "Requesting clinician's delegate",
  'responsible-clinician': 'Responsible consultant or GP',
  'fail-safe-officer': "Imaging network's fail-safe officer",
  // Told of a CRITICAL report on a suspected cauda equina syndrome MRI, besides the requester (requirement 19).
  'spinal-on-call': 'Spinal surgical on-call team',
  'cancer-mdt': 'Cancer multidisciplinary team (any site)',
} as const;

export const ALERT_ROLE_DISPLAY: Readonly<Record<AlertRole, string>> = {
  ...FIXED_ROLE_DISPLAY,
  ...(Object.fromEntries(
    (Object.keys(MDT_SITES) as MdtSite[]).map((site) => [
      `mdt-${site}`,
      `${MDT_SITES[site].display} cancer multidisciplinary team`,
    ]),
  ) as Record<`mdt-${MdtSite}`, string>),
};

export function isAlertRole(value: unknown): value is AlertRole {
  return typeof value === 'string' && (ALERT_ROLES as readonly string[]).includes(value);
}

export function alertRoleConcept(role: AlertRole): CodeableConcept {
  return { coding: [{ system: CODE_SYSTEMS.alertRole, code: role, display: ALERT_ROLE_DISPLAY[role] }] };
}

/** The alert role among a resource's codes (PractitionerRole.code), when it has one. */
export function alertRoleOf(codes: CodeableConcept[] | undefined): AlertRole | undefined {
  const code = codes?.flatMap((c) => c.coding ?? []).find((c) => c.system === CODE_SYSTEMS.alertRole)?.code;
  return isAlertRole(code) ? code : undefined;
}

/**
 * Where an alert stands on its ladder. An acknowledgement Task starts with the `requester` and climbs
 * delegate → responsible → fail-safe-officer; a provider's watch Task starts `watching` and goes
 * straight to its own network's fail-safe officer; a turnaround breach starts with the imaging `provider`
 * and climbs its delegate → responsible → fail-safe-officer. The last step repeats until answered.
 */
export const ALERT_STEPS = [
  'requester',
  'delegate',
  'responsible',
  'fail-safe-officer',
  'watching',
  'provider',
] as const;
export type AlertStep = (typeof ALERT_STEPS)[number];

export const ALERT_STEP_DISPLAY: Readonly<Record<AlertStep, string>> = {
  requester: 'With the requesting clinician',
  delegate: 'Escalated to the delegate',
  responsible: 'Escalated to the responsible consultant or GP practice',
  'fail-safe-officer': "Escalated to the network's fail-safe officer",
  watching: 'Watched by the performing network until acknowledged',
  provider: 'With the imaging provider',
};

export function isAlertStep(value: unknown): value is AlertStep {
  return typeof value === 'string' && (ALERT_STEPS as readonly string[]).includes(value);
}

export function alertStepConcept(step: AlertStep): CodeableConcept {
  return {
    coding: [{ system: CODE_SYSTEMS.alertStep, code: step, display: ALERT_STEP_DISPLAY[step] }],
    text: ALERT_STEP_DISPLAY[step],
  };
}

/** Decisions a clinician may record as the action taken on an alert, when it is neither a follow-up nor a referral. */
export const ALERT_DECISIONS = [
  'emergency-care',
  'treatment-started',
  'follow-up-arranged',
  'surveillance',
  'no-further-action',
] as const;
export type AlertDecision = (typeof ALERT_DECISIONS)[number];

export const ALERT_DECISION_DISPLAY: Readonly<Record<AlertDecision, string>> = {
  'emergency-care': 'Patient sent for emergency care or admitted',
  'treatment-started': 'Treatment started',
  'follow-up-arranged': 'Clinical follow-up arranged',
  surveillance: 'Surveillance agreed with the patient',
  'no-further-action': 'Reviewed: no further action clinically appropriate',
};

export function isAlertDecision(value: unknown): value is AlertDecision {
  return typeof value === 'string' && (ALERT_DECISIONS as readonly string[]).includes(value);
}

export function alertDecisionCoding(decision: AlertDecision): Coding {
  return { system: CODE_SYSTEMS.alertDecision, code: decision, display: ALERT_DECISION_DISPLAY[decision] };
}
