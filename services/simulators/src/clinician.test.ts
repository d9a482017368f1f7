import type { ImagingStudy, ServiceRequest } from '@medplum/fhirtypes';
import { createAccessTokenVerifier, devTokenSource, loadDevHubKey } from '@imaging/auth';
import { isOutcomeError, searchAll, testNhsNumber } from '@imaging/fhir';
import { EXAMPLE, examplePatient, exampleServiceRequest } from '@imaging/fhir/examples';
import { pageTokens } from '@imaging/fhir-http';
import { afterAll, describe, expect, it } from 'vitest';
// The real hub and the real gateway apps, in-process: requests between them go through `app.request`.
import { createTestHub, tempDataDir } from '@imaging/national-hub/testing';
import {
  createApp,
  createHubClient,
  deliverDue,
  GP,
  placeOrder,
  registerPatient,
  testRegions,
} from '@imaging/regional-gateway/testing';
import { createClinician, pointerKind } from './clinician.ts';
import { devClient } from './dev-client.ts';
import { createRisPacs } from './ris-pacs.ts';

const data = tempDataDir();
afterAll(() => data.remove());

/**
 * North orders from the midlands; the midlands images and reports through its gateway app, and its
 * pointers reach the real hub; then a clinician in the south uses the hub's locator.
 */
async function priorImagingInMidlands() {
  const regions = testRegions();
  const apps = new Map<string, { request: (url: string, init?: RequestInit) => Response | Promise<Response> }>();
  const down = new Set<string>();
  // One in-process "network": the hub and the gateways answer at their URLs (127.0.0.1:4000, :4101…).
  const network = async (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
    const url = new URL(input instanceof Request ? input.url : String(input));
    const app = apps.get(url.host);
    if (!app || down.has(url.host)) throw new TypeError('fetch failed', { cause: { code: 'ECONNREFUSED' } });
    return app.request(url.toString(), init);
  };
  const hub = await createTestHub({ dataDir: data.dir, fetch: network as typeof fetch });
  apps.set(new URL(hub.publicUrl).host, hub.app);
  const hubKey = await loadDevHubKey(data.dir);
  const options = { hubUrl: hub.publicUrl, dataDir: data.dir, fetch: network };
  for (const deps of [regions.north, regions.midlands]) {
    const gateway = `gateway-${deps.region.regionId}`;
    deps.hub = createHubClient({
      hubUrl: hub.publicUrl,
      tokenSource: await devTokenSource(gateway, options),
      fetch: network as typeof fetch,
    });
    const app = createApp({
      ...deps,
      hubUrl: hub.publicUrl,
      verifier: createAccessTokenVerifier({ keys: [hubKey.publicJwk], issuer: hub.publicUrl }),
      pageTokens: pageTokens('test-page-secret'),
    });
    apps.set(new URL(deps.region.fhirBaseUrl).host, app);
  }

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
    down,
    midlandsHost: new URL(regions.midlands.region.fhirBaseUrl).host,
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
    const { clinician, down, midlandsHost } = await priorImagingInMidlands();
    const [pointer] = await clinician.findPriorImaging(EXAMPLE.nhsNumber);
    down.add(midlandsHost);
    const err = await clinician.retrievePrior(pointer as NonNullable<typeof pointer>).catch((e: unknown) => e);
    expect(isOutcomeError(err) && err.status).toBe(503);
  });
});
