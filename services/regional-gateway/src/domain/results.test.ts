import type { ImagingStudy, OperationOutcome, ServiceRequest } from '@medplum/fhirtypes';
import { CODE_SYSTEMS, DICOM_UID_SYSTEM, OutcomeError, searchAll, SYSTEMS } from '@imaging/fhir';
import type { WithId } from '@imaging/fhir';
import {
  exampleDiagnosticReport,
  exampleEndpoint,
  exampleImagingStudy,
  examplePatient,
  exampleServiceRequest,
} from '@imaging/fhir/examples';
import { twoDeliveredOrders } from '../testing/pathway.ts';
import { describe, expect, it } from 'vitest';
import { GP, RIS, testRegions } from '../testing/regions.ts';
import { deliverDue } from './delivery.ts';
import { placeOrder } from './orders.ts';
import { registerEndpoint, registerPatient } from './registrations.ts';
import { issueReport, recordImagingStudy } from './results.ts';

/** A north GP's order for RM1, delivered: the midlands' copy, which RM1's RIS records results against. */
async function orderAtMidlands() {
  const regions = testRegions();
  await registerPatient(regions.north, GP, examplePatient());
  await placeOrder(regions.north, GP, exampleServiceRequest(), 'case-1');
  await deliverDue(regions.north);
  const [order] = await searchAll<ServiceRequest>(regions.midlands.store, 'ServiceRequest');
  const endpoint = await registerEndpoint(regions.midlands, RIS, exampleEndpoint({ id: undefined }));
  return {
    midlands: regions.midlands,
    order: order as WithId<ServiceRequest>,
    endpoint: [{ reference: `Endpoint/${endpoint.resource.id}` }],
  };
}

async function refusal(write: Promise<unknown>): Promise<{ status: number; outcome: OperationOutcome }> {
  try {
    await write;
  } catch (err) {
    if (err instanceof OutcomeError) return { status: err.status, outcome: err.outcome };
    throw err;
  }
  throw new Error('expected the write to be refused');
}

const expressions = (outcome: OperationOutcome) => (outcome.issue ?? []).flatMap((i) => i.expression ?? []);
const OWN_UID = 'urn:oid:1.2.826.0.1.3680043.10.1';
const VICTIM_UID = 'urn:oid:1.2.826.0.1.3680043.10.2';

describe('a client write carries one identifier in each business system', () => {
  it("refuses a study with a second Study Instance UID (422 at it): the second is never stored, so the UID's own study later is", async () => {
    const { midlands, order, endpoint } = await orderAtMidlands();
    const study = (uids: string[]) =>
      exampleImagingStudy({
        identifier: [
          ...uids.map((value) => ({ system: DICOM_UID_SYSTEM, value })),
          { system: SYSTEMS.accession, value: 'RM1-ACC-1' },
        ],
        basedOn: [{ reference: `ServiceRequest/${order.id}` }],
        subject: order.subject as ImagingStudy['subject'],
        endpoint,
      });
    const { status, outcome } = await refusal(recordImagingStudy(midlands, RIS, study([OWN_UID, VICTIM_UID]), 'c'));
    expect(status).toBe(422);
    expect(expressions(outcome)).toEqual(['ImagingStudy.identifier[1]']);
    expect(await searchAll(midlands.store, 'ImagingStudy')).toHaveLength(0);
    // The study that UID belongs to is recorded as its own, not matched to a planted one.
    const victim = await recordImagingStudy(midlands, RIS, study([VICTIM_UID]), 'c');
    expect(victim.created).toBe(true);
    const own = await recordImagingStudy(midlands, RIS, study([OWN_UID]), 'c');
    expect(own.created).toBe(true);
    expect(own.resource.id).not.toBe(victim.resource.id);
  });

  it('refuses a second accession number, report identifier or placer order number, each at its element', async () => {
    const { midlands, order, endpoint } = await orderAtMidlands();
    const accession = exampleImagingStudy({
      identifier: [
        { system: DICOM_UID_SYSTEM, value: OWN_UID },
        { system: SYSTEMS.accession, value: 'RM1-ACC-1' },
        { system: SYSTEMS.accession, value: 'RM1-ACC-2' },
      ],
      basedOn: [{ reference: `ServiceRequest/${order.id}` }],
      subject: order.subject as ImagingStudy['subject'],
      endpoint,
    });
    expect(expressions((await refusal(recordImagingStudy(midlands, RIS, accession, 'c'))).outcome)).toEqual([
      'ImagingStudy.identifier[2]',
    ]);
    const report = exampleDiagnosticReport({
      identifier: [
        { system: SYSTEMS.report, value: 'RM1-REP-1' },
        { system: SYSTEMS.report, value: 'RS1-REP-1' },
      ],
      basedOn: [{ reference: `ServiceRequest/${order.id}` }],
      subject: order.subject,
    });
    const refused = await refusal(issueReport(midlands, RIS, report, 'c'));
    expect(refused.status).toBe(422);
    expect(expressions(refused.outcome)).toEqual(['DiagnosticReport.identifier[1]']);
    expect(await searchAll(midlands.store, 'DiagnosticReport')).toHaveLength(0);

    const regions = testRegions();
    await registerPatient(regions.north, GP, examplePatient());
    const twoPlacers = exampleServiceRequest({
      identifier: [
        { system: SYSTEMS.placerOrder, value: 'N81001-000001' },
        { system: SYSTEMS.placerOrder, value: 'N81001-000002' },
      ],
    });
    const placed = await refusal(placeOrder(regions.north, GP, twoPlacers, 'c'));
    expect(placed.status).toBe(422);
    expect(expressions(placed.outcome)).toEqual(['ServiceRequest.identifier[1]']);
    expect(await searchAll(regions.north.store, 'ServiceRequest')).toHaveLength(0);
  });

  it('refuses an Endpoint with a second identifier of any system: it is matched on whichever it carries', async () => {
    const { midlands } = await orderAtMidlands();
    const endpoint = exampleEndpoint({
      id: undefined,
      identifier: [
        { system: 'urn:ietf:rfc:3986', value: 'https://pacs.rm1.example/a' },
        { system: 'https://pacs.example/id', value: 'another-providers-endpoint' },
      ],
    });
    const { status, outcome } = await refusal(registerEndpoint(midlands, RIS, endpoint));
    expect(status).toBe(422);
    expect(expressions(outcome)).toEqual(['Endpoint.identifier[1]']);
    expect(await searchAll(midlands.store, 'Endpoint')).toHaveLength(1);
    const one = exampleEndpoint({ id: undefined, identifier: endpoint.identifier?.slice(0, 1) });
    expect((await registerEndpoint(midlands, RIS, one)).created).toBe(true);
  });
});

describe('a study or report is based on one order (the pathway maps one order to one study and one report)', () => {
  /** RM1's own order A, and B: another order RM1 may read (it performs it), for another patient. */
  async function ordersAAndB() {
    const { midlands, A, B } = await twoDeliveredOrders();
    const endpoint = await registerEndpoint(midlands, RIS, exampleEndpoint({ id: undefined }));
    return { midlands, A, B, endpoint: [{ reference: `Endpoint/${endpoint.resource.id}` }] };
  }
  const watchCount = async (deps: Awaited<ReturnType<typeof ordersAAndB>>['midlands']) =>
    (await searchAll(deps.store, 'Task', { code: `${CODE_SYSTEMS.taskCode}|watch-turnaround` })).length;

  it('refuses a study based on a second order (422 at it): nothing is stored, and no report is watched', async () => {
    const { midlands, A, B, endpoint } = await ordersAAndB();
    const watches = await watchCount(midlands);
    const study = exampleImagingStudy({
      basedOn: [{ reference: `ServiceRequest/${A.id}` }, { reference: `ServiceRequest/${B.id}` }],
      subject: A.subject as ImagingStudy['subject'],
      endpoint,
    });
    const { status, outcome } = await refusal(recordImagingStudy(midlands, RIS, study, 'c'));
    expect(status).toBe(422);
    expect(expressions(outcome)).toEqual(['ImagingStudy.basedOn[1]']);
    expect(await searchAll(midlands.store, 'ImagingStudy')).toHaveLength(0);
    expect(await watchCount(midlands)).toBe(watches);
    // A second order named by its identifier is a second order too.
    const logical = exampleImagingStudy({
      basedOn: [{ reference: `ServiceRequest/${A.id}` }, ...(exampleImagingStudy().basedOn ?? [])],
      subject: A.subject as ImagingStudy['subject'],
      endpoint,
    });
    expect(expressions((await refusal(recordImagingStudy(midlands, RIS, logical, 'c'))).outcome)).toEqual([
      'ImagingStudy.basedOn[1]',
    ]);
    // Based on its own order alone, the same study is recorded.
    const own = await recordImagingStudy(midlands, RIS, { ...study, basedOn: study.basedOn?.slice(0, 1) }, 'c');
    expect(own.created).toBe(true);
  });

  it('refuses a report based on a second order (422 at it): nothing is stored, sent or raised', async () => {
    const { midlands, A, B } = await ordersAAndB();
    const tasks = (await searchAll(midlands.store, 'Task')).length;
    const report = exampleDiagnosticReport(
      {
        identifier: [{ system: SYSTEMS.report, value: 'RM1-REP-AB' }],
        basedOn: [{ reference: `ServiceRequest/${A.id}` }, { reference: `ServiceRequest/${B.id}` }],
        subject: A.subject,
      },
      'CRITICAL',
    );
    const { status, outcome } = await refusal(issueReport(midlands, RIS, report, 'c'));
    expect(status).toBe(422);
    expect(expressions(outcome)).toEqual(['DiagnosticReport.basedOn[1]']);
    expect(await searchAll(midlands.store, 'DiagnosticReport')).toHaveLength(0);
    expect((await searchAll(midlands.store, 'Task')).length).toBe(tasks);
  });
  it("refuses a report citing another order's study (422 at it): its images are another patient's", async () => {
    const { midlands, A, B, endpoint } = await ordersAAndB();
    const studyOf = (order: WithId<ServiceRequest>, uid: string) =>
      recordImagingStudy(
        midlands,
        RIS,
        exampleImagingStudy({
          identifier: [
            { system: DICOM_UID_SYSTEM, value: uid },
            { system: SYSTEMS.accession, value: `RM1-ACC-${uid.slice(-1)}` },
          ],
          basedOn: [{ reference: `ServiceRequest/${order.id}` }],
          subject: order.subject as ImagingStudy['subject'],
          endpoint,
        }),
        'c',
      );
    const studyA = await studyOf(A, 'urn:oid:1.2.826.0.1.3680043.10.9.1');
    const studyB = await studyOf(B, 'urn:oid:1.2.826.0.1.3680043.10.9.2');
    const reportOfB = (cited: { id: string }[]) =>
      exampleDiagnosticReport(
        {
          identifier: [{ system: SYSTEMS.report, value: 'RM1-REP-B' }],
          basedOn: [{ reference: `ServiceRequest/${B.id}` }],
          subject: B.subject,
          imagingStudy: cited.map((s) => ({ reference: `ImagingStudy/${s.id}` })),
        },
        'NONE',
      );
    const { status, outcome } = await refusal(
      issueReport(midlands, RIS, reportOfB([studyB.resource, studyA.resource]), 'c'),
    );
    expect(status).toBe(422);
    expect(expressions(outcome)).toEqual(['DiagnosticReport.imagingStudy[1]']);
    // A version of that study is that study.
    const versioned = reportOfB([]);
    versioned.imagingStudy = [{ reference: `ImagingStudy/${studyA.resource.id}/_history/1` }];
    expect(expressions((await refusal(issueReport(midlands, RIS, versioned, 'c'))).outcome)).toEqual([
      'DiagnosticReport.imagingStudy[0]',
    ]);
    expect(await searchAll(midlands.store, 'DiagnosticReport')).toHaveLength(0);
    // Citing its own order's study alone, the report is issued.
    expect((await issueReport(midlands, RIS, reportOfB([studyB.resource]), 'c')).created).toBe(true);
  });
});
