import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { documentationProblems, documentedVariables } from '@imaging/config/testing';
import { describe, expect, it } from 'vitest';
import { GatewayEnvSchema, loadConfig } from './config.ts';

const README = readFileSync(join(import.meta.dirname, '../../../README.md'), 'utf8');

describe('gateway configuration', () => {
  it('needs only the region', () => {
    expect(() => loadConfig({})).toThrow(/REGION_ID/);
    expect(loadConfig({ REGION_ID: 'north' })).toMatchObject({ REGION_ID: 'north', PORT: 4101, HOST: '127.0.0.1' });
  });

  it("is what the README's table says: every variable, and each default the schema gives", () => {
    const documented = documentedVariables(README, 'gateway variable');
    expect(documented.map((d) => d.name)).toContain('SERVICE_ID');
    expect(documentationProblems(GatewayEnvSchema, documented)).toEqual([]);
  });
});
