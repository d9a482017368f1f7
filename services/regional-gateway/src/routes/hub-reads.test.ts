import { NHS_NUMBER_SYSTEM, testNhsNumber } from '@imaging/fhir';
import { exampleImagingStudy, examplePatient } from '@imaging/fhir/examples';
import type { ImagingStudy, Patient } from '@medplum/fhirtypes';
import { describe, expect, it } from 'vitest';
import { HUB_TOKEN, testGateway } from '../testing/app.ts';
import { testRegions } from '../testing/regions.ts';

/** A study stored as a writer left it: its subject the literal patient, with an identifier the writer added. */
async function storedStudy(patientNhsNumber: string, writtenNhsNumber: string) {
  const regions = testRegions();
  const gateway = await testGateway(regions.north);
  const patient = await regions.north.store.create<Patient>(
    examplePatient({ identifier: [{ system: NHS_NUMBER_SYSTEM, value: patientNhsNumber }] }),
  );
  const study = await regions.north.store.create<ImagingStudy>(
    exampleImagingStudy({
      subject: {
        reference: `Patient/${patient.resource.id}`,
        identifier: { system: NHS_NUMBER_SYSTEM, value: writtenNhsNumber },
      },
    }),
  );
  const read = async () => {
    const res = await gateway.app.request(`/fhir/ImagingStudy/${study.resource.id}`, {
      headers: { Authorization: `Bearer ${await gateway.token(HUB_TOKEN)}` },
    });
    expect(res.status).toBe(200);
    return (await res.json()) as ImagingStudy;
  };
  return { patient: patient.resource, read };
}

describe('a result as the national hub reads it (for the locator’s $retrieve)', () => {
  it('names its patient by the stored Patient’s NHS number, whatever identifier its writer put on the subject', async () => {
    const { patient, read } = await storedStudy(testNhsNumber(11), testNhsNumber(12));
    expect((await read()).subject).toEqual({
      reference: `Patient/${patient.id}`,
      identifier: { system: NHS_NUMBER_SYSTEM, value: testNhsNumber(11) },
    });
  });
});
