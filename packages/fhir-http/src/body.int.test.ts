import { request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import { memoryLogger } from '@imaging/fhir';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createFhirApp } from './app.ts';
import { readResource } from './body.ts';
import { fhirResponse } from './responses.ts';

// A real socket: under @hono/node-server the limit is decided from the headers, or by counting a chunked body.
const app = createFhirApp({ logger: memoryLogger(), bodyLimitBytes: 200 });
app.post('/fhir/Patient', async (c) => fhirResponse(await readResource(c, 'Patient'), 201));
app.get('/fhir/Patient', () => fhirResponse({ resourceType: 'Bundle', type: 'searchset' }, 200));
const server = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' });

beforeAll(async () => {
  if (!server.listening) await new Promise((done) => server.once('listening', done));
});
afterAll(() => new Promise<void>((done) => server.close(() => done())));

/** One request; `chunked` sends the body in two writes with no Content-Length. */
function send(method: string, body: string | undefined, chunked = false): Promise<{ status: number; body: unknown }> {
  const { port } = server.address() as AddressInfo;
  const headers: Record<string, string> = { 'Content-Type': 'application/fhir+json' };
  if (body !== undefined && !chunked) headers['Content-Length'] = String(Buffer.byteLength(body));
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, method, path: '/fhir/Patient', headers }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk) => (text += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) }));
    });
    req.on('error', reject);
    if (body !== undefined && chunked) {
      const half = Math.floor(body.length / 2);
      req.write(body.slice(0, half));
      req.end(body.slice(half));
    } else req.end(body);
  });
}

const small = JSON.stringify({ resourceType: 'Patient', gender: 'female' });
const large = JSON.stringify({ resourceType: 'Patient', text: 'x'.repeat(500) });

describe('the body limit on a real server', () => {
  it.each([
    ['with a Content-Length', false],
    ['chunked', true],
  ])('lets a body within the limit be read (%s)', async (_name, chunked) => {
    const res = await send('POST', small, chunked);
    expect(res).toEqual({ status: 201, body: { resourceType: 'Patient', gender: 'female' } });
  });

  it.each([
    ['with a Content-Length', false],
    ['chunked', true],
  ])('answers a body over the limit with 413 (%s)', async (_name, chunked) => {
    const res = await send('POST', large, chunked);
    expect(res.status).toBe(413);
    expect((res.body as { issue: { code: string }[] }).issue[0]?.code).toBe('too-long');
  });

  it('lets a GET through', async () => {
    expect(await send('GET', undefined)).toEqual({ status: 200, body: { resourceType: 'Bundle', type: 'searchset' } });
  });
});
