import type { Communication, Organization, Patient, Reference } from '@medplum/fhirtypes';
import { EXTENSIONS, ODS_SYSTEM, odsReference, searchAll, SYSTEMS } from '@imaging/fhir';
import type { Caller } from '@imaging/fhir';
import { examplePatient, exampleServiceRequest } from '@imaging/fhir/examples';
import { describe, expect, it } from 'vitest';
import { alertCase, auditsOf, communications, queuedMessage } from '../testing/alerts.ts';
import { GP, HUB_CALLER, testRegions } from '../testing/regions.ts';
import { processMessage } from './inbound.ts';
import { accessOrganisations } from './labels.ts';
import { placeOrder } from './orders.ts';
import { registerPatient } from './registrations.ts';

const WARD: Caller = { clientId: 'ward-rn1', kind: 'referrer', organisation: 'RN1', region: 'north' };
const OTHER_GP: Caller = { clientId: 'gp-n81002', kind: 'referrer', organisation: 'N81002', region: 'north' };
/** A discharged patient's order from the ward (RN1): its alerts also go to the GP practice RN1 named. */
const DISCHARGED_ORDER = {
  identifier: [{ system: SYSTEMS.placerOrder, value: 'RN1-ED-7' }],
  requester: odsReference('RN1'),
  contained: [{ resourceType: 'Encounter' as const, id: 'enc', status: 'finished' as const, class: { code: 'EMER' } }],
  encounter: { reference: '#enc' },
};

const practice = (ods: string, namedBy?: string): Reference<Organization> => ({
  ...odsReference(ods),
  ...(namedBy
    ? { extension: [{ url: EXTENSIONS.gpNamedBy, valueIdentifier: { system: ODS_SYSTEM, value: namedBy } }] }
    : {}),
});
const storedPatient = async (regions: ReturnType<typeof testRegions>, region: 'north' | 'midlands' = 'north') =>
  (await searchAll<Patient>(regions[region].store, 'Patient'))[0];

describe('the registered GP practice: each registrant names its own', () => {
  it('marks the practice a registration names with the registrant, whatever the body says', async () => {
    const regions = testRegions();
    await registerPatient(
      regions.north,
      OTHER_GP,
      examplePatient({ generalPractitioner: [practice('N81002', 'RN1')] }),
    );
    expect((await storedPatient(regions))?.generalPractitioner).toEqual([practice('N81002', 'N81002')]);
  });

  it("adds a later registrant's practice beside the first one's, and replaces only its own when it names another", async () => {
    const regions = testRegions();
    await registerPatient(regions.north, OTHER_GP, examplePatient({ generalPractitioner: [odsReference('N81002')] }));
    await registerPatient(regions.north, WARD, examplePatient({ generalPractitioner: [odsReference('N81001')] }));
    expect((await storedPatient(regions))?.generalPractitioner).toEqual([
      practice('N81002', 'N81002'),
      practice('N81001', 'RN1'),
    ]);
    // The patient moved practice, as the ward now says; a registration naming none changes nothing.
    await registerPatient(regions.north, WARD, examplePatient({ generalPractitioner: [odsReference('M81001')] }));
    await registerPatient(regions.north, WARD, examplePatient());
    expect((await storedPatient(regions))?.generalPractitioner).toEqual([
      practice('N81002', 'N81002'),
      practice('M81001', 'RN1'),
    ]);
    const named = await auditsOf(regions.north, 'patient-practice-named');
    expect(named.map((e) => e.agent[0]?.altId)).toEqual(['ward-rn1', 'ward-rn1']);
    expect(await auditsOf(regions.north, 'patient-access-granted')).toHaveLength(1);
  });

  it("copies a discharged patient's alert to the practice the requester named, not one another registrant named first", async () => {
    const regions = testRegions();
    // Another practice registers the patient first, naming itself the GP.
    await registerPatient(regions.north, OTHER_GP, examplePatient({ generalPractitioner: [odsReference('N81002')] }));
    await alertCase(regions, {
      category: 'URGENT',
      referrer: WARD,
      order: DISCHARGED_ORDER,
      patient: { generalPractitioner: [odsReference('N81001')] },
    });
    const told = await communications(regions.north);
    expect(told.flatMap((c) => c.recipient ?? [])).toContainEqual(odsReference('N81001'));
    expect(JSON.stringify(told.map((c) => c.recipient))).not.toContain('N81002');
    expect(told.flatMap((c) => accessOrganisations(c as Communication))).not.toContain('N81002');
  });

  it('copies it to no practice when the requester named none, though another registrant did', async () => {
    const regions = testRegions();
    await registerPatient(regions.north, OTHER_GP, examplePatient({ generalPractitioner: [odsReference('N81002')] }));
    await alertCase(regions, { category: 'URGENT', referrer: WARD, order: DISCHARGED_ORDER });
    const told = await communications(regions.north);
    expect(told.length).toBeGreaterThan(0);
    // The requester and its delegate are told; no practice is.
    const organisations = told.flatMap((c) => c.recipient ?? []).filter((r) => r.type === 'Organization');
    expect(organisations).toEqual([odsReference('RN1')]);
    expect(told.flatMap((c) => accessOrganisations(c as Communication))).not.toContain('N81002');
  });

  it("stores a routed patient's practices as no one's here: a message cannot say who named them", async () => {
    const regions = testRegions();
    await registerPatient(regions.north, GP, examplePatient({ generalPractitioner: [odsReference('N81001')] }));
    await placeOrder(regions.north, GP, exampleServiceRequest(), 'case-1');
    const message = await queuedMessage(regions.north, 'servicerequest-request');
    // The north claims a midlands practice named it: an organisation whose word would count there.
    for (const entry of message.entry ?? []) {
      if (entry.resource?.resourceType === 'Patient')
        entry.resource.generalPractitioner = [practice('M81001', 'M81001')];
    }
    await processMessage(regions.midlands, HUB_CALLER, message, 'req-north-1');
    expect((await storedPatient(regions, 'midlands'))?.generalPractitioner).toEqual([practice('M81001')]);
  });
});
