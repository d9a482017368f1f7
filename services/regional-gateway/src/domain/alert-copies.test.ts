import type { AuditEvent, Communication, Task } from '@medplum/fhirtypes';
import {
  NHS_NUMBER_SYSTEM,
  odsReference,
  patientReferenceByNhsNumber,
  searchAll,
  searchOne,
  SYSTEMS,
  testNhsNumber,
} from '@imaging/fhir';
import { examplePatient } from '@imaging/fhir/examples';
import { outcomeErrorOf } from '@imaging/fhir/testing';
import { ALERT_COPIED, buildMessage } from '@imaging/messaging';
import { describe, expect, it } from 'vitest';
import { alertCase, auditsOf, communications } from '../testing/alerts.ts';
import { GP, HUB_CALLER, testRegions } from '../testing/regions.ts';
import type { GatewayDeps } from './ports.ts';
import { processMessage } from './inbound.ts';
import { registerPatient } from './registrations.ts';
import { accessOrganisations, peerOf } from './labels.ts';

/**
 * An alert's copy for a GP practice, received from another region (alert-copied), is the sender's word:
 * it never takes an identifier this region creates its own Communications under, so no region can stand
 * in for, or silence, the receiver's own alerts.
 */

/** The north's alert on RM1's report (alertCase): its Task and its Communication to the requester. */
const REPORT = 'RM1-REP-000123';
const OWN = `${REPORT}-acknowledge-raised`;
const FORGED = 'Nothing to act on: this report has been withdrawn.';

/** An alert-copied message from `from` to the north, for the north's practice N81001. */
function copyFrom(from: 'south' | 'midlands', identifier: string, overrides: Partial<Communication> = {}) {
  const namespace = from === 'south' ? 'S81001' : 'RM1';
  const copy: Communication = {
    resourceType: 'Communication',
    identifier: [{ system: SYSTEMS.communication, value: identifier }],
    status: 'completed',
    basedOn: [
      { type: 'Task', identifier: { system: SYSTEMS.task, value: `${REPORT}-acknowledge` } },
      { type: 'ServiceRequest', identifier: { system: SYSTEMS.placerOrder, value: `${namespace}-000777` } },
    ],
    about: [{ type: 'DiagnosticReport', identifier: { system: SYSTEMS.report, value: REPORT } }],
    recipient: [odsReference('N81001')],
    sender: odsReference(namespace),
    payload: [{ contentString: FORGED }],
    ...overrides,
  };
  return buildMessage({
    event: ALERT_COPIED,
    timestamp: '2026-11-23T08:00:00Z',
    sourceService: `imaging-${from}`,
    destinationService: 'imaging-north',
    focus: copy,
    resources: [],
    identifierOf: () => undefined,
  });
}

const byIdentifier = (deps: GatewayDeps, value: string) =>
  searchOne<Communication>(deps.store, 'Communication', { identifier: `${SYSTEMS.communication}|${value}` });
const forged = async (deps: GatewayDeps) =>
  (await communications(deps)).filter((c) => c.payload?.some((p) => p.contentString === FORGED));

describe('an alert copy received from another region', () => {
  it("is refused under an identifier the receiver creates its own under, and the receiver's own alert still goes out", async () => {
    const regions = testRegions();
    const { north } = regions;
    // The south, ahead of the report, sends the north a "copy" under the identifier of the north's own
    // Communication to the requester.
    const refusal = await outcomeErrorOf(
      processMessage(north, HUB_CALLER, copyFrom('south', OWN), 'req-forged', 'case-forged'),
    );
    expect(refusal.status).toBe(403);
    expect(refusal.outcome.issue?.map((i) => i.expression?.[0])).toContain('Bundle.entry[1].resource.identifier');
    expect(await forged(north)).toHaveLength(0);

    await alertCase(regions, { category: 'URGENT' });
    const own = await byIdentifier(north, OWN);
    expect(own?.payload?.[0]?.contentString).toContain('Urgent alert on an imaging report');
    expect(own?.sender).toEqual(odsReference('RM1'));
    expect(accessOrganisations(own as Communication)).toEqual(expect.arrayContaining(['N81001', 'RM1']));
    expect(peerOf(own as Communication)).toBeUndefined();
  });

  it('is kept under its sender: stored once however often it comes, and never one with another sender’s', async () => {
    const regions = testRegions();
    const { north } = regions;
    const identifier = `${REPORT}-acknowledge-gp-copy`;
    await processMessage(north, HUB_CALLER, copyFrom('south', identifier), 'req-1', 'case-x');
    // The same copy again, under another request id (a retry after a lost answer): nothing new.
    await processMessage(north, HUB_CALLER, copyFrom('south', identifier), 'req-2', 'case-x');
    expect(await forged(north)).toHaveLength(1);
    expect(await auditsOf(north, 'alert-copy-received')).toHaveLength(1);
    // Another region's copy under the same identifier is its own, not taken as the south's.
    await processMessage(north, HUB_CALLER, copyFrom('midlands', identifier), 'req-1', 'case-x');
    const copies = await forged(north);
    expect(copies.map(peerOf).sort()).toEqual(['imaging-midlands', 'imaging-south']);
    for (const copy of copies) {
      expect(copy.identifier).toEqual([
        { system: SYSTEMS.receivedCommunication, value: `${peerOf(copy)}/${identifier}` },
      ]);
      expect(accessOrganisations(copy)).toEqual(['N81001']);
    }
    // None stands where the north's own copy for its practice would be.
    expect(await byIdentifier(north, identifier)).toBeUndefined();
  });

  it("is never linked to the receiver's own alert or report: what it names stays the sender's word", async () => {
    const regions = testRegions();
    const { north } = regions;
    // The north holds the alert Task and the report the copy names by their identifiers.
    await alertCase(regions, { category: 'URGENT' });
    expect(await searchOne(north.store, 'Task', { identifier: `${SYSTEMS.task}|${REPORT}-acknowledge` })).toBeDefined();
    await processMessage(north, HUB_CALLER, copyFrom('south', `${REPORT}-acknowledge-gp-copy`), 'req-1', 'case-x');
    const [copy] = await forged(north);
    expect(copy?.basedOn?.map((r) => r.reference)).toEqual([undefined, undefined]);
    expect(copy?.about?.map((r) => r.reference)).toEqual([undefined]);
    // Found by neither: a search of the alert's or the report's Communications lists the north's own alone.
    const [alert] = await searchAll<Task>(north.store, 'Task', { identifier: `${SYSTEMS.task}|${REPORT}-acknowledge` });
    const onAlert = await searchAll<Communication>(north.store, 'Communication', { 'based-on': `Task/${alert?.id}` });
    expect(onAlert.filter((c) => c.payload?.some((p) => p.contentString === FORGED))).toEqual([]);
  });

  it("is filed in the case it names only when this region holds that case for the copy's patient", async () => {
    const regions = testRegions();
    const { north } = regions;
    await alertCase(regions, { category: 'URGENT' }); // the north holds case-1, for the example patient
    const other = testNhsNumber(5);
    await registerPatient(north, GP, examplePatient({ identifier: [{ system: NHS_NUMBER_SYSTEM, value: other }] }));
    const about = (nhs: string) => ({ subject: patientReferenceByNhsNumber(nhs) });
    // The same case name from the south, for another patient, and from the midlands, for case-1's own.
    await processMessage(
      north,
      HUB_CALLER,
      copyFrom('south', `${REPORT}-acknowledge-gp-copy`, about(other)),
      'req-1',
      'case-1',
    );
    const own = examplePatient().identifier?.[0]?.value as string;
    await processMessage(
      north,
      HUB_CALLER,
      copyFrom('midlands', `${REPORT}-acknowledge-gp-copy`, about(own)),
      'req-2',
      'case-1',
    );
    const caseOf = (e: AuditEvent) =>
      e.entity?.find((x) => x.what?.identifier?.system === SYSTEMS.correlation)?.what?.identifier?.value;
    const patientOf = async (nhs: string) =>
      `Patient/${(await searchOne(north.store, 'Patient', { identifier: `${NHS_NUMBER_SYSTEM}|${nhs}` }))?.id}`;
    const patientIn = (e: AuditEvent) =>
      e.entity?.find((x) => x.what?.reference?.startsWith('Patient/'))?.what?.reference;
    const received = await auditsOf(north, 'alert-copy-received');
    expect(received.map((e) => [caseOf(e), patientIn(e)]).sort()).toEqual(
      [
        ['case-1', await patientOf(own)],
        ['imaging-south/case-1', await patientOf(other)],
      ].sort(),
    );
    const copied = `${ALERT_COPIED.system}|${ALERT_COPIED.code}`;
    const messages = (await auditsOf(north, 'message-received'))
      .filter((e) => e.entity?.some((x) => x.detail?.some((d) => d.valueString === copied)))
      .map(caseOf)
      .sort();
    expect(messages).toEqual(['case-1', 'imaging-south/case-1']);
  });
});
