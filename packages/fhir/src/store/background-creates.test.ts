import type { AuditEvent, Basic } from '@medplum/fhirtypes';
import { describe, expect, it } from 'vitest';
import { memoryLogger } from '../ports/logger.ts';
import { backgroundCreates } from './background-creates.ts';
import type { FhirStore } from './port.ts';
import { SqliteStore } from './sqlite/sqlite-store.ts';

const basic = (n: number): Basic => ({ resourceType: 'Basic', code: { text: `n${n}` } });
const count = async (store: FhirStore) => (await store.search<Basic>('Basic', { _count: '1000' })).resources.length;

describe('background creates', () => {
  it('store nothing on the caller’s path; a flush stores what is queued, many to a transaction', async () => {
    const store = new SqliteStore({ path: ':memory:' });
    let transactions = 0;
    const counting: FhirStore = new Proxy(store, {
      get(target, prop) {
        if (prop === 'transaction') transactions++;
        const value = Reflect.get(target, prop);
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
    const writer = backgroundCreates(counting, { logger: memoryLogger(), what: 'test', intervalMs: 0, maxBatch: 3 });
    writer.add(basic(1));
    writer.add(basic(2));
    expect(await count(store)).toBe(0);
    expect(writer.pending).toBe(2);
    await writer.flush();
    expect(await count(store)).toBe(2);
    expect(transactions).toBe(1);
    // A full batch goes at once, without a flush.
    for (const n of [3, 4, 5]) writer.add(basic(n));
    await expect.poll(() => count(store)).toBe(5);
    expect(transactions).toBe(2);
  });

  it('keep a batch the store refused and store it at the next flush; close stores what is left', async () => {
    const store = new SqliteStore({ path: ':memory:' });
    let down = true;
    const flaky: FhirStore = new Proxy(store, {
      get(target, prop) {
        if (prop === 'transaction' && down) return () => Promise.reject(new Error('store unreachable'));
        const value = Reflect.get(target, prop);
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
    const logger = memoryLogger();
    const writer = backgroundCreates(flaky, { logger, what: 'test', intervalMs: 0 });
    writer.add(basic(1));
    await writer.flush();
    expect(writer.pending).toBe(1);
    expect(logger.entries.map((e) => e.message)).toEqual(['could not store test: will try again']);
    down = false;
    writer.add(basic(2));
    await writer.close();
    expect(await count(store)).toBe(2);
    expect(writer.pending).toBe(0);
  });

  it('on a timer, store without being asked', async () => {
    const store = new SqliteStore({ path: ':memory:' });
    const writer = backgroundCreates(store, { logger: memoryLogger(), what: 'test', intervalMs: 5 });
    writer.add({ resourceType: 'AuditEvent' } as AuditEvent);
    await expect.poll(() => store.search('AuditEvent', {}).then((p) => p.resources.length)).toBe(1);
    await writer.close();
  });
});
