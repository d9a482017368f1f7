import type { OperationOutcome, Patient } from '@medplum/fhirtypes';
import { describe, expect, it } from 'vitest';
import { caseTrailBundle, mergeCaseTrails } from './case-trail.ts';
import { returnPreference, searchsetBundle, writeResponse } from './responses.ts';

const BASE = 'http://gw.example/fhir';
const patient: Patient & { id: string } = {
  resourceType: 'Patient',
  id: 'p1',
  meta: { versionId: '3', lastUpdated: '2026-11-23T09:00:00.000Z' },
};

describe('returnPreference', () => {
  it.each([
    [undefined, 'representation'],
    ['return=minimal', 'minimal'],
    ['return="minimal"', 'minimal'],
    ['respond-async, return=OperationOutcome', 'OperationOutcome'],
    ['RETURN=operationoutcome; x=1', 'OperationOutcome'],
    ['return=representation', 'representation'],
    ['return=everything', 'representation'],
    ['handling=strict', 'representation'],
  ])('%s → %s', (header, expected) => {
    expect(returnPreference(header)).toBe(expected);
  });
});

describe('writeResponse', () => {
  const versionHeaders = (res: Response) => ({
    location: res.headers.get('Location'),
    etag: res.headers.get('ETag'),
    lastModified: res.headers.get('Last-Modified'),
  });
  const expectedHeaders = {
    location: `${BASE}/Patient/p1/_history/3`,
    etag: 'W/"3"',
    lastModified: 'Mon, 23 Nov 2026 09:00:00 GMT',
  };

  it('answers a create with 201, the version headers and the resource', async () => {
    const res = writeResponse({ resource: patient, created: true, baseUrl: BASE });
    expect(res.status).toBe(201);
    expect(versionHeaders(res)).toEqual(expectedHeaders);
    expect(res.headers.get('Preference-Applied')).toBeNull();
    expect(await res.json()).toEqual(patient);
  });

  it('answers an update with 200 and the same headers', async () => {
    const res = writeResponse({ resource: patient, created: false, baseUrl: BASE, prefer: 'return=representation' });
    expect(res.status).toBe(200);
    expect(versionHeaders(res)).toEqual(expectedHeaders);
    expect(res.headers.get('Preference-Applied')).toBe('return=representation');
    expect(await res.json()).toEqual(patient);
  });

  it('answers return=minimal with no body, and return=OperationOutcome with an outcome', async () => {
    const minimal = writeResponse({ resource: patient, created: true, baseUrl: BASE, prefer: 'return=minimal' });
    expect(minimal.status).toBe(201);
    expect(versionHeaders(minimal)).toEqual(expectedHeaders);
    expect(minimal.headers.get('Preference-Applied')).toBe('return=minimal');
    expect(minimal.headers.get('Content-Type')).toBeNull();
    expect(await minimal.text()).toBe('');

    for (const created of [true, false]) {
      const res = writeResponse({ resource: patient, created, baseUrl: BASE, prefer: 'return=OperationOutcome' });
      expect(res.status).toBe(created ? 201 : 200);
      expect(versionHeaders(res)).toEqual(expectedHeaders);
      const outcome = (await res.json()) as OperationOutcome;
      expect(outcome.resourceType).toBe('OperationOutcome');
      expect(outcome.issue[0]).toMatchObject({ severity: 'information', code: 'informational' });
      expect(outcome.issue[0]?.diagnostics).toContain('Patient/p1 version 3');
    }
  });
});

describe('Bundles with nothing in them', () => {
  // FHIR JSON has no empty arrays (R4 json.html): no entries is no entry element, not `"entry": []`.
  const page = (resources: Patient[]) => ({ resources, included: [], total: resources.length });
  it('a search that finds nothing has no entry element; one that finds something lists it', () => {
    expect(JSON.stringify(searchsetBundle(page([]), BASE, `${BASE}/Patient`))).not.toContain('"entry"');
    expect(searchsetBundle(page([patient]), BASE, `${BASE}/Patient`).entry?.[0]?.fullUrl).toBe(`${BASE}/Patient/p1`);
  });

  it('an empty case trail, and an empty merge of trails, have no entry element', () => {
    const now = new Date('2026-11-23T09:00:00Z');
    const empty = caseTrailBundle([], BASE, now);
    expect(empty).not.toHaveProperty('entry');
    expect(mergeCaseTrails([{ source: 'north', bundle: empty }], now)).not.toHaveProperty('entry');
    expect(caseTrailBundle([patient], BASE, now).entry?.[0]?.fullUrl).toBe(`${BASE}/Patient/p1/_history/3`);
  });
});
