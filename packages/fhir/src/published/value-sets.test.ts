import { describe, expect, it } from 'vitest';
import { exampleServiceRequest } from '../examples/index.ts';
import { SNOMED_SYSTEM } from '../systems.ts';
import { IMAGING_PROCEDURES } from '../terminology/imaging-procedures.ts';
import { validationIssues } from '../validation/validate.ts';
import { expandOptionsOf, expandValueSet, imagingProceduresValueSet } from './value-sets.ts';

const now = new Date('2026-11-23T09:00:00Z');

describe('the imaging procedures ValueSet', () => {
  it('is valid R4 and lists exactly the codes an order is accepted with', () => {
    const valueSet = imagingProceduresValueSet();
    expect(validationIssues(valueSet)).toEqual([]);
    const listed = valueSet.compose?.include.flatMap((i) => (i.concept ?? []).map((c) => `${i.system}|${c.code}`));
    expect(listed).toEqual(IMAGING_PROCEDURES.map((p) => `${SNOMED_SYSTEM}|${p.snomed}`));
    const orderFor = (code: string) => exampleServiceRequest({ code: { coding: [{ system: SNOMED_SYSTEM, code }] } });
    for (const p of IMAGING_PROCEDURES) expect(validationIssues(orderFor(p.snomed))).toEqual([]);
    expect(validationIssues(orderFor('71651007')).map((i) => i.code)).toEqual(['code-invalid']);
  });

  it('expands to every concept, or those a filter names, paged', () => {
    const all = expandValueSet(imagingProceduresValueSet(), { now });
    expect(validationIssues(all)).toEqual([]);
    expect(all.expansion?.total).toBe(IMAGING_PROCEDURES.length);
    expect(all.expansion?.timestamp).toBe(now.toISOString());
    expect(all.expansion?.contains?.map((c) => c.code)).toEqual(IMAGING_PROCEDURES.map((p) => p.snomed));

    const ct = expandValueSet(imagingProceduresValueSet(), { now, filter: 'computed TOMOGRAPHY' });
    expect(ct.expansion?.contains?.map((c) => c.display)).toEqual([
      'Computed tomography of chest',
      'Computed tomography of head',
    ]);
    const page = expandValueSet(imagingProceduresValueSet(), { now, offset: 1, count: 2 });
    expect(page.expansion?.contains?.map((c) => c.code)).toEqual(IMAGING_PROCEDURES.slice(1, 3).map((p) => p.snomed));
    expect(page.expansion?.total).toBe(IMAGING_PROCEDURES.length);
  });

  it('reads filter, offset and count, and refuses other $expand parameters with 400', () => {
    expect(expandOptionsOf(new URLSearchParams('filter=head&count=3&offset=0&_format=json'), now)).toEqual({
      now,
      filter: 'head',
      count: 3,
      offset: 0,
    });
    for (const bad of ['count=-1', 'offset=x', 'activeOnly=true'])
      expect(() => expandOptionsOf(new URLSearchParams(bad), now)).toThrow(expect.objectContaining({ status: 400 }));
  });
});
