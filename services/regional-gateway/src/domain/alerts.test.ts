import type { Bundle, Communication, DiagnosticReport, Patient, Task } from '@medplum/fhirtypes';
import { alertCategoryExtension, EXTENSIONS, NHS_NUMBER_SYSTEM, odsReference, searchAll, SYSTEMS } from '@imaging/fhir';
import type { WithId } from '@imaging/fhir';
import { outcomeErrorOf } from '@imaging/fhir/testing';
import { REPORT_ISSUED } from '@imaging/messaging';
import { exampleDiagnosticReport } from '@imaging/fhir/examples';
import { describe, expect, it } from 'vitest';
import {
  acknowledgementTasks,
  alertCase,
  auditsOf,
  communications,
  queuedMessage,
  theAlert,
  watchTasks,
} from '../testing/alerts.ts';
import { HUB_CALLER, RIS, testRegions } from '../testing/regions.ts';
import { acknowledgeAlert } from './alert-operations.ts';
import { deliverDue } from './delivery.ts';
import { processMessage } from './inbound.ts';
import { accessOrganisations, peerOf } from './labels.ts';
import { issueReport } from './results.ts';

const MINUTE = 60_000;
const role = (id: string, display: string) => ({
  type: 'PractitionerRole',
  identifier: { system: SYSTEMS.practitionerRole, value: id },
  display,
});
const clinician = (id: string) => ({
  url: EXTENSIONS.requestingClinician,
  valueReference: { type: 'PractitionerRole' as const, identifier: { system: SYSTEMS.practitionerRole, value: id } },
});

describe('raising an alert', () => {
  it("raises a cross-region CRITICAL alert in the requester's region, and a watch on it in the performer's", async () => {
    const regions = testRegions();
    const issuedAt = regions.clock.now();
    const { requester, performer, placed } = await alertCase(regions, { category: 'CRITICAL' });

    const alert = await theAlert(requester);
    const [report] = await searchAll<DiagnosticReport>(requester.store, 'DiagnosticReport');
    const due = new Date(issuedAt.getTime() + 60 * MINUTE).toISOString();
    expect(alert).toMatchObject({
      status: 'requested',
      priority: 'stat',
      code: { coding: [{ code: 'acknowledge-result' }] },
      focus: { reference: `DiagnosticReport/${report?.id}` },
      basedOn: [{ reference: `ServiceRequest/${placed.serviceRequest.id}` }],
      for: placed.serviceRequest.subject,
      owner: odsReference('N81001'),
      requester: { identifier: { value: 'RM1' } },
      businessStatus: { coding: [{ code: 'requester' }] },
      restriction: { period: { end: due } },
      extension: [{ url: EXTENSIONS.nextCheck, valueDateTime: due }],
      groupIdentifier: { value: 'case-1' },
    });
    expect(accessOrganisations(alert).sort()).toEqual(['N81001', 'RM1']);
    expect(peerOf(alert)).toBe('imaging-midlands');

    // One Communication to the requester and their delegate, about the report: conclusion, category, due time.
    const [told] = await communications(requester);
    expect(told?.recipient).toEqual([odsReference('N81001'), role('n81001-okafor', 'Dr Ben Okafor')]);
    expect(told?.about).toEqual([{ reference: `DiagnosticReport/${report?.id}` }]);
    expect(told?.basedOn).toEqual([{ reference: `Task/${alert.id}` }]);
    const payload = told?.payload?.map((p) => p.contentString).join(' ');
    expect(payload).toContain(report?.conclusion);
    expect(payload).toContain(due);
    expect(told?.category?.[1]?.coding?.[0]?.code).toBe('CRITICAL');
    expect(await auditsOf(requester, 'alert-raised')).toHaveLength(1);

    // The performer watches it, one step after the requester's due time, and raised no alert of its own.
    const [watch] = await watchTasks(performer);
    expect(watch).toMatchObject({
      status: 'requested',
      businessStatus: { coding: [{ code: 'watching' }] },
      extension: [{ valueDateTime: new Date(issuedAt.getTime() + 90 * MINUTE).toISOString() }],
    });
    expect(peerOf(watch as Task)).toBe('imaging-north');
    expect(await acknowledgementTasks(performer)).toHaveLength(0);
    expect(await auditsOf(performer, 'alert-watch-raised')).toHaveLength(1);
  });

  it('raises it once, however often the report arrives', async () => {
    const regions = testRegions();
    const { requester } = await alertCase(regions, { category: 'URGENT' });
    const [delivery] = await searchAll<Task>(regions.midlands.store, 'Task', {
      code: 'https://imaging-connect.example/fhir/CodeSystem/task-code|deliver-message',
    });
    const message = await regions.midlands.store.read<Bundle>(
      'Bundle',
      delivery?.focus?.reference?.split('/')[1] as string,
    );
    await processMessage(requester, HUB_CALLER, structuredClone(message), 'req-resent-under-another-id');
    expect(await acknowledgementTasks(requester)).toHaveLength(1);
    expect(await communications(requester)).toHaveLength(1);
  });

  it("runs its windows from when the performer's gateway issued the report, never from a time ahead of this region's clock", async () => {
    // A report that reaches the north 45 minutes late is due 60 minutes after it was issued, not after it arrived.
    const late = testRegions();
    const issuedAt = late.clock.now();
    const delayed = await alertCase(late, { category: 'CRITICAL', deliver: false });
    late.clock.advance(45 * MINUTE);
    await processMessage(
      delayed.requester,
      HUB_CALLER,
      await queuedMessage(delayed.performer, REPORT_ISSUED.code),
      'req-late',
    );
    expect((await theAlert(delayed.requester)).restriction?.period?.end).toBe(
      new Date(issuedAt.getTime() + 60 * MINUTE).toISOString(),
    );

    // The performer's clock runs two hours ahead: a time stamp in the north's future counts from the arrival.
    const skewed = testRegions();
    const arrival = skewed.clock.now();
    const ahead = await alertCase(skewed, { category: 'CRITICAL', deliver: false });
    const message = await queuedMessage(ahead.performer, REPORT_ISSUED.code);
    message.timestamp = new Date(arrival.getTime() + 120 * MINUTE).toISOString();
    await processMessage(ahead.requester, HUB_CALLER, message, 'req-ahead');
    expect((await theAlert(ahead.requester)).restriction?.period?.end).toBe(
      new Date(arrival.getTime() + 60 * MINUTE).toISOString(),
    );
  });

  it('raises nothing for a NONE report', async () => {
    const regions = testRegions();
    const { requester, performer } = await alertCase(regions, { category: 'NONE' });
    expect(await acknowledgementTasks(requester)).toHaveLength(0);
    expect(await watchTasks(performer)).toHaveLength(0);
    expect(await communications(requester)).toHaveLength(0);
  });

  it('raises it locally, in the same transaction as the report, when the performer is in the same region', async () => {
    const regions = testRegions();
    const { requester, report } = await alertCase(regions, { category: 'URGENT', performer: 'RN1' });
    const alert = await theAlert(requester);
    expect(alert.focus?.reference).toBe(`DiagnosticReport/${report.resource.id}`);
    expect(alert.priority).toBe('urgent');
    expect(peerOf(alert)).toBeUndefined();
    expect(await watchTasks(requester)).toHaveLength(0);
    // Issuing the same report again changes nothing.
    const again = await issueReport(
      requester,
      { clientId: 'ris-rn1', kind: 'provider', organisation: 'RN1', region: 'north' },
      { ...report.resource, id: undefined, meta: { profile: report.resource.meta?.profile } } as DiagnosticReport,
      'case-1',
    );
    expect(again.created).toBe(false);
    expect(await acknowledgementTasks(requester)).toHaveLength(1);
  });

  it('goes first to the requesting clinician the order names, with their delegate', async () => {
    const regions = testRegions();
    const { requester } = await alertCase(regions, {
      category: 'URGENT',
      order: { extension: [clinician('n81001-patel')] },
    });
    const alert = await theAlert(requester);
    expect(alert.owner).toEqual({ type: 'PractitionerRole', identifier: role('n81001-patel', '').identifier });
    const [told] = await communications(requester);
    expect(told?.recipient).toEqual([role('n81001-patel', 'Dr Asha Patel'), role('n81001-okafor', 'Dr Ben Okafor')]);
  });

  it('passes at once a requesting clinician who has left: the delegate has it from the start, audited', async () => {
    const regions = testRegions();
    const { requester } = await alertCase(regions, {
      category: 'CRITICAL',
      order: { extension: [clinician('n81001-reed')] },
    });
    const alert = await theAlert(requester);
    expect(alert.businessStatus?.coding?.[0]?.code).toBe('delegate');
    expect(alert.owner?.identifier?.value).toBe('n81001-reed');
    const [told] = await communications(requester);
    expect(told?.recipient).toEqual([role('n81001-okafor', 'Dr Ben Okafor')]);
    const [skipped] = await auditsOf(requester, 'alert-step-skipped');
    expect(skipped?.entity?.find((e) => e.detail)?.detail).toEqual([
      { type: 'step', valueString: 'requester' },
      { type: 'reason', valueString: 'Dr Tom Reed (n81001-reed) is no longer active at N81001' },
    ]);
  });

  it('also goes to the registered GP practice when the order shows the patient discharged', async () => {
    const ward = { clientId: 'ward-rn1', kind: 'referrer' as const, organisation: 'RN1', region: 'north' };
    const order = (status: 'finished' | 'in-progress') => ({
      identifier: [{ system: SYSTEMS.placerOrder, value: `RN1-${status}` }],
      requester: odsReference('RN1'),
      contained: [{ resourceType: 'Encounter' as const, id: 'enc', status, class: { code: 'EMER' } }],
      encounter: { reference: '#enc' },
    });
    const patient = { generalPractitioner: [odsReference('N81001')] };

    const discharged = testRegions();
    await alertCase(discharged, { category: 'URGENT', referrer: ward, order: order('finished'), patient });
    const [told] = await communications(discharged.north);
    expect(told?.recipient).toContainEqual(odsReference('N81001'));
    expect(told?.recipient?.[0]).toEqual(odsReference('RN1'));
    // The practice is a party to it: it may read it through the API.
    expect(accessOrganisations(told as Communication).sort()).toEqual(['N81001', 'RM1', 'RN1']);

    const stillIn = testRegions();
    await alertCase(stillIn, { category: 'URGENT', referrer: ward, order: order('in-progress'), patient });
    const [inpatient] = await communications(stillIn.north);
    expect(inpatient?.recipient).not.toContainEqual(odsReference('N81001'));
  });

  it("copies it to a discharged patient's GP practice in another region, through the hub, once", async () => {
    const ward = { clientId: 'ward-rn1', kind: 'referrer' as const, organisation: 'RN1', region: 'north' };
    const regions = testRegions();
    const { requester: north } = await alertCase(regions, {
      category: 'URGENT',
      referrer: ward,
      order: {
        identifier: [{ system: SYSTEMS.placerOrder, value: 'RN1-ED-1' }],
        requester: odsReference('RN1'),
        contained: [{ resourceType: 'Encounter', id: 'enc', status: 'finished', class: { code: 'EMER' } }],
        encounter: { reference: '#enc' },
      },
      patient: { generalPractitioner: [odsReference('S81001')] }, // a practice the south serves
    });
    const alert = await theAlert(north);
    expect(alert.restriction?.recipient).toContainEqual(odsReference('S81001'));
    expect(await communications(regions.south)).toHaveLength(0); // queued with the alert, not yet sent
    await deliverDue(north);
    const [copy, ...more] = await communications(regions.south);
    expect(more).toHaveLength(0);
    expect(copy?.recipient).toEqual([odsReference('S81001')]);
    // From the requester, whose region sends it (the performer, RM1, is the midlands'), kept under its sender.
    expect(copy?.sender).toEqual(odsReference('RN1'));
    expect(copy?.identifier).toEqual([
      { system: SYSTEMS.receivedCommunication, value: `imaging-north/${alert.identifier?.[0]?.value}-gp-copy` },
    ]);
    expect(copy?.basedOn).toContainEqual({
      type: 'Task',
      identifier: { system: SYSTEMS.task, value: alert.identifier?.[0]?.value },
    });
    // The south does not know the patient: the copy names them by NHS number.
    const patient = await north.store.read<Patient>('Patient', alert.for?.reference?.split('/')[1] as string);
    const nhsNumber = patient.identifier?.find((i) => i.system === NHS_NUMBER_SYSTEM);
    expect(copy?.subject).toEqual({ type: 'Patient', identifier: nhsNumber });
    expect(accessOrganisations(copy as Communication)).toEqual(['S81001']);
    expect(peerOf(copy as Communication)).toBe('imaging-north');
    expect(await auditsOf(north, 'alert-copy-sent')).toHaveLength(1);
    expect(await auditsOf(regions.south, 'alert-copy-received')).toHaveLength(1);
    // The same copy again (another request id) stores nothing new.
    const delivery = (
      await searchAll<Task>(north.store, 'Task', {
        code: 'https://imaging-connect.example/fhir/CodeSystem/task-code|deliver-message',
      })
    ).find((t) => t.input?.some((i) => i.type?.text === 'destination' && i.valueString === 'imaging-south'));
    const message = await north.store.read<Bundle>('Bundle', delivery?.focus?.reference?.split('/')[1] as string);
    await processMessage(regions.south, HUB_CALLER, structuredClone(message), 'req-copy-again', 'case-1');
    expect(await communications(regions.south)).toHaveLength(1);
    expect(await auditsOf(regions.south, 'alert-copy-received')).toHaveLength(1);
  });

  it("tells the performing trust's cancer MDT of a CANCER alert: by site, else its generic MDT, else the trust", async () => {
    const mdtNotices = async (deps: Parameters<typeof communications>[0]) =>
      (await communications(deps)).filter((c) => c.identifier?.[0]?.value?.endsWith('-mdt-notice'));
    // RN1 (north) reports a lung primary: its lung MDT, in the north, where the report is issued.
    const local = testRegions();
    await alertCase(local, { category: 'CANCER', performer: 'RN1' });
    const [lung] = await mdtNotices(local.north);
    expect(lung?.recipient).toEqual([role('rn1-lung-mdt', 'North Hospitals lung cancer MDT')]);
    expect(lung?.payload?.[0]?.contentString).toContain('Structure of upper lobe of right lung');
    expect((await auditsOf(local.north, 'alert-mdt-notified')).length).toBe(1);
    // RM1 (midlands) has no lung MDT: its generic cancer MDT, in the midlands, though the requester is north.
    const remote = testRegions();
    await alertCase(remote, { category: 'CANCER' });
    expect((await mdtNotices(remote.midlands)).map((c) => c.recipient)).toEqual([
      [role('rm1-cancer-mdt', 'Midlands cancer MDT office')],
    ]);
    expect(await mdtNotices(remote.north)).toHaveLength(0);
    // The directory unreachable: the trust itself, rather than holding up the report.
    const down = testRegions();
    down.hub.down.add('directory');
    await alertCase(down, { category: 'CANCER', performer: 'RN1' });
    expect((await mdtNotices(down.north)).map((c) => c.recipient)).toEqual([[odsReference('RN1')]]);
    // Nothing for any other category.
    const urgent = testRegions();
    await alertCase(urgent, { category: 'URGENT', performer: 'RN1' });
    expect(await mdtNotices(urgent.north)).toHaveLength(0);
  });

  it('refuses a CANCER report that names no suspected primary site (422), and writes nothing', async () => {
    const regions = testRegions();
    const { performer, performerOrder } = await alertCase(regions, { category: 'NONE' });
    const before = (await searchAll(performer.store, 'DiagnosticReport')).length;
    const err = await outcomeErrorOf(
      issueReport(
        performer,
        RIS,
        exampleDiagnosticReport({
          identifier: [{ system: SYSTEMS.report, value: 'RM1-REP-CANCER' }],
          basedOn: [{ reference: `ServiceRequest/${performerOrder.id}` }],
          subject: performerOrder.subject,
          extension: [alertCategoryExtension('CANCER')],
        }),
        'case-1',
      ),
    );
    expect(err.status).toBe(422);
    expect(err.outcome.issue[0]?.expression).toEqual([
      `DiagnosticReport.extension('${EXTENSIONS.suspectedPrimarySite}')`,
    ]);
    expect(await searchAll(performer.store, 'DiagnosticReport')).toHaveLength(before);
    expect(await watchTasks(performer)).toHaveLength(0);
  });
});

describe("closing the loop at the performer's region", () => {
  it("refuses an acknowledgement sent by any region but the requester's (403), and changes nothing", async () => {
    const regions = testRegions();
    const { requester, performer } = await alertCase(regions, { category: 'URGENT' });
    const alert = await theAlert(requester);
    await acknowledgeAlert(
      requester,
      { clientId: 'gp-n81001', kind: 'referrer', organisation: 'N81001', region: 'north' },
      alert.id,
      { resourceType: 'Parameters', parameter: [{ name: 'acknowledgedBy', valueString: 'Dr Asha Patel' }] },
      undefined,
    );
    const [delivery] = (
      await searchAll<Task>(requester.store, 'Task', {
        code: 'https://imaging-connect.example/fhir/CodeSystem/task-code|deliver-message',
      })
    ).filter((t) => t.status === 'requested');
    const message = await requester.store.read<Bundle>('Bundle', delivery?.focus?.reference?.split('/')[1] as string);
    const forged = structuredClone(message);
    const header = forged.entry?.[0]?.resource as { source: { endpoint: string } };
    header.source.endpoint = 'imaging-south';
    const [before] = (await watchTasks(performer)) as WithId<Task>[];
    const err = await outcomeErrorOf(processMessage(performer, HUB_CALLER, forged, 'req-forged'));
    expect(err.status).toBe(403);
    expect(err.outcome.issue.map((i) => i.details?.text)).toContain(
      'This alert is shared with imaging-north, not imaging-south',
    );
    const [after] = await watchTasks(performer);
    expect(after?.meta?.versionId).toBe(before?.meta?.versionId);

    // The real one, from the north, closes the watch on an URGENT alert.
    expect(await deliverDue(requester)).toMatchObject({ delivered: 1 });
    const [closed] = await watchTasks(performer);
    expect(closed?.status).toBe('completed');
    expect(closed?.extension).toBeUndefined();
    expect(await auditsOf(performer, 'alert-watch-updated')).toHaveLength(1);
  });
});
