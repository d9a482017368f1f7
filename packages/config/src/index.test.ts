import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ConfigError, type EnvSource, env, loadEnv, parseDuration } from './index.ts';

const schema = z.object({
  PORT: env.port(4000),
  HUB_URL: env.url(),
  RETRY_MAX: env.duration('60s'),
  REGIONS: env.list().default([]),
  VERBOSE: env.bool(false),
});

describe('loadEnv', () => {
  it('parses and applies defaults', () => {
    const cfg = loadEnv(schema, { HUB_URL: 'http://127.0.0.1:4000/', REGIONS: 'north, south,,' });
    expect(cfg).toEqual({
      PORT: 4000,
      HUB_URL: 'http://127.0.0.1:4000',
      RETRY_MAX: 60_000,
      REGIONS: ['north', 'south'],
      VERBOSE: false,
    });
  });

  it('treats empty strings as unset', () => {
    expect(loadEnv(schema, { HUB_URL: 'http://h', PORT: '' }).PORT).toBe(4000);
  });

  it('lists every bad variable at once, with what it got', () => {
    let error: unknown;
    try {
      loadEnv(schema, { PORT: '99999', HUB_URL: 'ftp://x', RETRY_MAX: 'soon', VERBOSE: 'maybe' });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const problems = (error as ConfigError).problems;
    expect(problems.map((p) => p.split(':')[0])).toEqual(['PORT', 'HUB_URL', 'RETRY_MAX', 'VERBOSE']);
    expect(problems[0]).toContain("(got '99999')");
    expect((error as ConfigError).message).toContain('RETRY_MAX');
  });

  it('reports a missing required variable', () => {
    expect(() => loadEnv(schema, {})).toThrow(/HUB_URL/);
  });
});

describe('parseDuration', () => {
  it.each([
    ['250', 250],
    ['250ms', 250],
    ['90s', 90_000],
    ['5m', 300_000],
    ['24h', 86_400_000],
    ['7d', 604_800_000],
    ['1.5s', 1500],
  ])('%s is %d ms', (text, ms) => expect(parseDuration(text)).toBe(ms));

  it.each(['', 'soon', '5 minutes', '-1s', '1w'])('rejects %j', (text) => expect(parseDuration(text)).toBeUndefined());
});

describe('env.duration with bounds', () => {
  const bounded = z.object({
    EVERY: env.duration('1s', { min: '10ms', max: '24h' }),
    TTL: env.duration('5s', { max: '60s' }),
  });
  const problemsOf = (source: EnvSource) => {
    try {
      loadEnv(bounded, source);
    } catch (err) {
      return (err as ConfigError).problems;
    }
    return [];
  };

  it('takes a duration within them, the bounds included', () => {
    expect(loadEnv(bounded, { EVERY: '10ms', TTL: '0s' })).toEqual({ EVERY: 10, TTL: 0 });
    expect(loadEnv(bounded, { EVERY: '24h', TTL: '60s' })).toEqual({ EVERY: 86_400_000, TTL: 60_000 });
  });

  // A timer of 0, or of more than 2^31-1 ms, fires after 1 ms: a job would run without pause.
  it.each([
    ['0', "EVERY: between 10ms and 24h (got '0')"],
    ['5ms', "EVERY: between 10ms and 24h (got '5ms')"],
    ['25d', "EVERY: between 10ms and 24h (got '25d')"],
  ])('refuses %j outside them, naming the variable and the range', (value, problem) => {
    expect(problemsOf({ EVERY: value })).toEqual([problem]);
  });

  it('says "at most" for a maximum alone', () => {
    expect(problemsOf({ TTL: '2m' })).toEqual(["TTL: at most 60s (got '2m')"]);
  });
});

describe('env.store', () => {
  const schema = z.object({ STORE: env.store().optional() });
  const store = (value: string) => loadEnv(schema, { STORE: value }).STORE;

  it.each([
    ['a relative path', 'data/north/fhir.sqlite'],
    ['an absolute path', '/var/lib/imaging/fhir.sqlite'],
    ['a Windows drive', 'C:/imaging/fhir.sqlite'],
    ['a path with a colon later on', 'data/run:1/fhir.sqlite'],
    ['a Windows drive with backslashes', 'C:\\imaging\\fhir.sqlite'],
    ['a relative Windows path with a colon later on', 'data\\run:1\\fhir.sqlite'],
    ['a path starting with a dot', './data:1/fhir.sqlite'],
    ['an http base', 'http://127.0.0.1:8080/fhir/north'],
    ['an https base', 'https://hapi.example/fhir/north'],
  ])('takes %s as it is', (_, value) => {
    expect(store(value)).toBe(value);
  });

  it('lower-cases an upper-case scheme, as the store reads it', () => {
    expect(store('HTTPS://hapi.example/fhir')).toBe('https://hapi.example/fhir');
  });

  // Each would otherwise be opened as a local SQLite directory named after it, silently empty.
  it.each([
    ['a single slash', 'https:/hapi/fhir'],
    ['a misspelt scheme', 'htps://hapi.example/fhir'],
    ['another scheme', 'file:///var/lib/imaging/fhir.sqlite'],
    ['no host', 'http:///fhir'],
    ['an ill-formed host', 'http://hapi example/fhir'],
    // A scheme without the // (or a host:port taken for one) is a URL all the same, not a path.
    ['a host and port but no scheme', 'hapi:8080/fhir'],
    ['no // after the scheme', 'https:hapi.example/fhir'],
    ['no // after an upper-case scheme', 'HTTP:hapi.example/fhir'],
  ])('refuses a URL with %s, naming the variable', (_, value) => {
    expect(() => store(value)).toThrow(
      new ConfigError([`STORE: expected a file path, or a well-formed http(s):// FHIR base (got '${value}')`]),
    );
  });
});

describe('a variable given as a file (X_FILE)', () => {
  const secretSchema = z.object({ PAGE_TOKEN_SECRET: env.secret(16), PORT: env.port(4000) });
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'config-file-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const file = (name: string, text: string, mode = 0o600) => {
    const path = join(dir, name);
    writeFileSync(path, text, { mode });
    return path;
  };

  it('reads the file once, without its trailing newline, for any variable of the schema', () => {
    const cfg = loadEnv(secretSchema, {
      PAGE_TOKEN_SECRET_FILE: file('secret', 'a-secret-of-24-characters\n'),
      PORT_FILE: file('port', '4101\r\n'),
    });
    expect(cfg).toEqual({ PAGE_TOKEN_SECRET: 'a-secret-of-24-characters', PORT: 4101 });
  });

  it('refuses both the variable and its file', () => {
    expect(() =>
      loadEnv(secretSchema, {
        PAGE_TOKEN_SECRET: 'x'.repeat(20),
        PAGE_TOKEN_SECRET_FILE: file('both', 'y'.repeat(20)),
      }),
    ).toThrow(/PAGE_TOKEN_SECRET: set PAGE_TOKEN_SECRET or PAGE_TOKEN_SECRET_FILE, not both/);
  });

  it('names a file it cannot read, and an empty one', () => {
    let error: unknown;
    try {
      loadEnv(secretSchema, { PAGE_TOKEN_SECRET_FILE: join(dir, 'missing'), PORT_FILE: file('empty', '\n') });
    } catch (err) {
      error = err;
    }
    expect((error as ConfigError).problems).toEqual([
      `PAGE_TOKEN_SECRET_FILE: cannot read ${join(dir, 'missing')} (ENOENT)`,
      `PORT_FILE: ${join(dir, 'empty')} is empty`,
    ]);
  });

  it('never quotes a secret, nor a value read from a file, in an error', () => {
    const problemsOf = (source: EnvSource) => {
      try {
        loadEnv(secretSchema, source);
      } catch (err) {
        return (err as ConfigError).message;
      }
      throw new Error('expected a ConfigError');
    };
    const direct = problemsOf({ PAGE_TOKEN_SECRET: 'short-secret' });
    expect(direct).toMatch(/PAGE_TOKEN_SECRET: /);
    expect(direct).not.toContain('short-secret');
    const fromFile = problemsOf({ PORT_FILE: file('bad-port', 'not-a-port-value\n') });
    expect(fromFile).toMatch(/PORT: /);
    expect(fromFile).not.toContain('not-a-port-value');
    // an ordinary variable given directly is still quoted, which is what an operator needs
    expect(problemsOf({ PORT: '99999' })).toContain("(got '99999')");
  });
});
