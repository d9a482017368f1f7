import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { nodeFetch } from './node-fetch.ts';

// Real servers: what this module is about is the network. Two, so that a redirect can change origin.
interface Seen {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: string;
}
let seen: Seen[] = [];

function serve(handle: (req: IncomingMessage, res: ServerResponse, body: string) => void): Server {
  return createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (chunk) => (body += chunk));
    req.on('end', () => {
      seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body });
      handle(req, res, body);
    });
  });
}

const other = serve((_req, res) => res.writeHead(200, { 'Content-Type': 'text/plain' }).end('elsewhere'));
const main = serve((req, res, body) => {
  if (req.url === '/echo') res.writeHead(201, { ETag: 'W/"2"', 'Content-Type': 'application/fhir+json' }).end(body);
  else if (req.url === '/empty') res.writeHead(204).end();
  else if (req.url === '/gzip') res.writeHead(200, { 'Content-Encoding': 'gzip' }).end(gzipSync('{"zipped":true}'));
  else if (req.url === '/broken') {
    res.writeHead(200, { 'Content-Length': '1000' });
    res.write('{"part');
    setTimeout(() => res.socket?.destroy(), 20);
  } else if (req.url === '/stalls') {
    res.writeHead(200, { 'Content-Length': '1000' });
    res.write('{"part');
  } else if (req.url === '/slow') setTimeout(() => res.writeHead(200).end('{}'), 2000);
  else if (req.url === '/see-other') res.writeHead(303, { Location: '/echo' }).end();
  else if (req.url === '/moved') res.writeHead(307, { Location: `${otherBase}/there` }).end();
  else res.writeHead(404).end();
});

let base = '';
let otherBase = '';
const listen = async (server: Server) => {
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
};
beforeAll(async () => {
  base = await listen(main);
  otherBase = await listen(other);
});
afterAll(() => {
  for (const server of [main, other]) {
    server.closeAllConnections();
    server.close();
  }
});

describe('nodeFetch', () => {
  it('sends the method, headers and body, and answers with the status, headers and body', async () => {
    seen = [];
    const res = await nodeFetch(`${base}/echo`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/fhir+json', Authorization: 'Bearer t' },
      body: '{"resourceType":"Patient","name":[{"family":"Ó"}]}',
    });
    expect(res.status).toBe(201);
    expect(res.ok).toBe(true);
    expect(res.headers.get('etag')).toBe('W/"2"');
    expect(await res.json()).toEqual({ resourceType: 'Patient', name: [{ family: 'Ó' }] });
    expect(seen[0]).toMatchObject({ method: 'POST', url: '/echo' });
    expect(seen[0]?.headers).toMatchObject({
      'content-type': 'application/fhir+json',
      'content-length': String(Buffer.byteLength('{"resourceType":"Patient","name":[{"family":"Ó"}]}')),
      authorization: 'Bearer t',
    });
  });

  it('answers a 204 without a body', async () => {
    const res = await nodeFetch(`${base}/empty`, { method: 'DELETE' });
    expect(res.status).toBe(204);
    expect(await res.text()).toBe('');
  });

  it('decodes a compressed answer', async () => {
    expect(await (await nodeFetch(`${base}/gzip`)).json()).toEqual({ zipped: true });
  });

  it('rejects a refused connection as fetch does, with the network error as the cause', async () => {
    const closed = createServer();
    const port = (await listen(closed)).split(':').pop();
    await new Promise<void>((done) => closed.close(() => done()));
    const err = await nodeFetch(`http://127.0.0.1:${port}/x`).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TypeError);
    expect((err as TypeError).message).toBe('fetch failed');
    expect(((err as TypeError).cause as { code?: string }).code).toBe('ECONNREFUSED');
  });

  it('rejects with the signal’s reason when no answer comes in time', async () => {
    const err = await nodeFetch(`${base}/slow`, { signal: AbortSignal.timeout(50) }).catch((e: unknown) => e);
    expect((err as Error).name).toBe('TimeoutError');
  });

  it('resolves at the headers, and fails the body when it breaks off or the signal aborts', async () => {
    const broken = await nodeFetch(`${base}/broken`);
    expect(broken.status).toBe(200);
    await expect(broken.text()).rejects.toThrow('terminated');
    const stalled = await nodeFetch(`${base}/stalls`, { signal: AbortSignal.timeout(100) });
    expect(stalled.status).toBe(200);
    await expect(stalled.text()).rejects.toMatchObject({ name: 'TimeoutError' });
  });

  it('follows a redirect as fetch does: a 303 after a POST becomes a GET without the body', async () => {
    seen = [];
    const res = await nodeFetch(`${base}/see-other`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/fhir+json' },
      body: '{"a":1}',
    });
    expect(res.status).toBe(201);
    expect(seen.map((s) => [s.method, s.url, s.body])).toEqual([
      ['POST', '/see-other', '{"a":1}'],
      ['GET', '/echo', ''],
    ]);
    expect(seen[1]?.headers['content-type']).toBeUndefined();
  });

  it("answers with the redirect itself when asked for 'manual', as fetch does, and rejects on one for 'error'", async () => {
    seen = [];
    const init = { method: 'PUT', headers: { Authorization: 'Bearer t' }, body: 'x', redirect: 'manual' } as const;
    const handedOn = vi.spyOn(globalThis, 'fetch');
    const mine = await nodeFetch(`${base}/moved`, init);
    expect(handedOn).not.toHaveBeenCalled(); // answered over node:http, not handed to the global fetch
    handedOn.mockRestore();
    const theirs = await fetch(`${base}/moved`, init);
    expect([mine.status, mine.headers.get('location')]).toEqual([theirs.status, theirs.headers.get('location')]);
    expect(mine.status).toBe(307);
    await mine.text();
    await theirs.text();
    expect(seen.map((s) => s.url)).toEqual(['/moved', '/moved']);
    const err = await nodeFetch(`${base}/moved`, { ...init, redirect: 'error' }).catch((e: unknown) => e);
    expect((err as TypeError).message).toBe('fetch failed');
    expect(seen.map((s) => s.url)).toEqual(['/moved', '/moved', '/moved']);
  });

  it('does not carry the Authorization header to another origin', async () => {
    seen = [];
    const res = await nodeFetch(`${base}/moved`, { method: 'PUT', headers: { Authorization: 'Bearer t' }, body: 'x' });
    expect(await res.text()).toBe('elsewhere');
    expect(seen.map((s) => [s.method, s.url, s.body])).toEqual([
      ['PUT', '/moved', 'x'],
      ['PUT', '/there', 'x'],
    ]);
    expect(seen[1]?.headers.authorization).toBeUndefined();
  });
});
