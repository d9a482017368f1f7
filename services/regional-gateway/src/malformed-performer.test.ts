import { odsReference, OutcomeError, patientReferenceByNhsNumber, testNhsNumber } from '@imaging/fhir';
import { exampleServiceRequest } from '@imaging/fhir/examples';
import { afterAll, describe, expect, it } from 'vitest';
import { placeOrder } from './domain/orders.ts';
import { connectedRegions } from './testing/national.ts';
import { GP } from './testing/regions.ts';

/**
 * A performer whose ODS code is malformed is an unknown performer, reported with the order's other
 * problems: the gateway does not ask the hub's directory about it (the hub refuses such a search, and
 * its 400 would be about a search the client never made). Through the real hub client and hub.
 */
const world = await connectedRegions();
afterAll(() => world.close());
const { north } = world;

async function refusal(write: () => Promise<unknown>) {
  try {
    await write();
  } catch (err) {
    if (!(err instanceof OutcomeError)) throw err;
    return { status: err.status, issues: err.outcome.issue ?? [] };
  }
  throw new Error('expected the write to be refused');
}

describe('an order whose performer ODS code is malformed', () => {
  it.each(['RM1-X', 'AB'])("%s: a 422 with the order's other problems, no directory search", async (ods) => {
    const directory = () => world.calls.filter((c) => c.endsWith('/fhir/Organization')).length;
    const before = directory();
    const order = exampleServiceRequest({
      subject: patientReferenceByNhsNumber(testNhsNumber(77)), // no such patient here
      performer: [odsReference(ods)],
    });
    const refused = await refusal(() => placeOrder(north.deps, GP, order, `case-malformed-${ods}`));
    expect(refused.status).toBe(422);
    const at = refused.issues.map((i) => i.expression?.[0]);
    expect(at).toContain('ServiceRequest.performer[0]');
    expect(at).toContain('ServiceRequest.subject');
    expect(refused.issues.map((i) => i.diagnostics)).toContain(`Unknown performer: no region serves ODS code ${ods}`);
    expect(directory()).toBe(before);
  });

  it('the directory lookups: not found, without asking the hub', async () => {
    const before = world.calls.length;
    expect(await north.deps.hub.findService('RM1-X')).toBeUndefined();
    expect(await north.deps.hub.findAlertRoles({ ods: 'AB' })).toBeUndefined();
    expect(world.calls).toHaveLength(before);
  });

  it('a well-formed unknown code is still asked of the directory', async () => {
    const before = world.calls.filter((c) => c.endsWith('/fhir/Organization')).length;
    const order = exampleServiceRequest({
      subject: patientReferenceByNhsNumber(testNhsNumber(77)),
      performer: [odsReference('ZZ999')],
    });
    const refused = await refusal(() => placeOrder(north.deps, GP, order, 'case-unknown-zz999'));
    expect(refused.status).toBe(422);
    expect(refused.issues.map((i) => i.expression?.[0])).toContain('ServiceRequest.performer[0]');
    expect(world.calls.filter((c) => c.endsWith('/fhir/Organization')).length).toBe(before + 1);
  });
});
