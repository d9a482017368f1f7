import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { type CountingProxy, startCountingProxy } from './hapi-proxy.ts';

/**
 * A stand-in for HAPI that builds its links as HAPI does with `IncomingRequestAddressStrategy`: from the
 * request's Host header. It answers every search with a next link.
 */
async function linkingServer() {
  const server = createServer((req, res) => {
    const next = `http://${req.headers.host}/fhir/north/Task?_getpages=abc&_getpagesoffset=200`;
    res.writeHead(200, { 'Content-Type': 'application/fhir+json' });
    res.end(JSON.stringify({ resourceType: 'Bundle', type: 'searchset', link: [{ relation: 'next', url: next }] }));
  });
  await new Promise<void>((ready) => server.listen(0, '127.0.0.1', ready));
  const { port } = server.address() as AddressInfo;
  return { root: `http://127.0.0.1:${port}/fhir`, close: () => new Promise((done) => server.close(done)) };
}

describe('the counting proxy in front of HAPI', () => {
  let proxy: CountingProxy | undefined;
  let upstream: Awaited<ReturnType<typeof linkingServer>> | undefined;
  afterEach(async () => {
    await proxy?.close();
    await upstream?.close();
  });

  it('passes the client’s Host on, so the server’s next links lead back through the proxy', async () => {
    upstream = await linkingServer();
    proxy = await startCountingProxy(upstream.root);
    const page = (await (await fetch(`${proxy.url}/north/Task?business-status=open`)).json()) as {
      link: { relation: string; url: string }[];
    };
    const next = page.link.find((l) => l.relation === 'next')?.url ?? '';
    expect(next.startsWith(`${proxy.url}/north/Task?`)).toBe(true);
    // And following it is counted like any other search.
    await (await fetch(next)).json();
    expect(proxy.counts().north?.search).toBe(2);
  });
});
