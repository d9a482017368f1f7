import type { ImagingStudy, ServiceRequest } from '@medplum/fhirtypes';
import { isOutcomeError, searchAll, testNhsNumber } from '@imaging/fhir';
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
    clinician,
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
    expect(prior.meta?.versionId).toBe(
      (await regions.midlands.store.read<ImagingStudy>('ImagingStudy', study.id)).meta?.versionId,
    );
    // Nothing was copied to the south.
    expect(await searchAll(regions.south.store, 'ImagingStudy')).toHaveLength(0);
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
