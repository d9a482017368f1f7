import type { Communication } from '@medplum/fhirtypes';
import { odsReference, searchOne, SYSTEMS } from '@imaging/fhir';
import { outcomeErrorOf } from '@imaging/fhir/testing';
import { ALERT_COPIED, buildMessage } from '@imaging/messaging';
import { describe, expect, it } from 'vitest';
import { alertCase, auditsOf, communications } from '../testing/alerts.ts';
import { HUB_CALLER, testRegions } from '../testing/regions.ts';
import type { GatewayDeps } from './ports.ts';
import { processMessage } from './inbound.ts';
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
});
