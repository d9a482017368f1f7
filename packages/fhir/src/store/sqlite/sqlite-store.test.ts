import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from 'vitest';
import { describeStoreContract } from '../contract.ts';
import { SqliteStore } from './sqlite-store.ts';

const dir = mkdtempSync(join(tmpdir(), 'sqlite-store-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describeStoreContract('SqliteStore :memory:', async () => new SqliteStore({ path: ':memory:' }));
describeStoreContract('SqliteStore file', async () => new SqliteStore({ path: join(dir, 'contract.db') }));
