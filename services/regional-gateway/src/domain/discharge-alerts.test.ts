import type { Communication, ServiceRequest } from '@medplum/fhirtypes';
import { odsReference, SYSTEMS } from '@imaging/fhir';
import type { AlertCategory, Caller, WithId } from '@imaging/fhir';
import { outcomeErrorOf } from '@imaging/fhir/testing';
import { exampleDiagnosticReport, examplePatient, exampleServiceRequest } from '@imaging/fhir/examples';
import { ALERT_COPIED, buildMessage } from '@imaging/messaging';
import { describe, expect, it } from 'vitest';
import { auditsOf, communications, RN1_RIS, theAlert } from '../testing/alerts.ts';
import { HUB_CALLER, testRegions } from '../testing/regions.ts';
import { acknowledgeAlert } from './alert-operations.ts';
import { deliverDue } from './delivery.ts';
import { processMessage } from './inbound.ts';
import { accessOrganisations, peerOf } from './labels.ts';
import { updateOrderEncounter } from './order-updates.ts';
import { placeOrder } from './orders.ts';
import { registerPatient } from './registrations.ts';
import { issueReport } from './results.ts';

/**
 * Requirement 14 when the patient leaves after the alert was raised: a discharge recorded on the order
 * sends every alert still open on it to the registered GP practice, once, here or in its own region.
 */

const ED: Caller = { clientId: 'ed-rn1', kind: 'referrer', organisation: 'RN1', region: 'north' };
const REPORT = 'RN1-REP-ED-9';
const COPY = `${REPORT}-acknowledge-gp-copy`;

/**
 * An ED order at RN1 for RN1's own radiology, the patient still in the department, reported with `category`:
 * the alert is raised for the ED alone. The patient's GP practice is `practice` (N81001 in the north, or
 * S81001 in the south).
 */
async function alertBeforeDischarge(category: AlertCategory, practice: 'N81001' | 'S81001') {
  const regions = testRegions();
  const { north } = regions;
  await registerPatient(north, ED, examplePatient({ generalPractitioner: [odsReference(practice)] }));
  const { serviceRequest: order } = await placeOrder(
    north,
    ED,
    exampleServiceRequest({
      identifier: [{ system: SYSTEMS.placerOrder, value: 'RN1-ED-000009' }],
      requester: odsReference('RN1'),
      performer: [odsReference('RN1')],
      contained: [{ resourceType: 'Encounter', id: 'enc', status: 'in-progress', class: { code: 'EMER' } }],
      encounter: { reference: '#enc' },
    }),
    'case-ed',
  );
  await issueReport(
    north,
    RN1_RIS,
    exampleDiagnosticReport(
      {
        identifier: [{ system: SYSTEMS.report, value: REPORT }],
        performer: [odsReference('RN1')],
        basedOn: [{ reference: `ServiceRequest/${order.id}` }],
        subject: order.subject,
        conclusion: 'Spiculated nodule in the right upper lobe.',
      },
      category,
    ),
    'case-ed',
  );
  const alert = await theAlert(north);
  expect(alert.restriction?.recipient).not.toContainEqual(odsReference(practice));
  const current = await north.store.read<ServiceRequest>('ServiceRequest', order.id);
  return { regions, north, order: current };
}

/** The order with its encounter finished at `end`. */
const discharged = (order: WithId<ServiceRequest>, end = '2026-11-23T15:00:00Z'): ServiceRequest => ({
  ...order,
  contained: [{ resourceType: 'Encounter', id: 'enc', status: 'finished', class: { code: 'EMER' }, period: { end } }],
});
const copiesIn = async (deps: Parameters<typeof communications>[0]) =>
  (await communications(deps)).filter(
    (c) => c.identifier?.[0]?.system === SYSTEMS.communication && c.identifier[0].value === COPY,
  );
/** The copies a region received from the north, kept under their sender. */
const receivedIn = async (deps: Parameters<typeof communications>[0]) =>
  (await communications(deps)).filter(
    (c) =>
      c.identifier?.[0]?.system === SYSTEMS.receivedCommunication && c.identifier[0].value === `imaging-north/${COPY}`,
  );

describe('a discharge recorded after an alert was raised', () => {
  it('sends the open alert to the GP practice of the same region: a recipient of the Task, a Communication it can read, audited', async () => {
    const { north, order } = await alertBeforeDischarge('URGENT', 'N81001');
    const updated = await updateOrderEncounter(north, ED, order.id, discharged(order), order.meta?.versionId, 'c');

    const alert = await theAlert(north);
    expect(alert.restriction?.recipient).toContainEqual(odsReference('N81001'));
    expect(alert.status).toBe('requested'); // still the ED's to acknowledge
    const [copy, ...more] = await copiesIn(north);
    expect(more).toHaveLength(0);
    expect(copy).toMatchObject({
      recipient: [odsReference('N81001')],
      sender: odsReference('RN1'),
      basedOn: [{ reference: `Task/${alert.id}` }],
      subject: order.subject,
    });
    expect(copy?.payload?.[0]?.contentString).toContain('discharged after the result was issued');
    expect(copy?.payload?.at(-1)?.contentString).toBe('Conclusion: Spiculated nodule in the right upper lobe.');
    expect(accessOrganisations(copy as Communication)).toContain('N81001');
    expect(await auditsOf(north, 'alert-discharge-copied')).toHaveLength(1);

    // The discharge sent again, with a corrected end: the practice has it already.
    await updateOrderEncounter(
      north,
      ED,
      order.id,
      discharged(updated, '2026-11-23T15:30:00Z'),
      updated.meta?.versionId,
      'c',
    );
    expect(await copiesIn(north)).toHaveLength(1);
    expect(await auditsOf(north, 'alert-discharge-copied')).toHaveLength(1);
  });

  it('still sends the practice its own copy when another region sent one first under that identifier: it is kept apart', async () => {
    const { north, order } = await alertBeforeDischarge('URGENT', 'N81001');
    // The south, holding real credentials, sends a well-formed copy for N81001 of the ED's alert on its own
    // order, under the identifier the north will give its practice's copy.
    const forged: Communication = {
      resourceType: 'Communication',
      identifier: [{ system: SYSTEMS.communication, value: COPY }],
      status: 'completed',
      basedOn: [
        { type: 'Task', identifier: { system: SYSTEMS.task, value: `${REPORT}-acknowledge` } },
        { type: 'ServiceRequest', identifier: { system: SYSTEMS.placerOrder, value: 'S81001-000009' } },
      ],
      about: [{ type: 'DiagnosticReport', identifier: { system: SYSTEMS.report, value: REPORT } }],
      recipient: [odsReference('N81001')],
      sender: odsReference('S81001'),
      payload: [{ contentString: 'No action needed.' }],
    };
    const message = buildMessage({
      event: ALERT_COPIED,
      timestamp: '2026-11-23T14:00:00Z',
      sourceService: 'imaging-south',
      destinationService: 'imaging-north',
      focus: forged,
      resources: [],
      identifierOf: () => undefined,
    });
    await processMessage(north, HUB_CALLER, message, 'req-forged', 'case-ed');

    await updateOrderEncounter(north, ED, order.id, discharged(order), order.meta?.versionId, 'c');
    const [copy, ...more] = await copiesIn(north);
    expect(more).toHaveLength(0);
    expect(copy?.sender).toEqual(odsReference('RN1'));
    expect(copy?.payload?.[0]?.contentString).toContain('discharged after the result was issued');
    expect(accessOrganisations(copy as Communication).sort()).toEqual(['N81001', 'RN1']);
    expect(peerOf(copy as Communication)).toBeUndefined();
  });

  it('copies it once when two replicas record the same discharge at once: the other gets 412 and writes nothing', async () => {
    const { north, order } = await alertBeforeDischarge('CRITICAL', 'N81001');
    const twice = await Promise.allSettled([
      updateOrderEncounter(north, ED, order.id, discharged(order), order.meta?.versionId, 'c'),
      updateOrderEncounter(north, ED, order.id, discharged(order), order.meta?.versionId, 'c'),
    ]);
    expect(twice.map((r) => r.status).sort()).toEqual(['fulfilled', 'rejected']);
    const refused = twice.find((r) => r.status === 'rejected') as PromiseRejectedResult;
    expect(await outcomeErrorOf(Promise.reject(refused.reason))).toMatchObject({ status: 412 });
    expect(await copiesIn(north)).toHaveLength(1);
    expect(await auditsOf(north, 'alert-discharge-copied')).toHaveLength(1);
  });

  it('copies it to the practice in another region through the hub, once, however often the discharge comes', async () => {
    const { regions, north, order } = await alertBeforeDischarge('CANCER', 'S81001');
    const updated = await updateOrderEncounter(north, ED, order.id, discharged(order), order.meta?.versionId, 'c');
    expect(await receivedIn(regions.south)).toHaveLength(0); // queued with the discharge, not yet sent
    await updateOrderEncounter(
      north,
      ED,
      order.id,
      discharged(updated, '2026-11-23T16:00:00Z'),
      updated.meta?.versionId,
      'c',
    );
    await deliverDue(north);
    const [copy, ...more] = await receivedIn(regions.south);
    expect(more).toHaveLength(0);
    expect(copy?.recipient).toEqual([odsReference('S81001')]);
    expect(copy?.sender).toEqual(odsReference('RN1'));
    expect(copy?.payload?.[0]?.contentString).toContain('discharged after the result was issued');
    expect(accessOrganisations(copy as Communication)).toEqual(['S81001']);
    expect(await auditsOf(north, 'alert-copy-sent')).toHaveLength(1);
    expect(await auditsOf(regions.south, 'alert-copy-received')).toHaveLength(1);
    expect(await copiesIn(north)).toHaveLength(0); // the practice's copy lives in its own region
  });

  it('still sends a CRITICAL or CANCER alert acknowledged but not acted on; not one already closed', async () => {
    const acknowledge = async (north: Parameters<typeof theAlert>[0]) => {
      const alert = await theAlert(north);
      const by = { name: 'acknowledgedBy', valueString: 'Dr Priya Shah' };
      const voice = [
        { name: 'communicatedBy', valueString: 'Dr Eva Novak' },
        { name: 'communicatedAt', valueDateTime: '2026-11-23T09:00:00Z' },
      ];
      await acknowledgeAlert(north, ED, alert.id, { resourceType: 'Parameters', parameter: [by, ...voice] }, undefined);
    };
    const awaitingAction = await alertBeforeDischarge('CANCER', 'N81001');
    await acknowledge(awaitingAction.north);
    expect((await theAlert(awaitingAction.north)).status).toBe('in-progress');
    const { north, order } = awaitingAction;
    await updateOrderEncounter(north, ED, order.id, discharged(order), order.meta?.versionId, 'c');
    expect(await copiesIn(north)).toHaveLength(1);

    const closed = await alertBeforeDischarge('URGENT', 'N81001');
    await acknowledge(closed.north);
    expect((await theAlert(closed.north)).status).toBe('completed');
    await updateOrderEncounter(
      closed.north,
      ED,
      closed.order.id,
      discharged(closed.order),
      closed.order.meta?.versionId,
      'c',
    );
    expect(await copiesIn(closed.north)).toHaveLength(0);
    expect(await auditsOf(closed.north, 'alert-discharge-copied')).toHaveLength(0);
  });

  it('sends nothing with the safety layer off', async () => {
    const { north, order } = await alertBeforeDischarge('URGENT', 'N81001');
    const off = { ...north, safety: false };
    await updateOrderEncounter(off, ED, order.id, discharged(order), order.meta?.versionId, 'c');
    expect(await copiesIn(north)).toHaveLength(0);
    expect((await theAlert(north)).restriction?.recipient).not.toContainEqual(odsReference('N81001'));
  });
});
