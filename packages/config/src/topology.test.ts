import { describe, expect, it } from 'vitest';
import { devTopology, parseTopology } from './topology.ts';

describe('topology', () => {
  it('accepts the development topology', () => {
    const topology = parseTopology(devTopology());
    expect(topology.regions.map((r) => r.id)).toEqual(['north', 'midlands', 'south']);
    expect(new Set(topology.clients.map((c) => c.id)).size).toBe(topology.clients.length);
  });

  it('has two GP practices in the north, each with its own client, so isolation within a region can be shown', () => {
    const topology = devTopology();
    const northPractices = topology.organisations.filter((o) => o.region === 'north' && o.kind === 'gp-practice');
    expect(northPractices.map((o) => o.ods)).toEqual(['N81001', 'N81002']);
    const clients = topology.clients.filter((c) => c.organisation === 'N81001' || c.organisation === 'N81002');
    expect(clients.map((c) => [c.id, c.kind, c.region])).toEqual([
      ['gp-n81001', 'referrer', 'north'],
      ['gp-n81002', 'referrer', 'north'],
    ]);
    expect(clients[1]?.scopes).toEqual(clients[0]?.scopes);
  });

  it('moves every port by the offset, and only the ports', () => {
    const moved = devTopology('127.0.0.1', { portOffset: 1000 });
    expect([moved.hub.port, ...moved.regions.map((r) => r.port)]).toEqual([5000, 5101, 5102, 5103]);
    expect([moved.hub.url, ...moved.regions.map((r) => r.url)]).toEqual([
      'http://127.0.0.1:5000',
      'http://127.0.0.1:5101',
      'http://127.0.0.1:5102',
      'http://127.0.0.1:5103',
    ]);
    expect({ ...moved, hub: undefined, regions: moved.regions.map((r) => r.id) }).toEqual({
      ...devTopology(),
      hub: undefined,
      regions: ['north', 'midlands', 'south'],
    });
    expect(devTopology().hub.port).toBe(4000);
    expect(() => devTopology('127.0.0.1', { portOffset: 62000 })).toThrow(/outside 1-65535/);
  });

  it('names every broken cross-reference', () => {
    const broken = devTopology();
    broken.organisations.push({ ods: 'X1234', name: 'Nowhere', region: 'atlantis', kind: 'trust' });
    broken.clients.push({
      id: 'gp-ghost',
      kind: 'referrer',
      region: 'north',
      organisation: 'Z99999',
      scopes: ['system/Task.rs'],
    });
    broken.clients.push({ id: 'gp-anon', kind: 'referrer', region: 'north', scopes: ['system/Task.rs'] });
    expect(() => parseTopology(broken)).toThrow(
      /organisation X1234: unknown region 'atlantis'[\s\S]*client gp-ghost: unknown organisation 'Z99999'[\s\S]*client gp-anon: needs an organisation/,
    );
  });

  it('holds alert recipients: each organisation its requester, delegate and responsible clinician, each trust its spinal on-call team, each region its fail-safe officer', () => {
    const topology = parseTopology(devTopology());
    for (const org of topology.organisations) {
      const roles = (org.people ?? []).filter((p) => p.active !== false && !p.role.includes('mdt')).map((p) => p.role);
      const trust = org.kind !== 'gp-practice';
      expect(roles.sort(), org.ods).toEqual([
        'delegate',
        'requesting-clinician',
        'responsible-clinician',
        ...(trust ? ['spinal-on-call'] : []),
      ]);
    }
    // The imaging providers' cancer MDTs: RN1 has a lung MDT and a generic one, RM1 a generic one.
    const mdts = topology.organisations.flatMap((o) =>
      (o.people ?? []).filter((p) => p.role.includes('mdt')).map((p) => `${o.ods}:${p.role}`),
    );
    expect(mdts).toEqual(['RN1:mdt-lung', 'RN1:cancer-mdt', 'RM1:cancer-mdt']);
    expect(topology.regions.every((r) => r.failSafeOfficer)).toBe(true);
    const left = topology.organisations.flatMap((o) => o.people ?? []).filter((p) => p.active === false);
    expect(left.map((p) => p.id)).toEqual(['n81001-reed']);
  });

  it('takes an MDT role by site, and refuses a role that is neither a known part nor mdt-<site>', () => {
    const withMdt = devTopology();
    withMdt.organisations[0]?.people?.push({ id: 'n81001-mdt', name: 'A team', role: 'mdt-upper-gi' });
    expect(() => parseTopology(withMdt)).not.toThrow();
    const bad = devTopology() as unknown as {
      organisations: { people?: { id: string; name: string; role: string }[] }[];
    };
    bad.organisations[0]?.people?.push({ id: 'n81001-x', name: 'Someone', role: 'mdt_Lung' });
    expect(() => parseTopology(bad)).toThrow(/organisations\.0\.people\.4\.role/);
  });

  it('refuses two people with the same id', () => {
    const twice = devTopology();
    twice.organisations[1]?.people?.push({ id: 'n81001-patel', name: 'Someone else', role: 'delegate' });
    expect(() => parseTopology(twice)).toThrow(/person n81001-patel: the same id twice/);
  });

  it('lets only an observer go without a region and an organisation', () => {
    const topology = devTopology();
    const observer = topology.clients.find((c) => c.kind === 'observer');
    expect(observer).toMatchObject({ id: 'flow-view', scopes: expect.arrayContaining(['flow/events', 'flow/case']) });
    expect(observer?.region).toBeUndefined();
    expect(parseTopology(topology).clients).toContainEqual(observer);
    topology.clients.push({ id: 'gp-nowhere', kind: 'referrer', organisation: 'N81001', scopes: ['system/Task.rs'] });
    expect(() => parseTopology(topology)).toThrow(/client gp-nowhere: needs a region/);
  });

  it('rejects malformed fields with their paths', () => {
    const bad = { ...devTopology(), regions: [{ id: 'North!', name: 'x', serviceId: '', url: 'not a url', port: 1 }] };
    expect(() => parseTopology(bad)).toThrow(/regions\.0\.id[\s\S]*regions\.0\.serviceId[\s\S]*regions\.0\.url/);
  });
});
