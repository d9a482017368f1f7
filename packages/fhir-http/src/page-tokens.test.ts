import { OutcomeError } from '@imaging/fhir';
import { describe, expect, it } from 'vitest';
import { pageTokens } from './page-tokens.ts';

describe('pageTokens', () => {
  const tokens = pageTokens('test-secret');

  it('round-trips a continuation for the same caller', () => {
    const token = tokens.encode('Task?owner=x&_offset=20', 'gp-a');
    expect(tokens.decode(token, 'gp-a')).toBe('Task?owner=x&_offset=20');
  });

  it.each([
    ['another caller', (t: string) => t, 'gp-b'],
    [
      'a tampered payload',
      (t: string) => `${Buffer.from('{"c":"Task?owner=y","u":"gp-a"}').toString('base64url')}.${t.split('.')[1]}`,
      'gp-a',
    ],
    ['a truncated token', (t: string) => t.split('.')[0] as string, 'gp-a'],
    ['a token signed with another secret', () => pageTokens('other').encode('Task?owner=x', 'gp-a'), 'gp-a'],
  ])('rejects %s with 400', (_name, mutate, caller) => {
    const token = mutate(tokens.encode('Task?owner=x', 'gp-a'));
    let error: unknown;
    try {
      tokens.decode(token, caller);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(OutcomeError);
    expect((error as OutcomeError).status).toBe(400);
  });
});
