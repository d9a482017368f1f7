import type { Bundle, ServiceRequest, Task } from '@medplum/fhirtypes';
import { searchAll, SqliteStore } from '@imaging/fhir';
import type { Caller } from '@imaging/fhir';
import { outcomeErrorOf } from '@imaging/fhir/testing';
import { describe, expect, it } from 'vitest';
import { isMessageRefusal } from '@imaging/messaging';
import { queuedMessage } from '../testing/alerts.ts';
import { orderOf } from '../testing/pathway.ts';
import { GP, HUB_CALLER, testRegions } from '../testing/regions.ts';
import { readCaseTrail } from './case-trail-access.ts';
import { deliverDue } from './delivery.ts';
import { processMessage } from './inbound.ts';
import type { GatewayDeps } from './ports.ts';

// Another practice in the north, and one in the south: each orders for a patient of its own.
const OTHER_GP: Caller = { clientId: 'gp-n81002', kind: 'referrer', organisation: 'N81002', region: 'north' };
const SOUTH_GP: Caller = { clientId: 'gp-s81001', kind: 'referrer', organisation: 'S81001', region: 'south' };

const orders = async (deps: GatewayDeps) =>
  (await searchAll<ServiceRequest>(deps.store, 'ServiceRequest')).map((o) => o.identifier?.[0]?.value).sort();
const pending = async (deps: GatewayDeps) =>
  (await searchAll<Task>(deps.store, 'Task', { status: 'requested' })).filter(
    (t) => t.code?.coding?.[0]?.code === 'deliver-message',
  ).length;

describe('a case is its requester’s: no other organisation can put an order into it', () => {
  it('refuses an order naming another practice’s case (403 at X-Correlation-ID), stores nothing, and so discloses no trail', async () => {
    const regions = testRegions();
    await orderOf(regions.north, GP, 'N81001-000123', 0, 'case-000123');
    const before = await pending(regions.north);

    const err = await outcomeErrorOf(orderOf(regions.north, OTHER_GP, 'N81002-000001', 1, 'case-000123'));
    expect(err.status).toBe(403);
    expect(err.outcome.issue.map((i) => i.expression?.[0])).toEqual(['http.X-Correlation-ID']);
    // Whose case it is, is not said.
    expect(JSON.stringify(err.outcome)).not.toContain('N81001');
    expect(await orders(regions.north)).toEqual(['N81001-000123']);
    expect(await pending(regions.north)).toBe(before);
    const reader = { caller: OTHER_GP, observer: false, auditor: false };
    expect(await readCaseTrail(regions.north, reader, 'case-000123')).toEqual([]);
  });

  it('takes a second order of the same practice into its case, and an order of another practice under a case of its own', async () => {
    const regions = testRegions();
    await orderOf(regions.north, GP, 'N81001-000123', 0, 'case-N81001-000123');
    await orderOf(regions.north, GP, 'N81001-000124', 0, 'case-N81001-000123');
    await orderOf(regions.north, OTHER_GP, 'N81002-000001', 1, 'case-N81002-000001');
    expect(await orders(regions.north)).toEqual(['N81001-000123', 'N81001-000124', 'N81002-000001']);
  });

  it('refuses a routed order whose Task names a case the receiver holds for another requester: a refusal the sender parks, nothing stored', async () => {
    const regions = testRegions();
    await orderOf(regions.north, GP, 'N81001-000123', 0, 'case-N81001-000123');
    expect(await deliverDue(regions.north)).toMatchObject({ delivered: 1 });
    // The south orders from RM1 too, naming the north's case as its own.
    await orderOf(regions.south, SOUTH_GP, 'S81001-000050', 2, 'case-N81001-000123');
    const message: Bundle = await queuedMessage(regions.south, 'servicerequest-request');

    const err = await outcomeErrorOf(processMessage(regions.midlands, HUB_CALLER, message, 'req-south-1'));
    expect(err.status).toBe(403);
    expect(isMessageRefusal(err.outcome)).toBe(true);
    const taskIndex = message.entry?.findIndex((e) => e.resource?.resourceType === 'Task');
    expect(err.outcome.issue.map((i) => i.expression?.[0])).toEqual([
      `Bundle.entry[${taskIndex}].resource.groupIdentifier`,
    ]);
    expect(await orders(regions.midlands)).toEqual(['N81001-000123']);
  });

  it('takes a routed order under a case the receiver does not hold', async () => {
    const regions = testRegions();
    const fresh = regions.open('midlands', new SqliteStore({ path: ':memory:' }));
    await orderOf(regions.south, SOUTH_GP, 'S81001-000050', 2, 'case-N81001-000123');
    const message = await queuedMessage(regions.south, 'servicerequest-request');
    expect((await processMessage(fresh, HUB_CALLER, message, 'req-south-1')).duplicate).toBe(false);
    expect(await orders(fresh)).toEqual(['S81001-000050']);
  });

  it('a case two practices’ new orders raced into (each checked before the other was stored) is neither’s to read', async () => {
    const regions = testRegions();
    await orderOf(regions.north, GP, 'N81001-000123', 0, 'case-new');
    // The other practice's check ran before the first order was stored: it found no order in the case.
    const checkedTooSoon: GatewayDeps = {
      ...regions.north,
      store: new Proxy(regions.north.store, {
        get: (store, key) =>
          key === 'search'
            ? (type: string, query: URLSearchParams) =>
                type === 'Task' && new URLSearchParams(query).has('group-identifier')
                  ? Promise.resolve({ resources: [] })
                  : store.search(type as 'Task', query)
            : Reflect.get(store, key),
      }),
    };
    await orderOf(checkedTooSoon, OTHER_GP, 'N81002-000001', 1, 'case-new');
    expect(await orders(regions.north)).toEqual(['N81001-000123', 'N81002-000001']);
    for (const caller of [GP, OTHER_GP]) {
      expect(await readCaseTrail(regions.north, { caller, observer: false, auditor: false }, 'case-new')).toEqual([]);
    }
    const whole = await readCaseTrail(
      regions.north,
      { caller: HUB_CALLER, observer: true, auditor: false },
      'case-new',
    );
    expect(whole.filter((r) => r.resourceType === 'ServiceRequest')).toHaveLength(2);
  });
});
