import type { AccessTokenContent } from '@imaging/auth';
import { NHS_NUMBER_SYSTEM, odsReference, searchAll, SYSTEMS, testNhsNumber } from '@imaging/fhir';
import { examplePatient, exampleServiceRequest } from '@imaging/fhir/examples';
import type { OperationOutcome, ServiceRequest, Task } from '@medplum/fhirtypes';
import { describe, expect, it } from 'vitest';
import { GP_TOKEN, testGateway } from '../testing/app.ts';
import { reportedCase } from '../testing/pathway.ts';

/** Another practice of the north, with its own patient. */
const OTHER_GP: AccessTokenContent = { ...GP_TOKEN, sub: 'gp-n81002', org: 'N81002' };

describe('a business identifier holding search syntax', () => {
  it("is a 422 at it: a comma does not make an order's placer number find another practice's order", async () => {
    const { regions } = await reportedCase();
    const victim = (await searchAll<ServiceRequest>(regions.north.store, 'ServiceRequest'))[0];
    const victimPlacer = victim?.identifier?.find((i) => i.system === SYSTEMS.placerOrder)?.value as string;
    expect(victimPlacer).toMatch(/^N81001-/);
    const gateway = await testGateway(regions.north);
    const headers = {
      Authorization: `Bearer ${await gateway.token(OTHER_GP)}`,
      'Content-Type': 'application/fhir+json',
      Prefer: 'return=representation',
    };
    const nhs = { system: NHS_NUMBER_SYSTEM, value: testNhsNumber(41) };
    const patient = await gateway.app.request('/fhir/Patient', {
      method: 'POST',
      headers,
      body: JSON.stringify(examplePatient({ identifier: [nhs] })),
    });
    expect(patient.status).toBe(201);
    const before = (await searchAll<Task>(regions.north.store, 'Task')).length;
    const res = await gateway.app.request('/fhir/ServiceRequest', {
      method: 'POST',
      headers,
      body: JSON.stringify(
        exampleServiceRequest({
          identifier: [{ system: SYSTEMS.placerOrder, value: `N81002-9,${victimPlacer}` }],
          requester: odsReference('N81002'),
          subject: { type: 'Patient', identifier: nhs },
        }),
      ),
    });
    const text = await res.text();
    expect(res.status, text).toBe(422);
    const outcome = JSON.parse(text) as OperationOutcome;
    expect(outcome.issue.map((i) => i.expression?.[0])).toContain('ServiceRequest.identifier[0]');
    expect(text).not.toContain(victim?.id as string);
    expect((await searchAll<Task>(regions.north.store, 'Task')).length).toBe(before);
  });
});
