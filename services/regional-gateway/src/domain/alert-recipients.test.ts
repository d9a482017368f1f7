import { devTopology } from '@imaging/config';
import { memoryLogger, odsReference, SYSTEMS } from '@imaging/fhir';
import { describe, expect, it } from 'vitest';
import { rolesIn } from '../testing/regions.ts';
import { climbLadder, recipientAt } from './alert-recipients.ts';
import type { NewAlert } from './alert-task.ts';
import type { GatewayDeps, RoleHolder } from './ports.ts';

function deps(topology = structuredClone(devTopology())) {
  const logger = memoryLogger();
  return {
    logger,
    topology,
    deps: {
      region: { regionId: 'north', serviceId: 'imaging-north', fhirBaseUrl: 'http://north/fhir' },
      logger,
      hub: { findAlertRoles: async (holder: RoleHolder) => rolesIn(topology, holder) },
    } as unknown as GatewayDeps,
  };
}

const role = (id: string, display: string) => ({
  type: 'PractitionerRole' as const,
  identifier: { system: SYSTEMS.practitionerRole, value: id },
  display,
});

const alertFor = (owner: NewAlert['owner'], ownerOrganisation = 'N81001') =>
  ({ kind: 'acknowledge-result', owner, ownerOrganisation, performer: 'RM1' }) as NewAlert;

describe('who an alert goes to', () => {
  it('climbs requester → delegate → responsible → fail-safe officer, each from the directory', async () => {
    const { deps: d } = deps();
    const alert = alertFor(role('n81001-patel', 'Dr Asha Patel'));
    expect((await recipientAt(d, alert, 'requester')).reference).toEqual(role('n81001-patel', 'Dr Asha Patel'));
    expect((await recipientAt(d, alert, 'delegate')).reference).toEqual(role('n81001-okafor', 'Dr Ben Okafor'));
    expect((await recipientAt(d, alert, 'responsible')).reference).toEqual(role('n81001-hughes', 'Dr Clare Hughes'));
    expect((await recipientAt(d, alert, 'fail-safe-officer')).reference).toEqual(
      role('north-failsafe', 'Jo Fairweather'),
    );
    // No clinician named: the requesting organisation.
    expect((await recipientAt(d, alertFor(odsReference('N81001')), 'requester')).reference).toEqual(
      odsReference('N81001'),
    );
  });

  it('passes at once a clinician who has left, a missing delegate and an unknown organisation', async () => {
    const { deps: d, topology } = deps();
    const left = alertFor(role('n81001-reed', 'Dr Tom Reed'));
    expect((await recipientAt(d, left, 'requester')).cannotReceive).toBe(
      'Dr Tom Reed (n81001-reed) is no longer active at N81001',
    );
    expect(await climbLadder(d, left, 0)).toEqual({
      recipient: { step: 'delegate', reference: role('n81001-okafor', 'Dr Ben Okafor') },
      skipped: [{ step: 'requester', reason: 'Dr Tom Reed (n81001-reed) is no longer active at N81001' }],
    });
    const practice = topology.organisations.find((o) => o.ods === 'N81001');
    for (const p of practice?.people ?? []) if (p.role !== 'requesting-clinician') p.active = false;
    const climb = await climbLadder(d, alertFor(role('n81001-patel', 'Dr Asha Patel')), 1);
    // No delegate: passed; no responsible clinician: the practice itself (its shared inbox) receives.
    expect(climb).toEqual({
      recipient: { step: 'responsible', reference: odsReference('N81001') },
      skipped: [{ step: 'delegate', reason: 'N81001 has no active delegate' }],
    });
    const unknown = await climbLadder(d, alertFor(odsReference('X99999'), 'X99999'), 0);
    expect(unknown.recipient.step).toBe('fail-safe-officer');
    expect(unknown.skipped.map((s) => s.reason)).toEqual([
      'X99999 is not in the directory',
      'X99999 is not in the directory',
      'X99999 is not in the directory',
    ]);
  });

  it('never drops an alert: without a fail-safe officer, the network itself receives it, and it is logged', async () => {
    const { deps: d, topology, logger } = deps();
    const north = topology.regions.find((r) => r.id === 'north');
    if (north?.failSafeOfficer) north.failSafeOfficer.active = false;
    const recipient = await recipientAt(d, alertFor(odsReference('N81001')), 'fail-safe-officer');
    expect(recipient).toEqual({
      step: 'fail-safe-officer',
      reference: { type: 'Organization', identifier: { system: SYSTEMS.region, value: 'north' } },
    });
    expect(logger.entries.map((e) => e.level)).toContain('error');
  });
});
