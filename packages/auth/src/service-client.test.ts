import { OutcomeError } from '@imaging/fhir';
import { describe, expect, it } from 'vitest';
import { serviceClient } from './service-client.ts';
import type { TokenSource } from './token-source.ts';

function tokens(): TokenSource & { issued: number; invalidated: number } {
  const source = {
    issued: 0,
    invalidated: 0,
    async getToken() {
      source.issued++;
      return `token-${source.issued}`;
    },
    invalidate() {
      source.invalidated++;
    },
  };
  return source;
}

/** A fake server that answers each call with the next status, and records the bearer tokens seen. */
function answering(...statuses: number[]) {
  const seen: string[] = [];
  const fake: typeof fetch = async (_url, init) => {
    seen.push(new Headers(init?.headers).get('Authorization') ?? '');
    const status = statuses.shift() ?? 200;
    const body = status < 300 ? { resourceType: 'Bundle', type: 'searchset' } : outcome(status);
    return new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/fhir+json' } });
  };
  return { fake, seen };
}

const outcome = (status: number) => ({
  resourceType: 'OperationOutcome',
  issue: [{ severity: 'error', code: status === 401 ? 'login' : 'forbidden', diagnostics: `status ${status}` }],
});

describe('serviceClient', () => {
  it('sends the bearer token and returns the body', async () => {
    const source = tokens();
    const { fake, seen } = answering(200);
    const result = await serviceClient({ tokens: source, fetch: fake }).call<{ type: string }>('http://x/fhir/Task');
    expect(result.body.type).toBe('searchset');
    expect(seen).toEqual(['Bearer token-1']);
  });

  it('retries once with a fresh token after a 401', async () => {
    const source = tokens();
    const { fake, seen } = answering(401, 200);
    const result = await serviceClient({ tokens: source, fetch: fake }).call('http://x/fhir/Task');
    expect(result.status).toBe(200);
    expect(seen).toEqual(['Bearer token-1', 'Bearer token-2']);
    expect(source.invalidated).toBe(1);
  });

  it('gives up after a second 401, and never retries another refusal', async () => {
    const twice = answering(401, 401, 200);
    const call = serviceClient({ tokens: tokens(), fetch: twice.fake }).call('http://x/fhir/Task');
    await expect(call).rejects.toMatchObject({ status: 401 });
    expect(twice.seen).toHaveLength(2);

    const refused = answering(403, 200);
    const error = await serviceClient({ tokens: tokens(), fetch: refused.fake })
      .call('http://x/fhir/Task')
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OutcomeError);
    expect((error as OutcomeError).status).toBe(403);
    expect(refused.seen).toHaveLength(1);
  });
});
