import { assertValid, CODE_SYSTEMS, loadFhirDefinitions, SYSTEMS } from '@imaging/fhir';
import { describe, expect, it } from 'vitest';
import { GP } from '../testing/regions.ts';
import type { AuditActor } from './audit.ts';
import { auditEntry, auditEvent } from './audit.ts';

const region = { regionId: 'north', serviceId: 'imaging-north', fhirBaseUrl: 'http://north/fhir' };

describe('gateway AuditEvents', () => {
  it.each<[string, AuditActor]>([
    ['a client', { caller: GP }],
    ['another region', { service: 'imaging-midlands' }],
    ['the gateway itself', 'system'],
  ])('record who (%s), what, which case and the outcome, as valid R4', (_, who) => {
    loadFhirDefinitions();
    const event = auditEvent(region, {
      subtype: 'alert-escalated',
      description: 'Result alert escalated',
      action: 'U',
      who,
      what: [{ reference: 'Task/t1' }],
      patient: { reference: 'Patient/p1' },
      correlationId: 'case-1',
      detail: { from: 'requester', to: 'delegate' },
      recorded: new Date('2026-11-23T10:00:00Z'),
    });
    expect(() => assertValid(event)).not.toThrow();
    expect(event.subtype?.[0]).toMatchObject({ code: 'alert-escalated' });
    expect(event.outcome).toBe('0');
    expect(event.entity?.map((e) => e.what?.reference ?? e.what?.identifier?.value)).toEqual([
      'Patient/p1',
      'Task/t1',
      'case-1',
    ]);
    expect(event.entity?.[1]?.detail).toEqual([
      { type: 'from', valueString: 'requester' },
      { type: 'to', valueString: 'delegate' },
    ]);
    expect(event.source.observer.identifier).toEqual({ system: SYSTEMS.serviceId, value: 'imaging-north' });
  });

  it('record a disclosure (several patients, the query) and a conditional create (its key), as valid R4', () => {
    loadFhirDefinitions();
    const event = auditEvent(region, {
      subtype: 'resources-searched',
      description: 'Resources found by a client’s search',
      action: 'E',
      who: { caller: GP },
      what: [{ reference: 'Task/t1/_history/2' }, { reference: 'Task/t2/_history/1' }],
      patient: [{ reference: 'Patient/p1' }, { reference: 'Patient/p2' }],
      correlationId: 'case-1',
      query: 'Task?status=requested',
      once: { system: SYSTEMS.placerOrder, value: 'N81001-1' },
      recorded: new Date('2026-11-23T10:00:00Z'),
    });
    expect(() => assertValid(event)).not.toThrow();
    expect(event.entity?.filter((e) => e.role?.code === '1').map((e) => e.what?.reference)).toEqual([
      'Patient/p1',
      'Patient/p2',
    ]);
    const query = event.entity?.find((e) => e.role?.code === '24')?.query as string;
    expect(Buffer.from(query, 'base64').toString()).toBe('Task?status=requested');
    expect(event.entity?.some((e) => e.what?.identifier?.value === 'N81001-1')).toBe(true);
  });

  it('are stored once per thing created when keyed: the entry is a conditional create on subtype and key', () => {
    const entry = auditEntry(region, {
      subtype: 'order-placed',
      description: 'An imaging order placed',
      action: 'C',
      who: { caller: GP },
      what: [{ reference: 'urn:uuid:1' }],
      correlationId: 'case-1',
      once: { system: SYSTEMS.placerOrder, value: 'N81001-1' },
      recorded: new Date(),
    });
    const condition = new URLSearchParams(entry.request?.ifNoneExist);
    expect(condition.get('subtype')).toBe(`${CODE_SYSTEMS.auditSubtype}|order-placed`);
    expect(condition.get('entity:identifier')).toBe(`${SYSTEMS.placerOrder}|N81001-1`);
  });

  it('mark a failure by its status, and are only ever created', () => {
    const entry = auditEntry(region, {
      subtype: 'alert-acknowledged',
      description: 'Result alert acknowledged',
      action: 'U',
      who: { caller: GP },
      what: [{ reference: 'Task/t1' }],
      correlationId: 'case-1',
      outcome: { status: 403, text: 'not the owner' },
      recorded: new Date(),
    });
    expect(entry.request).toEqual({ method: 'POST', url: 'AuditEvent' });
    expect(entry.resource).toMatchObject({ outcome: '4', outcomeDesc: 'not the owner' });
    expect((entry.resource as { agent: { who?: unknown; altId?: string }[] }).agent[0]).toMatchObject({
      altId: 'gp-n81001',
      who: { identifier: { value: 'N81001' } },
    });
  });
});
