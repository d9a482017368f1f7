import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureDevCredentials } from '@imaging/auth';
import { devTopology } from '@imaging/config';
import { silentLogger } from '@imaging/fhir';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from './config.ts';
import { createDeps } from './deps.ts';

const dataDir = mkdtempSync(join(tmpdir(), 'gateway-deps-'));
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

describe('the gateway started again on the same data dir', () => {
  it('keeps its page-token secret there, so a page link outlives the restart', async () => {
    await ensureDevCredentials(devTopology(), dataDir);
    const config = loadConfig({ REGION_ID: 'north', IMAGING_DATA_DIR: dataDir });
    const before = await createDeps(config, silentLogger);
    const link = before.pageTokens.encode('continuation-1', 'gp-n81001 Task');
    await before.store.close();
    const after = await createDeps(config, silentLogger);
    expect(after.pageTokens.decode(link, 'gp-n81001 Task')).toBe('continuation-1');
    await after.store.close();
  });
});
