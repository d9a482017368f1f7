import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ConfigError, env, loadEnv, parseDuration } from './index.ts';

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
