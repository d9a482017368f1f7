import type { Bundle, OperationOutcome, StructureDefinition, ValueSet } from '@medplum/fhirtypes';
import { examplePatient } from '@imaging/fhir/examples';
import {
  IMAGING_PROCEDURES_VALUE_SET,
  imagingProceduresValueSet,
  MAX_COUNT,
  PROFILE_URLS,
  profileDefinitions,
  silentLogger,
} from '@imaging/fhir';
import { describe, expect, it } from 'vitest';
import { createFhirApp } from './app.ts';
import { publishedCapability, publishedRoutes, validateRoutes } from './published.ts';

const BASE = 'http://gw.example/fhir';
const published = { structureDefinitions: profileDefinitions(), valueSets: [imagingProceduresValueSet()] };
const clock = { now: () => new Date('2026-11-23T09:00:00Z') };
const app = createFhirApp({ logger: silentLogger });
app.route('/fhir', publishedRoutes(published, BASE, clock));
app.route('/fhir', validateRoutes(['Patient']));
const get = async <T>(path: string, status = 200): Promise<T> => {
  const res = await app.request(`/fhir/${path}`);
  expect(res.status, await res.clone().text()).toBe(status);
  return (await res.json()) as T;
};

describe('published conformance resources', () => {
  it('reads each StructureDefinition by id, and finds it by its canonical url', async () => {
    for (const definition of published.structureDefinitions) {
      expect(await get(`StructureDefinition/${definition.id}`)).toEqual(definition);
      const found = await get<Bundle<StructureDefinition>>(
        `StructureDefinition?url=${encodeURIComponent(definition.url)}`,
      );
      expect(found.entry?.map((e) => e.resource?.id)).toEqual([definition.id]);
      expect(found.entry?.[0]?.fullUrl).toBe(`${BASE}/StructureDefinition/${definition.id}`);
    }
    const patients = await get<Bundle>('StructureDefinition?type=Patient');
    expect(patients.entry?.map((e) => (e.resource as StructureDefinition).url)).toEqual([PROFILE_URLS.Patient]);
    expect((await get<Bundle>('StructureDefinition')).total).toBe(published.structureDefinitions.length);
  });

  it('answers an unknown id with 404 and an unknown parameter with 400', async () => {
    await get<OperationOutcome>('StructureDefinition/nope', 404);
    await get<OperationOutcome>('ValueSet/nope', 404);
    const outcome = await get<OperationOutcome>('StructureDefinition?name=x', 400);
    expect(outcome.issue[0]?.expression).toEqual(['name']);
  });

  it('takes _format and _pretty as a store-backed search does, and refuses their bad values with 400 at them', async () => {
    const found = await get<Bundle>('StructureDefinition?type=Patient&_format=application/fhir%2Bjson&_pretty=true');
    expect(found.total).toBe(1);
    for (const [name, value] of [
      ['_pretty', 'yes'],
      ['_format', 'application/fhir%2Bxml'],
    ]) {
      const outcome = await get<OperationOutcome>(`ValueSet?${name}=${value}`, 400);
      expect(outcome.issue.map((i) => i.expression)).toEqual([[name]]);
    }
  });

  it('pages a search by _count: total is every match, and next links walk the rest', async () => {
    const all = published.structureDefinitions.map((d) => d.id);
    expect(all.length).toBeGreaterThan(2);
    const seen: (string | undefined)[] = [];
    let path: string | undefined = 'StructureDefinition?_count=2';
    while (path) {
      const page: Bundle = await get<Bundle>(path);
      expect(page.total).toBe(all.length);
      expect(page.entry?.length).toBeLessThanOrEqual(2);
      seen.push(...(page.entry ?? []).map((e) => e.resource?.id));
      const next = page.link?.find((l) => l.relation === 'next')?.url;
      path = next?.slice(`${BASE}/`.length);
    }
    expect(seen).toEqual(all);
    // The criteria still apply, and a page that holds every match has no next link.
    const one = await get<Bundle>('StructureDefinition?type=Patient&_count=1');
    expect([one.total, one.entry?.length, one.link?.map((l) => l.relation)]).toEqual([1, 1, ['self']]);
  });

  it('answers _count=0 as _summary=count: the total of the matches, no entries and no next link', async () => {
    for (const [path, total] of [
      ['StructureDefinition?_count=0', published.structureDefinitions.length],
      ['StructureDefinition?type=Patient&_count=0', 1],
      ['ValueSet?_count=0&_offset=1', published.valueSets.length],
    ] as const) {
      const page = await get<Bundle>(path);
      expect([page.total, page.entry ?? [], page.link?.map((l) => l.relation)], path).toEqual([total, [], ['self']]);
    }
  });

  it('refuses a bad _count or _offset with 400 at it, as a store-backed search does', async () => {
    for (const type of ['StructureDefinition', 'ValueSet']) {
      for (const [name, value] of [
        ['_count', 'abc'],
        ['_count', '-1'],
        ['_count', '0&_count=0'],
        ['_count', '1.5'],
        ['_count', String(MAX_COUNT + 1)],
        ['_offset', '-1'],
      ]) {
        const outcome = await get<OperationOutcome>(`${type}?${name}=${value}`, 400);
        expect(outcome.issue.map((i) => i.expression)).toEqual([[name]]);
      }
    }
  });

  it('reads and expands the procedure ValueSet, by id or by url', async () => {
    expect(await get('ValueSet/imaging-procedures')).toEqual(imagingProceduresValueSet());
    const byId = await get<ValueSet>('ValueSet/imaging-procedures/$expand?filter=head');
    const byUrl = await get<ValueSet>(
      `ValueSet/$expand?url=${encodeURIComponent(IMAGING_PROCEDURES_VALUE_SET)}&filter=head`,
    );
    for (const expanded of [byId, byUrl]) {
      expect(expanded.expansion?.contains?.map((c) => c.display)).toEqual(['Computed tomography of head']);
      expect(expanded.expansion?.timestamp).toBe('2026-11-23T09:00:00.000Z');
    }
    await get('ValueSet/$expand', 400);
    await get(`ValueSet/$expand?url=${encodeURIComponent('http://x/ValueSet/none')}`, 404);
  });

  it('declares only what it has', () => {
    expect(publishedCapability(published).map((r) => r.type)).toEqual(['StructureDefinition', 'ValueSet']);
    expect(
      publishedCapability({ structureDefinitions: published.structureDefinitions, valueSets: [] }).map((r) => r.type),
    ).toEqual(['StructureDefinition']);
  });
});

describe('$validate', () => {
  const validate = (body: unknown) =>
    app.request('/fhir/Patient/$validate', {
      method: 'POST',
      headers: { 'Content-Type': 'application/fhir+json' },
      body: JSON.stringify(body),
    });

  it('answers 200 with the issues, even when the resource is invalid', async () => {
    const res = await validate(
      examplePatient({ identifier: [{ system: 'https://fhir.nhs.uk/Id/nhs-number', value: '1234567890' }] }),
    );
    expect(res.status).toBe(200);
    const outcome = (await res.json()) as OperationOutcome;
    expect(outcome.issue.map((i) => [i.severity, i.expression?.[0]])).toEqual([
      ['error', 'Patient.identifier[0].value'],
    ]);
  });

  it('refuses a body that is not a validation request with 400', async () => {
    expect((await validate({ resourceType: 'Task' })).status).toBe(400);
  });

  it('refuses a Parameters whose parameter is not a list with 400 at it, not a 500', async () => {
    const res = await validate({ resourceType: 'Parameters', parameter: { name: 'resource' } });
    expect(res.status).toBe(400);
    const outcome = (await res.json()) as OperationOutcome;
    expect(outcome.issue[0]?.expression).toEqual(['Parameters.parameter']);
  });
});
