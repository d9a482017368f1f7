import type { ServiceRequest } from '@medplum/fhirtypes';
import { CAUDA_EQUINA_SYNDROME, IMAGING_PROCEDURE_CODES, odsReference, procedureCodings, SYSTEMS } from '@imaging/fhir';
import type { memoryLogger } from '@imaging/fhir';
import { exampleServiceRequest } from '@imaging/fhir/examples';
import { describe, expect, it } from 'vitest';
import { alertCase, auditsOf, communications, theAlert } from '../testing/alerts.ts';
import { testRegions } from '../testing/regions.ts';
import { spinalOnCallRecipients } from './ces.ts';

const CES_ORDER: Partial<ServiceRequest> = {
  priority: 'stat',
  code: { coding: procedureCodings(IMAGING_PROCEDURE_CODES.mriLumbosacralSpine) },
  reasonCode: [{ coding: [CAUDA_EQUINA_SYNDROME] }],
};
const spinalTeam = {
  type: 'PractitionerRole',
  identifier: { system: SYSTEMS.practitionerRole, value: 'rm1-spinal-on-call' },
  display: 'Spinal on-call team, Midlands Community Diagnostic Centre',
};
const cesOrder = (overrides: Partial<ServiceRequest> = {}) => exampleServiceRequest({ ...CES_ORDER, ...overrides });

describe('the spinal on-call team', () => {
  it("is told of a CRITICAL finding on a suspected-CES MRI: the performing trust's team in the directory", async () => {
    const { midlands } = testRegions();
    expect(await spinalOnCallRecipients(midlands, cesOrder(), 'CRITICAL')).toEqual([spinalTeam]);
  });

  it('is not told of another category, nor of a CRITICAL finding on another order', async () => {
    const { midlands } = testRegions();
    expect(await spinalOnCallRecipients(midlands, cesOrder(), 'URGENT')).toEqual([]);
    expect(await spinalOnCallRecipients(midlands, exampleServiceRequest({ priority: 'stat' }), 'CRITICAL')).toEqual([]);
    expect(
      await spinalOnCallRecipients(midlands, cesOrder({ code: exampleServiceRequest().code }), 'CRITICAL'),
    ).toEqual([]);
  });

  it('without an active team in the directory, or with the directory down, is the trust itself: never dropped', async () => {
    const regions = testRegions();
    const { midlands, hub } = regions;
    const team = hub.topology.organisations
      .find((o) => o.ods === 'RM1')
      ?.people?.find((p) => p.role === 'spinal-on-call');
    if (team) team.active = false;
    const trust = [odsReference('RM1', 'Spinal on-call team, RM1')];
    expect(await spinalOnCallRecipients(midlands, cesOrder(), 'CRITICAL')).toEqual(trust);
    hub.down.add('directory');
    expect(await spinalOnCallRecipients(midlands, cesOrder(), 'CRITICAL')).toEqual(trust);
    const logged = (midlands.logger as ReturnType<typeof memoryLogger>).entries.map((e) => e.message);
    expect(logged).toEqual([
      'no active spinal on-call team for RM1 in the directory: the CES finding goes to the trust itself',
      'directory unavailable (the directory is down): the CES finding goes to the trust itself',
    ]);
  });

  it("hears of the CRITICAL alert with the requester, in the requester's region, audited", async () => {
    const regions = testRegions();
    const { requester: north } = await alertCase(regions, { category: 'CRITICAL', order: CES_ORDER });
    const alert = await theAlert(north);
    expect(alert.owner).toEqual(odsReference('N81001'));
    expect(alert.restriction?.recipient).toContainEqual(spinalTeam);
    const [raised] = await communications(north);
    expect(raised?.recipient).toContainEqual(spinalTeam);
    expect(raised?.recipient).toContainEqual(odsReference('N81001'));
    expect(raised?.payload?.map((p) => p.contentString)).toContain(
      'Suspected cauda equina syndrome: the spinal on-call team is told.',
    );
    const [audit] = await auditsOf(north, 'alert-raised');
    const recipients = audit?.entity?.flatMap((e) => e.detail ?? []).find((d) => d.type === 'recipients')?.valueString;
    expect(recipients).toContain('Spinal on-call team, Midlands Community Diagnostic Centre');
  });

  it('does not hear of a CRITICAL alert on any other order', async () => {
    const regions = testRegions();
    const { requester: north } = await alertCase(regions, { category: 'CRITICAL' });
    expect((await theAlert(north)).restriction?.recipient).not.toContainEqual(spinalTeam);
  });
});
