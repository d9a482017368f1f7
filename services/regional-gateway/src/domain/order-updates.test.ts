import type { ServiceRequest } from '@medplum/fhirtypes';
import { odsReference, SYSTEMS } from '@imaging/fhir';
import type { Caller, WithId } from '@imaging/fhir';
import { outcomeErrorOf } from '@imaging/fhir/testing';
import { exampleDiagnosticReport, examplePatient, exampleServiceRequest } from '@imaging/fhir/examples';
import { describe, expect, it } from 'vitest';
import { auditsOf, communications, RN1_RIS, theAlert } from '../testing/alerts.ts';
import { GP, testRegions } from '../testing/regions.ts';
import { encounterOf, updateOrderEncounter } from './order-updates.ts';
import { placeOrder } from './orders.ts';
import { registerPatient } from './registrations.ts';
import { issueReport } from './results.ts';

const ED: Caller = { clientId: 'ed-rn1', kind: 'referrer', organisation: 'RN1', region: 'north' };

/** An ED order at RN1, for RN1's own radiology, with the attendance in progress; the patient's GP is N81001. */
async function edOrder() {
  const regions = testRegions();
  const { north } = regions;
  await registerPatient(north, ED, examplePatient({ generalPractitioner: [odsReference('N81001')] }));
  const placed = await placeOrder(
    north,
    ED,
    exampleServiceRequest({
      identifier: [{ system: SYSTEMS.placerOrder, value: 'RN1-ED-000001' }],
      requester: odsReference('RN1'),
      performer: [odsReference('RN1')],
      contained: [{ resourceType: 'Encounter', id: 'enc', status: 'in-progress', class: { code: 'EMER' } }],
      encounter: { reference: '#enc' },
    }),
    'case-ed',
  );
  return { regions, north, order: placed.serviceRequest };
}

const discharged = (order: WithId<ServiceRequest>): ServiceRequest => ({
  ...order,
  contained: [
    {
      resourceType: 'Encounter',
      id: 'enc',
      status: 'finished',
      class: { code: 'EMER' },
      period: { end: '2026-11-23T15:00:00Z' },
    },
  ],
});

describe("the requester records what became of its order's encounter", () => {
  it('records a discharge after ordering, audited, so an alert raised later also reaches the GP practice', async () => {
    const { north, order } = await edOrder();
    const updated = await updateOrderEncounter(north, ED, order.id, discharged(order), order.meta?.versionId, 'c');
    expect(updated.meta?.versionId).not.toBe(order.meta?.versionId);
    expect(encounterOf(updated)).toMatchObject({ status: 'finished', period: { end: '2026-11-23T15:00:00Z' } });
    const [audit] = await auditsOf(north, 'order-encounter-updated');
    expect(audit?.entity?.[1]?.detail).toContainEqual({
      type: 'encounter-status',
      valueString: 'in-progress → finished',
    });
    // The same again changes nothing.
    const again = await updateOrderEncounter(north, ED, order.id, discharged(updated), updated.meta?.versionId, 'c');
    expect(again.meta?.versionId).toBe(updated.meta?.versionId);

    await issueReport(
      north,
      RN1_RIS,
      exampleDiagnosticReport(
        {
          identifier: [{ system: SYSTEMS.report, value: 'RN1-REP-ED-1' }],
          performer: [odsReference('RN1')],
          basedOn: [{ reference: `ServiceRequest/${order.id}` }],
          subject: order.subject,
        },
        'URGENT',
      ),
      'case-ed',
    );
    expect((await theAlert(north)).restriction?.recipient).toContainEqual(odsReference('N81001'));
    const [told] = await communications(north);
    expect(told?.recipient).toContainEqual(odsReference('N81001'));
  });

  it('refuses anything else: another element, another contained resource, another id or none, no If-Match, a stale version, another caller', async () => {
    const { north, order } = await edOrder();
    const version = order.meta?.versionId;
    const changed = await outcomeErrorOf(
      updateOrderEncounter(north, ED, order.id, { ...discharged(order), priority: 'stat' }, version, 'c'),
    );
    expect(changed.status).toBe(422);
    expect(changed.outcome.issue.map((i) => i.expression?.[0])).toEqual(['ServiceRequest.priority']);
    const dropped = await outcomeErrorOf(
      updateOrderEncounter(north, ED, order.id, { ...order, contained: [] }, version, 'c'),
    );
    expect(dropped.outcome.issue.map((i) => i.expression?.[0])).toContain('ServiceRequest.contained');
    // A body naming another order, or none, is a 400 (FHIR R4 update).
    const { id: _, ...withoutId } = discharged(order);
    for (const body of [{ ...discharged(order), id: 'other' }, withoutId]) {
      const misnamed = await outcomeErrorOf(updateOrderEncounter(north, ED, order.id, body, version, 'c'));
      expect(misnamed.status).toBe(400);
      expect(misnamed.outcome.issue.map((i) => i.expression?.[0])).toEqual(['ServiceRequest.id']);
    }
    expect(
      (await outcomeErrorOf(updateOrderEncounter(north, ED, order.id, discharged(order), undefined, 'c'))).status,
    ).toBe(428);
    expect((await outcomeErrorOf(updateOrderEncounter(north, ED, order.id, discharged(order), '99', 'c'))).status).toBe(
      412,
    );
    // The imaging provider sees the order but may not change it; another practice cannot see it at all.
    expect(
      (await outcomeErrorOf(updateOrderEncounter(north, RN1_RIS, order.id, discharged(order), version, 'c'))).status,
    ).toBe(403);
    expect(
      (await outcomeErrorOf(updateOrderEncounter(north, GP, order.id, discharged(order), version, 'c'))).status,
    ).toBe(404);
    expect((await north.store.read<ServiceRequest>('ServiceRequest', order.id)).meta?.versionId).toBe(version);
    expect(await auditsOf(north, 'order-encounter-updated')).toHaveLength(0);
  });

  it('refuses an update to an order that carries no encounter', async () => {
    const regions = testRegions();
    await registerPatient(regions.north, GP, examplePatient());
    const { serviceRequest } = await placeOrder(regions.north, GP, exampleServiceRequest(), 'case-1');
    const err = await outcomeErrorOf(
      updateOrderEncounter(regions.north, GP, serviceRequest.id, serviceRequest, serviceRequest.meta?.versionId, 'c'),
    );
    expect(err.status).toBe(422);
    expect(err.outcome.issue.map((i) => i.expression?.[0])).toEqual(['ServiceRequest.encounter']);
  });
});
