import type { CodeableConcept, Coding, ServiceRequest, Task } from '@medplum/fhirtypes';
import { CODE_SYSTEMS, SNOMED_SYSTEM } from '../systems.ts';
import { imagingProcedure } from './imaging-procedures.ts';

/**
 * The codes of turnaround tracking (DOMAIN.md §4, requirements 16-19; docs/clinical-safety.md,
 * Turnaround): the pathway an order is on, which sets its due times, and which turnaround time a breach
 * missed.
 */

/** The pathways with their own due times, most pressing first. */
export const REFERRAL_PATHWAYS = ['ces', 'suspected-cancer', 'urgent', 'routine'] as const;
export type ReferralPathway = (typeof REFERRAL_PATHWAYS)[number];

export const REFERRAL_PATHWAY_DISPLAY: Readonly<Record<ReferralPathway, string>> = {
  ces: 'Suspected cauda equina syndrome',
  'suspected-cancer': 'Urgent suspected cancer',
  urgent: 'Urgent',
  routine: 'Routine',
};

/** The priority of the Tasks a pathway's turnaround raises (R4 request-priority). */
export const REFERRAL_PATHWAY_PRIORITY: Readonly<Record<ReferralPathway, NonNullable<Task['priority']>>> = {
  ces: 'stat',
  'suspected-cancer': 'urgent',
  urgent: 'urgent',
  routine: 'routine',
};

export function isReferralPathway(value: unknown): value is ReferralPathway {
  return typeof value === 'string' && (REFERRAL_PATHWAYS as readonly string[]).includes(value);
}

export function referralPathwayCoding(pathway: ReferralPathway): Coding {
  return { system: CODE_SYSTEMS.referralPathway, code: pathway, display: REFERRAL_PATHWAY_DISPLAY[pathway] };
}

/**
 * The ServiceRequest.category that puts an order on the urgent suspected-cancer pathway (the former
 * two-week-wait referral). Ours: no FHIR coding of that flag was found in a public NHS source.
 */
export function suspectedCancerCategory(): CodeableConcept {
  return { coding: [referralPathwayCoding('suspected-cancer')], text: REFERRAL_PATHWAY_DISPLAY['suspected-cancer'] };
}

/**
 * SNOMED CT 192970008 |Cauda equina syndrome (disorder)|: as a ServiceRequest.reasonCode of an MRI
 * procedure, it marks a suspected-CES request, whose MRI is due within 4 hours of the request.
 */
export const CAUDA_EQUINA_SYNDROME: Readonly<Coding & { code: string }> = {
  system: SNOMED_SYSTEM,
  code: '192970008',
  display: 'Cauda equina syndrome',
};

/** A suspected-CES request: the reason is cauda equina syndrome, and the procedure an MRI. */
export function isSuspectedCes(order: Pick<ServiceRequest, 'reasonCode' | 'code'>): boolean {
  const reason = (order.reasonCode ?? [])
    .flatMap((c) => c.coding ?? [])
    .some((c) => c.system === SNOMED_SYSTEM && c.code === CAUDA_EQUINA_SYNDROME.code);
  const mri = (order.code?.coding ?? []).some(
    (c) => c.system === SNOMED_SYSTEM && imagingProcedure(c.code)?.modality === 'MR',
  );
  return reason && mri;
}

const URGENT_PRIORITIES: ReadonlySet<string | undefined> = new Set(['urgent', 'asap', 'stat']);

/**
 * The pathway an order is on: suspected CES (reason and MRI), else suspected cancer (its category), else
 * urgent (its priority urgent, asap or stat), else routine.
 */
export function referralPathwayOf(order: Pick<ServiceRequest, 'reasonCode' | 'code' | 'category' | 'priority'>) {
  if (isSuspectedCes(order)) return 'ces' satisfies ReferralPathway;
  const suspectedCancer = (order.category ?? [])
    .flatMap((c) => c.coding ?? [])
    .some((c) => c.system === CODE_SYSTEMS.referralPathway && c.code === 'suspected-cancer');
  if (suspectedCancer) return 'suspected-cancer' satisfies ReferralPathway;
  return URGENT_PRIORITIES.has(order.priority) ? ('urgent' as const) : ('routine' as const);
}

/** The stage of the case a turnaround time covers: request → test, or test → report. */
export type TurnaroundStage = 'test' | 'report';

/**
 * The turnaround times a breach can miss:
 * - ces-imaging: a suspected-CES MRI not done within CES_IMAGING_WITHIN (4 h) of the request;
 * - dm01: a test not done within DM01_WAIT (6 weeks) of the request;
 * - report-overdue: an urgent, suspected-cancer or CES report not issued within its pathway's REPORT_DUE of the exam;
 * - reporting-tat: a report not issued within REPORTING_TAT (28 days) of the exam.
 */
export const BREACH_KINDS = ['ces-imaging', 'dm01', 'report-overdue', 'reporting-tat'] as const;
export type BreachKind = (typeof BREACH_KINDS)[number];

export const BREACH_KIND_INFO: Readonly<Record<BreachKind, { display: string; stage: TurnaroundStage }>> = {
  'ces-imaging': { display: 'Suspected cauda equina syndrome: MRI not done in time', stage: 'test' },
  dm01: { display: 'DM01: not tested within the diagnostic waiting time', stage: 'test' },
  'report-overdue': { display: 'Report not issued by its pathway due time', stage: 'report' },
  'reporting-tat': { display: 'Reporting turnaround: not reported within the maximum time', stage: 'report' },
};

export function isBreachKind(value: unknown): value is BreachKind {
  return typeof value === 'string' && (BREACH_KINDS as readonly string[]).includes(value);
}

export function breachKindCoding(kind: BreachKind): Coding {
  return { system: CODE_SYSTEMS.turnaroundBreach, code: kind, display: BREACH_KIND_INFO[kind].display };
}
