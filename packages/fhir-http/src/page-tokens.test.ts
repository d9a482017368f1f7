import { createHmac } from 'node:crypto';
import { OutcomeError } from '@imaging/fhir';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DEFAULT_PAGE_TOKEN_TTL_MS, pageTokens } from './page-tokens.ts';

/** A clock the test moves by hand. */
function manualClock(start = Date.parse('2026-03-05T12:00:00Z')) {
  let now = start;
  return { clock: () => new Date(now), advance: (ms: number) => (now += ms) };
}

/** The 400 a decode must fail with, the same for every reason, so a token says nothing about why. */
function expectRefused(decode: () => string): void {
  let error: unknown;
  try {
    decode();
  } catch (err) {
    error = err;
  }
  expect(error).toBeInstanceOf(OutcomeError);
  expect((error as OutcomeError).status).toBe(400);
  expect((error as OutcomeError).outcome.issue).toEqual([
    expect.objectContaining({ details: { text: 'Invalid or expired page token' }, expression: ['_page'] }),
  ]);
}

const BASE64URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
const continuation = 'Task?_security=https://fhir.example/org|RM1&owner=x&_offset=20';

describe('pageTokens', () => {
  const tokens = pageTokens('test-secret');

  it('round-trips any continuation for the same caller', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme' }), fc.string({ minLength: 1 }), (text, caller) => {
        expect(tokens.decode(tokens.encode(text, caller), caller)).toBe(text);
      }),
    );
  });

  it('is opaque: neither the continuation nor its encoding shows, and no two tokens are alike', () => {
    const a = tokens.encode(continuation, 'gp-a');
    const b = tokens.encode(continuation, 'gp-a');
    expect(a).not.toBe(b);
    for (const token of [a, b]) {
      expect(Buffer.from(token, 'base64url').toString('latin1')).not.toContain('_security');
      expect(token).not.toContain(Buffer.from(continuation).toString('base64url').slice(0, 12));
    }
  });

  it('refuses any token with any one character changed, dropped or added', () => {
    /** A token (of any length: the last character's spare bits vary with it) and one change to it. */
    const changed = fc.string().chain((text) => {
      const token = tokens.encode(text, 'gp-a');
      return fc.oneof(
        fc
          .tuple(fc.nat({ max: token.length - 1 }), fc.constantFrom(...BASE64URL, '=', '.', '%', ' '))
          .filter(([at, ch]) => token[at] !== ch)
          .map(([at, ch]) => token.slice(0, at) + ch + token.slice(at + 1)),
        fc.nat({ max: token.length - 1 }).map((at) => token.slice(0, at) + token.slice(at + 1)),
        fc
          .tuple(fc.nat({ max: token.length }), fc.constantFrom(...BASE64URL, '='))
          .map(([at, ch]) => token.slice(0, at) + ch + token.slice(at)),
        // The last character alone, where a lenient decoder ignores the spare bits.
        fc
          .constantFrom(...BASE64URL)
          .filter((ch) => ch !== token.at(-1))
          .map((ch) => token.slice(0, -1) + ch),
      );
    });
    fc.assert(
      fc.property(changed, (token) => expectRefused(() => tokens.decode(token, 'gp-a'))),
      { numRuns: 1000 },
    );
  });

  it('refuses any text that is not a token it made', () => {
    fc.assert(fc.property(fc.string(), (text) => expectRefused(() => tokens.decode(text, 'gp-a'))));
  });

  it.each([
    ['another caller', () => tokens.encode(continuation, 'gp-a'), 'gp-b'],
    ['a token made with another secret', () => pageTokens('other').encode(continuation, 'gp-a'), 'gp-a'],
    [
      'a token in the old signed-only format',
      () => {
        const payload = Buffer.from(JSON.stringify({ c: continuation, u: 'gp-a' })).toString('base64url');
        return `${payload}.${createHmac('sha256', 'test-secret').update(payload).digest('base64url')}`;
      },
      'gp-a',
    ],
  ])('refuses %s with 400', (_name, make, caller) => {
    expectRefused(() => tokens.decode(make(), caller));
  });

  it(`expires after ${DEFAULT_PAGE_TOKEN_TTL_MS / 60_000} minutes by default, or after the lifetime given`, () => {
    const time = manualClock();
    const byDefault = pageTokens('test-secret', { clock: time.clock });
    const short = pageTokens('test-secret', { clock: time.clock, ttlMs: 60_000 });
    const lasting = byDefault.encode(continuation, 'gp-a');
    const brief = short.encode(continuation, 'gp-a');

    time.advance(60_000 - 1);
    expect(short.decode(brief, 'gp-a')).toBe(continuation);
    time.advance(1);
    expectRefused(() => short.decode(brief, 'gp-a'));

    time.advance(DEFAULT_PAGE_TOKEN_TTL_MS - 60_000 - 1);
    expect(byDefault.decode(lasting, 'gp-a')).toBe(continuation);
    time.advance(1);
    expectRefused(() => byDefault.decode(lasting, 'gp-a'));
  });
});
