import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectFeed } from './service-feed.ts';

// A real server: healthy, but its event feed answers with a redirect to where a stream would be.
const asked: { url: string; authorization?: string }[] = [];
const server = createServer((req, res) => {
  asked.push({
    url: req.url ?? '',
    ...(req.headers.authorization ? { authorization: req.headers.authorization } : {}),
  });
  if (req.url === '/health') res.writeHead(200).end('{}');
  else if (req.url === '/events') res.writeHead(302, { Location: '/elsewhere' }).end();
  else res.writeHead(200, { 'Content-Type': 'text/event-stream' }).end('data: {}\n\n');
});
let base = '';
beforeAll(async () => {
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => {
  server.closeAllConnections();
  server.close();
});

describe('connectFeed', () => {
  it('does not follow a redirect with its token: the service is down, and where it pointed is never asked', async () => {
    const statuses: [boolean, string | undefined][] = [];
    const down = new Promise<void>((resolve) => {
      const feed = connectFeed(
        { baseUrl: base, tokens: { getToken: async () => 'flow-token', invalidate: () => undefined }, retryMs: 10_000 },
        {
          onEvent: () => undefined,
          onStatus: (up, reason) => {
            statuses.push([up, reason]);
            feed.close();
            resolve();
          },
        },
      );
    });
    await down;
    expect(statuses).toEqual([[false, 'its event feed answered 302']]);
    expect(asked).toEqual([{ url: '/health' }, { url: '/events', authorization: 'Bearer flow-token' }]);
  });
});
