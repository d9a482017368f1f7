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

describe('hub configuration: the store and the forward timeout', () => {
  const problemsOf = (source: Record<string, string>) => {
    try {
      loadConfig(source);
    } catch (err) {
      return (err as ConfigError).problems;
    }
    return [];
  };

  it('takes an http(s) base with an upper-case scheme as the store reads it', () => {
    expect(loadConfig({ HUB_STORE: 'HTTP://127.0.0.1:8080/fhir/hub' }).HUB_STORE).toBe(
      'http://127.0.0.1:8080/fhir/hub',
    );
  });

  // Each would otherwise be opened as an empty local store in a directory named after it.
  it.each(['https:/hapi/fhir', 'htps://hapi.example/fhir'])('refuses HUB_STORE=%s', (value) => {
    expect(problemsOf({ HUB_STORE: value })).toEqual([
      `HUB_STORE: expected a file path, or a well-formed http(s):// FHIR base (got '${value}')`,
    ]);
  });

  // A timeout of 0 fails every forward at once; one of over 2^31-1 ms fires after 1 ms.
  it.each(['0', '30d'])('refuses FORWARD_TIMEOUT=%s', (value) => {
    expect(problemsOf({ FORWARD_TIMEOUT: value })).toEqual([`FORWARD_TIMEOUT: between 100ms and 10m (got '${value}')`]);
  });
});
