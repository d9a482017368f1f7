import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError } from '@imaging/config';
import { documentationProblems, documentedVariables } from '@imaging/config/testing';
import { describe, expect, it } from 'vitest';
import { HubEnvSchema, loadConfig, publicUrlOf } from './config.ts';

const README = readFileSync(join(import.meta.dirname, '../../../README.md'), 'utf8');

describe('hub configuration', () => {
  it("is what the README's table says: every variable, and each default the schema gives", () => {
    expect(documentationProblems(HubEnvSchema, documentedVariables(README, 'hub variable'))).toEqual([]);
  });

  it('runs the development set-up with no variables at all', () => {
    const env = loadConfig({});
    expect(env).toMatchObject({
      PORT: 4000,
      HOST: '127.0.0.1',
      DEV_CREDENTIALS: true,
      TOKEN_TTL: 300_000,
      TOKEN_AUDIENCE: 'imaging-connect',
      FORWARD_TIMEOUT: 10_000,
      PAGE_TOKEN_TTL: 900_000,
    });
    expect(env.HUB_STORE).toBeUndefined();
    expect(publicUrlOf(env)).toBe('http://127.0.0.1:4000');
  });

  it('takes an HTTP store, a public URL and durations', () => {
    const env = loadConfig({
      HUB_STORE: 'http://127.0.0.1:8080/fhir/hub',
      PUBLIC_URL: 'https://hub.example/',
      TOKEN_TTL: '2m',
      PORT: '4100',
    });
    expect(env.HUB_STORE).toBe('http://127.0.0.1:8080/fhir/hub');
    expect(publicUrlOf(env)).toBe('https://hub.example');
    expect(env.TOKEN_TTL).toBe(120_000);
    expect(env.PORT).toBe(4100);
  });

  it('fails fast, naming every bad variable', () => {
    let error: unknown;
    try {
      loadConfig({
        PORT: 'eighty',
        PUBLIC_URL: 'ftp://hub',
        TOKEN_TTL: '2h',
        DEV_CREDENTIALS: 'yes',
        PAGE_TOKEN_SECRET: 'short',
        PAGE_TOKEN_TTL: '0s',
      });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).problems.map((p) => p.split(':')[0]).sort()).toEqual([
      'DEV_CREDENTIALS',
      'PAGE_TOKEN_SECRET',
      'PAGE_TOKEN_TTL',
      'PORT',
      'PUBLIC_URL',
      'TOKEN_TTL',
    ]);
  });
});
