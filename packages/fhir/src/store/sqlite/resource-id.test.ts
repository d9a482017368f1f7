import type { Bundle, Task } from '@medplum/fhirtypes';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { newResourceId } from './resource-id.ts';
import { SqliteStore } from './sqlite-store.ts';

const UUID_V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const FHIR_ID = /^[A-Za-z0-9\-.]{1,64}$/;
const MAX_MS = 2 ** 48 - 1;

/** The milliseconds a UUID of version 7 carries in its first 48 bits. */
const millisecondsOf = (id: string): number => Number.parseInt(id.replace('-', '').slice(0, 12), 16);

describe('newResourceId', () => {
  it('is a UUID of version 7 and variant 10, and a valid FHIR id, carrying the time it was made', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: MAX_MS }), (ms) => {
        const id = newResourceId(ms);
        expect(id).toMatch(UUID_V7);
        expect(id).toMatch(FHIR_ID);
        expect(millisecondsOf(id)).toBe(ms);
      }),
    );
  });

  it('sorts an id made in a later millisecond after one made earlier', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: MAX_MS - 1 }), fc.integer({ min: 1, max: 10_000 }), (ms, later) => {
        const earlier = newResourceId(ms);
        const after = newResourceId(Math.min(MAX_MS, ms + later));
        expect(earlier < after).toBe(true);
      }),
    );
  });

  it('gives distinct ids within one millisecond (74 random bits each), across its pool of random bytes', () => {
    const ms = Date.parse('2026-12-01T22:00:00Z');
    const ids = Array.from({ length: 20_000 }, () => newResourceId(ms));
    expect(new Set(ids).size).toBe(ids.length);
    // The random part differs, not only somewhere: no two ids share their last 12 hex digits.
    expect(new Set(ids.map((id) => id.slice(-12))).size).toBe(ids.length);
  });
});

describe('SqliteStore ids of new resources', () => {
  it('are time-ordered UUIDs, from a create and from a transaction, and later ones sort after earlier ones', async () => {
    const store = new SqliteStore({ path: ':memory:' });
    const task: Task = { resourceType: 'Task', status: 'requested', intent: 'order' };
    const first = (await store.create(task)).resource.id;
    await new Promise((resolve) => setTimeout(resolve, 2));
    const bundle: Bundle = {
      resourceType: 'Bundle',
      type: 'transaction',
      entry: [
        {
          fullUrl: 'urn:uuid:0b0e7c1e-5f4a-4c52-9d59-5d1f3c0b9a11',
          resource: task,
          request: { method: 'POST', url: 'Task' },
        },
      ],
    };
    const response = await store.transaction(bundle);
    const second = response.entry?.[0]?.response?.location?.split('/')[1] as string;
    expect(first).toMatch(UUID_V7);
    expect(second).toMatch(UUID_V7);
    expect(first < second).toBe(true);
    // A client's own id on a conditional update that creates is kept as given.
    const given = { ...task, identifier: [{ system: 'urn:test', value: 'mine' }] };
    const put = await store.transaction({
      resourceType: 'Bundle',
      type: 'transaction',
      entry: [
        {
          resource: { ...given, id: 'client-chosen' },
          request: { method: 'PUT', url: 'Task?identifier=urn:test|mine' },
        },
      ],
    });
    expect(put.entry?.[0]?.response?.location).toMatch(/^Task\/client-chosen\//);
    await store.close();
  });
});
