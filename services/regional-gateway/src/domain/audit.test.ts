import { assertValid, loadFhirDefinitions, SYSTEMS } from '@imaging/fhir';
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
