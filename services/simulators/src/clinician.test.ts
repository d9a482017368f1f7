import type { DocumentReference, ImagingStudy, ServiceRequest } from '@medplum/fhirtypes';
import {
  CODE_SYSTEMS,
  isOutcomeError,
  NHS_NUMBER_SYSTEM,
  patientReferenceByNhsNumber,
  SYSTEMS,
  searchAll,
  testNhsNumber,
} from '@imaging/fhir';
import { EXAMPLE, examplePatient, exampleServiceRequest } from '@imaging/fhir/examples';
import { afterAll, describe, expect, it } from 'vitest';
import { connectedRegions, deliverDue, GP, placeOrder, registerPatient } from '@imaging/regional-gateway/testing';
import { createClinician, pointerKind } from './clinician.ts';
import { devClient } from './dev-client.ts';
import { createRisPacs } from './ris-pacs.ts';

const closers: (() => void)[] = [];
afterAll(() => {
  for (const close of closers) close();
});

/**
 * North orders from the midlands; the midlands images and reports through its gateway app, and its
 * pointers reach the real hub; then a clinician in the south uses the hub's locator. The hub and the
 * gateway apps run in-process (the gateway's connected-regions kit): requests go through `app.request`.
 */
async function priorImagingInMidlands() {
  const net = await connectedRegions();
  closers.push(net.close);
  const regions = { north: net.north.deps, midlands: net.midlands.deps, south: net.south.deps };
  const hub = net.hub;
  const options = { hubUrl: hub.publicUrl, dataDir: net.dataDir, fetch: net.fetch };

  const patient = await registerPatient(regions.north, GP, examplePatient());
  await placeOrder(
    regions.north,
    GP,
    exampleServiceRequest({ subject: { reference: `Patient/${patient.resource.id}` } }),
    'case-prior',
  );
  expect(await deliverDue(regions.north)).toMatchObject({ delivered: 1 });

  const ris = createRisPacs(await devClient('ris-rm1', regions.midlands.region.fhirBaseUrl, options), 'RM1');
  const [order] = (await searchAll<ServiceRequest>(regions.midlands.store, 'ServiceRequest')) as [
    ServiceRequest & { id: string },
  ];
  const endpoint = await ris.registerDicomWebEndpoint('https://pacs.rm1.example/dicomweb', 'RM1 DICOMweb');
  const study = await ris.recordImagingStudy(order, endpoint.resource, {
    studyUid: EXAMPLE.studyUid,
    accession: 'RM1-ACC-9',
  });
  await ris.issueReport(order, study.resource, { alertCategory: 'NONE', conclusion: 'No abnormality.' });
  expect(await deliverDue(regions.midlands)).toMatchObject({ failed: 0, retried: 0 });

  const clinician = createClinician(await devClient('clinician-rs1', `${hub.publicUrl}/fhir`, options));
  return {
    regions,
    hub,
    options,
    clinician,
    ris,
    order,
    endpoint: endpoint.resource,
    study: study.resource,
    setMidlandsDown: () => net.setDown('midlands', true),
  };
}

describe('clinician against the real hub (locator) and the real midlands gateway', () => {
  it('finds the prior study and report by NHS number, and retrieves them from the midlands through the hub', async () => {
    const { clinician, study, regions } = await priorImagingInMidlands();
    const pointers = await clinician.findPriorImaging(EXAMPLE.nhsNumber);
    expect(pointers.map(pointerKind).sort()).toEqual(['DiagnosticReport', 'ImagingStudy']);
    expect(pointers.every((p) => p.custodian?.identifier?.value === 'midlands')).toBe(true);

    const studyPointer = pointers.find((p) => pointerKind(p) === 'ImagingStudy');
    const prior = (await clinician.retrievePrior(studyPointer as NonNullable<typeof studyPointer>)) as ImagingStudy & {
      id: string;
    };
    expect(prior.resourceType).toBe('ImagingStudy');
    expect(prior.id).toBe(study.id);
    // The midlands names the patient by NHS number for the hub, which checks it is the pointer's.
    expect(prior.subject?.identifier).toEqual({ system: NHS_NUMBER_SYSTEM, value: EXAMPLE.nhsNumber });
    expect(prior.meta?.versionId).toBe(
      (await regions.midlands.store.read<ImagingStudy>('ImagingStudy', study.id)).meta?.versionId,
    );
    // Nothing was copied to the south.
    expect(await searchAll(regions.south.store, 'ImagingStudy')).toHaveLength(0);
  });

  it("never shows a patient another's study: a pointer put under another NHS number by the midlands' own credentials", async () => {
    const { clinician, hub, options, regions, ris, order, endpoint, study } = await priorImagingInMidlands();
    const gateway = await devClient('gateway-midlands', `${hub.publicUrl}/fhir`, options);
    const [honest] = await clinician.findPriorImaging(EXAMPLE.nhsNumber);
    const pointerTo = (url: string, nhsNumber: string): DocumentReference => ({
      ...(honest as DocumentReference),
      id: undefined,
      meta: undefined,
      masterIdentifier: { system: SYSTEMS.pointerSource, value: url },
      type: { coding: [{ system: CODE_SYSTEMS.pointerKind, code: 'ImagingStudy' }] },
      subject: patientReferenceByNhsNumber(nhsNumber),
      content: [{ attachment: { contentType: 'application/fhir+json', url } }],
    });
    const studyUrl = `${regions.midlands.region.fhirBaseUrl}/ImagingStudy/${study.id}`;
    // A study with its pointer: a second pointer to it, for another patient, is refused.
    const repeat = await gateway.create(pointerTo(studyUrl, testNhsNumber(1))).catch((e: unknown) => e);
    expect(isOutcomeError(repeat) && repeat.status).toBe(409);

    // A study whose pointer is not yet registered: one for another patient is, but retrieving it shows nothing.
    const next = await ris.recordImagingStudy(order, endpoint, { studyUid: '2.25.4242', accession: 'RM1-ACC-10' });
    const nextUrl = `${regions.midlands.region.fhirBaseUrl}/ImagingStudy/${next.resource.id}`;
    expect((await gateway.create(pointerTo(nextUrl, testNhsNumber(1)))).created).toBe(true);
    const [forged] = await clinician.findPriorImaging(testNhsNumber(1));
    const refused = await clinician.retrievePrior(forged as NonNullable<typeof forged>).catch((e: unknown) => e);
    expect(isOutcomeError(refused) && [refused.status, refused.message]).toEqual([
      502,
      "Region midlands answered with a ImagingStudy for another patient than the pointer's NHS number",
    ]);
    // The study's own pointer is then refused, and its delivery parked where an operator sees it.
    expect(await deliverDue(regions.midlands)).toMatchObject({ failed: 1 });
    expect(await clinician.findPriorImaging(EXAMPLE.nhsNumber)).toHaveLength(2);
  });

  it('finds nothing for a patient with no imaging', async () => {
    const { clinician } = await priorImagingInMidlands();
    expect(await clinician.findPriorImaging(testNhsNumber(1))).toEqual([]);
  });

  it('gets 503 when the region holding the prior is down', async () => {
    const { clinician, setMidlandsDown } = await priorImagingInMidlands();
    const [pointer] = await clinician.findPriorImaging(EXAMPLE.nhsNumber);
    setMidlandsDown();
    const err = await clinician.retrievePrior(pointer as NonNullable<typeof pointer>).catch((e: unknown) => e);
    expect(isOutcomeError(err) && err.status).toBe(503);
  });
});
