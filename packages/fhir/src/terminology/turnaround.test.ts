import type { ServiceRequest } from '@medplum/fhirtypes';
import { describe, expect, it } from 'vitest';
import { exampleServiceRequest } from '../examples/index.ts';
import { CODE_SYSTEMS, SNOMED_SYSTEM } from '../systems.ts';
import { validationIssues } from '../validation/index.ts';
import { IMAGING_PROCEDURE_CODES, procedureCodings } from './imaging-procedures.ts';
import {
  BREACH_KIND_INFO,
  BREACH_KINDS,
  breachKindCoding,
  CAUDA_EQUINA_SYNDROME,
  isBreachKind,
  isReferralPathway,
  isSuspectedCes,
  REFERRAL_PATHWAYS,
  referralPathwayCoding,
  referralPathwayOf,
  suspectedCancerCategory,
} from './turnaround.ts';

const cesReason = { coding: [CAUDA_EQUINA_SYNDROME] };
const mri = { coding: procedureCodings(IMAGING_PROCEDURE_CODES.mriLumbosacralSpine) };
const order = (overrides: Partial<ServiceRequest>) => exampleServiceRequest(overrides);

describe('the pathway an order is on', () => {
  it('is suspected CES for an MRI whose reason is cauda equina syndrome, whatever its priority or category', () => {
    const ces = order({
      code: mri,
      reasonCode: [cesReason],
      priority: 'routine',
      category: [suspectedCancerCategory()],
    });
    expect(isSuspectedCes(ces)).toBe(true);
    expect(referralPathwayOf(ces)).toBe('ces');
    // The order is still a valid order: the MRI code is one we accept.
    expect(validationIssues(ces)).toEqual([]);
  });

  it('is not suspected CES without the reason, or for another modality than MRI', () => {
    expect(isSuspectedCes(order({ code: mri, reasonCode: [{ text: 'Cauda equina syndrome' }] }))).toBe(false);
    expect(isSuspectedCes(order({ reasonCode: [cesReason] }))).toBe(false); // a CT chest
    expect(
      isSuspectedCes(
        order({ code: mri, reasonCode: [{ coding: [{ system: 'http://example.org', code: '192970008' }] }] }),
      ),
    ).toBe(false);
    expect(referralPathwayOf(order({ reasonCode: [cesReason], priority: 'stat' }))).toBe('urgent');
  });

  it('is suspected cancer with the category of our pathway system, then urgent by priority, else routine', () => {
    expect(referralPathwayOf(order({ category: [suspectedCancerCategory()], priority: 'routine' }))).toBe(
      'suspected-cancer',
    );
    expect(
      referralPathwayOf(order({ category: [{ coding: [{ system: SNOMED_SYSTEM, code: 'suspected-cancer' }] }] })),
    ).toBe('routine');
    for (const priority of ['urgent', 'asap', 'stat'] as const)
      expect(referralPathwayOf(order({ priority }))).toBe('urgent');
    expect(referralPathwayOf(order({ priority: 'routine' }))).toBe('routine');
    expect(referralPathwayOf(order({ priority: undefined }))).toBe('routine');
  });
});

describe('turnaround codes', () => {
  it('code pathways and breaches in our own systems, each with a display', () => {
    for (const pathway of REFERRAL_PATHWAYS) {
      expect(referralPathwayCoding(pathway)).toMatchObject({ system: CODE_SYSTEMS.referralPathway, code: pathway });
      expect(isReferralPathway(pathway)).toBe(true);
    }
    for (const kind of BREACH_KINDS) {
      expect(breachKindCoding(kind)).toMatchObject({ system: CODE_SYSTEMS.turnaroundBreach, code: kind });
      expect(breachKindCoding(kind).display).toBe(BREACH_KIND_INFO[kind].display);
      expect(isBreachKind(kind)).toBe(true);
    }
    expect(isBreachKind('late')).toBe(false);
    expect(isReferralPathway('2ww')).toBe(false);
    expect(BREACH_KINDS.filter((k) => BREACH_KIND_INFO[k].stage === 'test')).toEqual(['ces-imaging', 'dm01']);
  });
});
