import { gatewayBases } from '@imaging/config';
import { describe, expect, it } from 'vitest';
import { createRegionLink, internalUrlOf } from './region-link.ts';

const topology = {
  hub: { url: 'http://hub:4000', port: 4000, publicUrl: 'http://127.0.0.1:4000' },
  regions: [
    {
      id: 'north',
      name: 'North',
      serviceId: 'imaging-north',
      url: 'http://gateway-north:4101',
      port: 4101,
      publicUrl: 'http://127.0.0.1:4101',
    },
    // no public URL of its own: clients and the hub use the same one
    { id: 'south', name: 'South', serviceId: 'imaging-south', url: 'http://gateway-south:4103', port: 4103 },
  ],
  organisations: [],
  clients: [],
};

describe('a gateway named by a public address the hub cannot reach', () => {
  const bases = gatewayBases(topology);

  it('is called at its internal address, path and query kept', () => {
    expect(bases).toEqual([{ public: 'http://127.0.0.1:4101/fhir', internal: 'http://gateway-north:4101/fhir' }]);
    expect(internalUrlOf('http://127.0.0.1:4101/fhir/DiagnosticReport/r1?_format=json', bases)).toBe(
      'http://gateway-north:4101/fhir/DiagnosticReport/r1?_format=json',
    );
    expect(internalUrlOf('http://127.0.0.1:4101/fhir', bases)).toBe('http://gateway-north:4101/fhir');
  });

  it('leaves every other URL alone, including one that only starts like a public base', () => {
    expect(internalUrlOf('http://gateway-south:4103/fhir/Task/t1', bases)).toBe(
      'http://gateway-south:4103/fhir/Task/t1',
    );
    expect(internalUrlOf('http://127.0.0.1:4101/fhirx/Task/t1', bases)).toBe('http://127.0.0.1:4101/fhirx/Task/t1');
    expect(internalUrlOf('http://127.0.0.1:4102/fhir/Task/t1', bases)).toBe('http://127.0.0.1:4102/fhir/Task/t1');
  });

  it('is what the region link fetches', async () => {
    const fetched: string[] = [];
    const link = createRegionLink({
      tokens: { getToken: async () => 'token', invalidate: () => {} },
      fetch: async (input) => {
        fetched.push(String(input));
        return Response.json(
          { resourceType: 'Task', id: 't1' },
          { headers: { 'content-type': 'application/fhir+json' } },
        );
      },
      timeoutMs: 1000,
      gatewayBases: bases,
    });
    const result = await link.call('http://127.0.0.1:4101/fhir/Task/t1', { method: 'GET' });
    expect(result).toMatchObject({ answered: true, ok: true, body: { id: 't1' } });
    expect(fetched).toEqual(['http://gateway-north:4101/fhir/Task/t1']);
  });
});
