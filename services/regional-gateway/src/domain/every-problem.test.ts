import type { Resource, Task } from '@medplum/fhirtypes';
import {
  NHS_NUMBER_SYSTEM,
  odsReference,
  OutcomeError,
  patientReferenceByNhsNumber,
  searchAll,
  SNOMED_SYSTEM,
  SYSTEMS,
  testNhsNumber,
} from '@imaging/fhir';
import type { WithId } from '@imaging/fhir';
import {
  exampleDiagnosticReport,
  exampleEndpoint,
  exampleImagingStudy,
  examplePatient,
  exampleServiceRequest,
} from '@imaging/fhir/examples';
import { describe, expect, it } from 'vitest';
import { GP, RIS, testRegions } from '../testing/regions.ts';
import { reportedCase } from '../testing/pathway.ts';
import { placeOrder } from './orders.ts';
import { registerEndpoint, registerPatient } from './registrations.ts';
import { issueReport, recordImagingStudy } from './results.ts';
import { updateTask } from './tasks.ts';

/**
 * A write with several problems is refused once, with one issue per problem at its element, rather than
 * one problem per attempt; nothing is written.
 */

async function refusal(write: () => Promise<unknown>): Promise<{ status: number; at: string[]; texts: string[] }> {
  try {
    await write();
  } catch (err) {
    if (!(err instanceof OutcomeError)) throw err;
    const issues = err.outcome.issue ?? [];
    return {
      status: err.status,
      at: issues.map((i) => i.expression?.[0] ?? '(none)'),
      texts: issues.map((i) => i.diagnostics ?? ''),
    };
  }
  throw new Error('expected the write to be refused');
}

const stored = async (deps: { store: Parameters<typeof searchAll>[0] }, ...types: Resource['resourceType'][]) =>
  Object.fromEntries(await Promise.all(types.map(async (t) => [t, (await searchAll(deps.store, t)).length])));

describe('every problem in one response', () => {
  it('an order: placer number, patient, procedure, intent, date and unknown performer together', async () => {
    const { north } = testRegions();
    await registerPatient(north, GP, examplePatient());
    const before = await stored(north, 'ServiceRequest', 'Task', 'Bundle');
    const order = exampleServiceRequest({
      identifier: [{ system: SYSTEMS.placerOrder, value: 'X99-1' }],
      subject: patientReferenceByNhsNumber(testNhsNumber(5)),
      code: { coding: [{ system: SNOMED_SYSTEM, code: '71651007' }] },
      intent: 'plan',
      authoredOn: undefined,
      performer: [odsReference('ZZZ99')],
    });
    const refused = await refusal(() => placeOrder(north, GP, order, 'c-1'));
    expect(refused.status).toBe(422);
    expect(refused.at.sort()).toEqual(
      [
        'ServiceRequest.identifier[0].value',
        'ServiceRequest.subject',
        'ServiceRequest.code.coding[0]',
        'ServiceRequest.intent',
        'ServiceRequest.authoredOn',
        'ServiceRequest.performer[0]',
      ].sort(),
    );
    expect(refused.texts).toContain('Unknown performer: no region serves ODS code ZZZ99');
    expect(await stored(north, 'ServiceRequest', 'Task', 'Bundle')).toEqual(before);
  });

  it('a malformed order is a 400 before anything else is looked at', async () => {
    const { north } = testRegions();
    const refused = await refusal(() =>
      placeOrder(north, GP, { ...exampleServiceRequest(), requester: 'N81001' } as never, 'c-1'),
    );
    expect(refused.status).toBe(400);
    expect(refused.at.some((at) => at.startsWith('ServiceRequest.requester'))).toBe(true);
  });

  it('a patient: a missing NHS number and a reference the caller may not read', async () => {
    const { north } = testRegions();
    const refused = await refusal(() =>
      registerPatient(
        north,
        GP,
        examplePatient({ identifier: [], link: [{ other: { reference: 'Patient/nobody' }, type: 'seealso' }] }),
      ),
    );
    expect(refused).toMatchObject({ status: 422, at: ['Patient.link[0].other', 'Patient.identifier'] });
  });

  it('an endpoint: an unknown reference and a bad address', async () => {
    const { midlands } = testRegions();
    const refused = await refusal(() =>
      registerEndpoint(
        midlands,
        RIS,
        exampleEndpoint({
          address: 'ftp://pacs.rm1.example/wado',
          managingOrganization: { ...odsReference('RM1'), reference: 'Organization/RM1' },
        }),
      ),
    );
    expect(refused).toMatchObject({ status: 422, at: ['Endpoint.managingOrganization', 'Endpoint.address'] });
  });

  it('a study and a report: the subject, the identifiers and the profile together', async () => {
    const { regions, midlands } = await reportedCase();
    const order = midlands.ServiceRequest;
    const before = await stored(regions.midlands, 'ImagingStudy', 'DiagnosticReport', 'Bundle');
    const study = await refusal(() =>
      recordImagingStudy(
        regions.midlands,
        RIS,
        exampleImagingStudy({
          identifier: [],
          basedOn: [{ reference: `ServiceRequest/${order.id}` }],
          subject: patientReferenceByNhsNumber(testNhsNumber(6)),
          endpoint: [],
        }),
        'c-1',
      ),
    );
    expect(study.status).toBe(422);
    expect(study.at).toEqual(
      expect.arrayContaining(['ImagingStudy.subject', 'ImagingStudy.identifier', 'ImagingStudy.endpoint']),
    );
    const report = await refusal(() =>
      issueReport(
        regions.midlands,
        RIS,
        exampleDiagnosticReport({
          identifier: [{ system: SYSTEMS.report, value: 'X99-REP-1' }],
          basedOn: [{ reference: `ServiceRequest/${order.id}` }],
          subject: patientReferenceByNhsNumber(testNhsNumber(6)),
          extension: [],
        }),
        'c-1',
      ),
    );
    expect(report.status).toBe(422);
    expect(report.at).toEqual([
      'DiagnosticReport.subject',
      'DiagnosticReport.identifier',
      "DiagnosticReport.extension('https://imaging-connect.example/fhir/StructureDefinition/alert-category')",
    ]);
    expect(await stored(regions.midlands, 'ImagingStudy', 'DiagnosticReport', 'Bundle')).toEqual(before);
  });

  it('a Task update: changed fields together; a body naming another Task, or none, is a 400 (FHIR R4 update)', async () => {
    const regions = testRegions();
    await registerPatient(regions.north, GP, examplePatient());
    await placeOrder(regions.north, GP, exampleServiceRequest(), 'c-1');
    const [task] = (await searchAll<Task>(regions.north.store, 'Task')) as WithId<Task>[];
    if (!task) throw new Error('no Task');
    const update = (body: Task) =>
      refusal(() => updateTask(regions.north, GP, task.id, body, task.meta?.versionId, 'c-1'));
    const changed = { ...task, status: 'cancelled', description: 'changed', priority: 'stat' } as Task;
    const refused = await update(changed);
    expect(refused.status).toBe(422);
    expect(refused.at.sort()).toEqual(['Task.description', 'Task.priority'].sort());
    const { id: _, ...withoutId } = changed;
    for (const body of [{ ...changed, id: 'other' }, withoutId as Task])
      expect(await update(body)).toMatchObject({ status: 400, at: ['Task.id'] });
    expect((await regions.north.store.read<Task>('Task', task.id)).meta?.versionId).toBe(task.meta?.versionId);
  });

  it('the NHS number of an unregistered patient is reported, not another problem first', async () => {
    const { north } = testRegions();
    const refused = await refusal(() =>
      registerPatient(north, GP, examplePatient({ identifier: [{ system: NHS_NUMBER_SYSTEM, value: '1234567890' }] })),
    );
    expect(refused).toMatchObject({ status: 422, at: ['Patient.identifier[0].value'] });
  });
});
