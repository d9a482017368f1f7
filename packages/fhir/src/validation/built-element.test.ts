import type { Resource, ServiceRequest } from '@medplum/fhirtypes';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { exampleFulfilmentTask, exampleServiceRequest } from '../examples/index.ts';
import { baseFindings, baseFindingsWithBuiltElement } from './base.ts';
import type { BaseFindings } from './base.ts';
import { validationFindings, validationFindingsWithBuiltElement } from './validate.ts';

/** Findings in a stable order: the derived ones list the re-evaluated invariants last. */
const sorted = (findings: BaseFindings | { structure: unknown[]; rules: unknown[] }) =>
  Object.fromEntries(
    Object.entries(findings).map(([kind, issues]) => [
      kind,
      (issues as unknown[]).map((i) => JSON.stringify(i)).sort(),
    ]),
  );

const order = exampleServiceRequest();
/** Orders with a problem in each kind of place: base R4 finds each, some inside the subject the gateway replaces. */
const validatedOrders: Record<string, ServiceRequest> = {
  valid: order,
  'a status outside its required binding': { ...order, status: 'bogus' as ServiceRequest['status'] },
  'an unknown element': { ...order, colour: 'blue' } as ServiceRequest,
  'orderDetail without code (prr-1, an invariant of the whole order)': {
    ...order,
    code: undefined,
    orderDetail: [{ text: 'contrast' }],
  },
  'a performer of a type the element does not allow': { ...order, performer: [{ reference: 'Endpoint/e1' }] },
  'a subject with a use outside its binding': {
    ...order,
    subject: { identifier: { use: 'bogus' as 'usual', system: 'https://fhir.nhs.uk/Id/nhs-number', value: '1' } },
  },
  'a subject with an unknown element': { ...order, subject: { reference: 'Patient/p1', colour: 1 } as never },
  'a subject of a type the element does not allow': { ...order, subject: { reference: 'Endpoint/e1' } },
};

const fhirId = fc.stringMatching(/^[A-Za-z0-9\-.]{1,64}$/);

describe('findings of a validated resource with one element the caller built', () => {
  it('equal those of validating the changed order in full, wherever the validated order was wrong', () => {
    fc.assert(
      fc.property(fc.constantFrom(...Object.keys(validatedOrders)), fhirId, (name, id) => {
        const validated = validatedOrders[name] as ServiceRequest;
        const changed: ServiceRequest = { ...validated, subject: { reference: `Patient/${id}` } };
        expect(sorted(baseFindingsWithBuiltElement(validated, changed, 'subject'))).toEqual(
          sorted(baseFindings(changed)),
        );
        expect(sorted(validationFindingsWithBuiltElement(validated, changed, 'subject'))).toEqual(
          sorted(validationFindings(changed)),
        );
      }),
      { numRuns: 60 },
    );
  });

  it('evaluate the invariants of the whole resource again: a built element can mend one or break one', () => {
    const broken = validatedOrders[
      'orderDetail without code (prr-1, an invariant of the whole order)'
    ] as ServiceRequest;
    const mended: ServiceRequest = { ...broken, code: order.code };
    const prr1 = (f: BaseFindings) => f.structure.filter((i) => i.details?.text?.includes('prr-1'));
    expect(prr1(baseFindings(broken))).toHaveLength(1);
    expect(prr1(baseFindingsWithBuiltElement(broken, mended, 'code'))).toEqual([]);
    expect(prr1(baseFindingsWithBuiltElement(mended, broken, 'code'))).toHaveLength(1);
  });

  it('carry over a Task the same way', () => {
    const task = exampleFulfilmentTask({ status: 'bogus' as 'requested' });
    const changed = { ...task, for: { reference: 'Patient/p2' } };
    expect(sorted(baseFindingsWithBuiltElement(task, changed, 'for'))).toEqual(sorted(baseFindings(changed)));
    expect(baseFindingsWithBuiltElement(task, changed, 'for').codes.map((i) => i.expression?.[0])).toEqual([
      'Task.status',
    ]);
  });

  it('validate in full where they cannot carry over: a Bundle, a name that is not an element, another type', () => {
    const bundle: Resource = { resourceType: 'Bundle', type: 'collection', entry: [{ resource: order }] };
    const changedBundle = { ...bundle, entry: [{ resource: validatedOrders['an unknown element'] }] } as Resource;
    expect(sorted(baseFindingsWithBuiltElement(bundle, changedBundle, 'entry'))).toEqual(
      sorted(baseFindings(changedBundle)),
    );
    expect(baseFindingsWithBuiltElement(bundle, changedBundle, 'entry').structure).not.toEqual([]);
    // `occurrence[x]` is the element; a JSON name of one of its types is not, so nothing carries over.
    const timed = { ...order, occurrenceDateTime: 'not a date' } as ServiceRequest;
    expect(baseFindingsWithBuiltElement(order, timed, 'occurrenceDateTime').structure).not.toEqual([]);
    const task = exampleFulfilmentTask({ status: 'bogus' as 'requested' });
    expect(baseFindingsWithBuiltElement(order, task, 'for').codes).not.toEqual([]);
    // A name every object inherits is no element either.
    const odd = { ...order, toString: 'x' } as ServiceRequest;
    expect(baseFindingsWithBuiltElement(order, odd, 'toString').structure).not.toEqual([]);
  });
});
