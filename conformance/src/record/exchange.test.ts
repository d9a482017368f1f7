import { afterEach, describe, expect, it } from 'vitest';
import type { Exchange } from './exchange.ts';
import { MAX_BODY_CHARS, MAX_EXCHANGES, recordingFetch, setExchangeSink } from './exchange.ts';

const JWT = 'eyJhbGciOiJFUzM4NCJ9.eyJzdWIiOiJnYXRld2F5LW5vcnRoIn0.c2lnbmF0dXJlc2lnbmF0dXJl';

function fakeFetch(status: number, body: string): typeof fetch {
  return (async () =>
    new Response(body, {
      status,
      headers: { 'Content-Type': 'application/fhir+json', ETag: 'W/"2"' },
    })) as typeof fetch;
}

describe('recordingFetch', () => {
  let sink: Exchange[];
  const capture = () => {
    sink = [];
    setExchangeSink(sink);
  };
  afterEach(() => setExchangeSink(undefined));

  it('records the request and the response, and still hands the caller an unread body', async () => {
    capture();
    const f = recordingFetch('suite → server', fakeFetch(201, '{"resourceType":"Task","id":"9"}'));
    const res = await f('http://h/fhir/Task', {
      method: 'POST',
      headers: { 'Content-Type': 'application/fhir+json' },
      body: '{"resourceType":"Task"}',
    });
    expect(await res.json()).toEqual({ resourceType: 'Task', id: '9' });
    expect(sink).toHaveLength(1);
    expect(sink[0]).toMatchObject({
      label: 'suite → server',
      request: {
        method: 'POST',
        url: 'http://h/fhir/Task',
        body: '{"resourceType":"Task"}',
        headers: { 'content-type': 'application/fhir+json' },
      },
      response: { status: 201, body: '{"resourceType":"Task","id":"9"}', headers: { etag: 'W/"2"' } },
    });
  });

  it('never keeps a credential: Authorization is redacted, JWTs and client assertions in bodies too', async () => {
    capture();
    const f = recordingFetch('client → hub', fakeFetch(200, `{"access_token":"${JWT}","token_type":"bearer"}`));
    await f('http://h/oauth2/token', {
      method: 'POST',
      headers: { Authorization: `Bearer ${JWT}` },
      body: new URLSearchParams({ grant_type: 'client_credentials', client_assertion: JWT }),
    });
    const text = JSON.stringify(sink);
    expect(text).not.toContain(JWT);
    expect(sink[0]?.request.headers.authorization).toBe('Bearer <redacted>');
    expect(sink[0]?.request.body).toContain('client_assertion=<redacted>');
    expect(sink[0]?.response?.body).toContain('<redacted JWT>');
  });

  it('cuts long bodies, and says so', async () => {
    capture();
    await recordingFetch('x', fakeFetch(200, 'y'.repeat(MAX_BODY_CHARS + 10)))('http://h/');
    expect(sink[0]?.response?.body).toHaveLength(MAX_BODY_CHARS);
    expect(sink[0]?.response?.truncated).toBe(true);
  });

  it('records a request that got no answer, and rethrows', async () => {
    capture();
    const refused = (async () => {
      throw new TypeError('fetch failed');
    }) as typeof fetch;
    await expect(recordingFetch('x', refused)('http://h/')).rejects.toThrow('fetch failed');
    expect(sink[0]).toMatchObject({ error: 'TypeError: fetch failed' });
    expect(sink[0]?.response).toBeUndefined();
  });

  it('stops recording (with a marker) after MAX_EXCHANGES, so a polling loop cannot flood a report', async () => {
    capture();
    const f = recordingFetch('poll', fakeFetch(200, '{}'));
    for (let i = 0; i < MAX_EXCHANGES + 5; i++) await f('http://h/');
    expect(sink).toHaveLength(MAX_EXCHANGES + 1);
    expect(sink.at(-1)?.label).toContain('further exchanges not recorded');
  });

  it('records nothing when no test is collecting', async () => {
    capture();
    const earlier = sink;
    setExchangeSink(undefined);
    const res = await recordingFetch('x', fakeFetch(200, '{}'))('http://h/');
    expect(res.status).toBe(200);
    expect(earlier).toEqual([]);
  });
});
