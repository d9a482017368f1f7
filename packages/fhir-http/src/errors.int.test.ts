import { request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createFhirApp } from './app.ts';
import { readResource } from './body.ts';
import { memoryLogger } from '@imaging/fhir';
import { fhirResponse } from './responses.ts';

// A real socket: a client hanging up mid-body is something only the network does.
const logger = memoryLogger();
const app = createFhirApp({ logger });
app.post('/fhir/Patient', async (c) => fhirResponse(await readResource(c, 'Patient'), 201));
app.post('/fhir/Bug', async (c) => {
  await new Promise((done) => c.req.raw.signal.addEventListener('abort', done));
  throw new TypeError('a bug after the client left');
});
const server = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' });

beforeAll(async () => {
  if (!server.listening) await new Promise((done) => server.once('listening', done));
});
afterAll(() => new Promise<void>((done) => server.close(() => done())));

/** Sends headers and half a body, then destroys the socket once the server has the request in hand. */
async function hangUpMidBody(headers: Record<string, string>, path = '/fhir/Patient'): Promise<void> {
  const { port } = server.address() as AddressInfo;
  const received = new Promise((done) => server.once('request', done));
  const req = request({ host: '127.0.0.1', port, method: 'POST', path, headers });
  const gone = new Promise((done) => req.once('close', done));
  req.on('error', () => {}); // the client's own "socket hang up" is the point of the test
  req.write('{"resourceType":"Patient","name":[{"family":"Half');
  await received;
  req.destroy();
  await gone;
}

describe('a client that closes the connection mid-body', () => {
  it.each([
    ['with a Content-Length', { 'Content-Type': 'application/fhir+json', 'Content-Length': '4096' }],
    ['chunked', { 'Content-Type': 'application/fhir+json' }],
  ])('is logged as a closed connection, not as a failure (%s)', async (_name, headers) => {
    logger.entries.length = 0;
    await hangUpMidBody(headers);
    await vi.waitFor(() => expect(logger.entries.map((e) => e.message)).toContain('request'));
    expect(logger.entries.filter((e) => e.level === 'error')).toEqual([]);
    const closed = logger.entries.find((e) => e.message === 'client closed the connection');
    expect(closed).toMatchObject({ level: 'info', method: 'POST', path: '/fhir/Patient' });
    expect(JSON.stringify(closed)).not.toContain(' at ');
  });

  it('does not hide a bug that fails the request after the client left', async () => {
    logger.entries.length = 0;
    await hangUpMidBody({ 'Content-Type': 'application/fhir+json', 'Content-Length': '4096' }, '/fhir/Bug');
    await vi.waitFor(() => expect(logger.entries.map((e) => e.message)).toContain('request'));
    expect(logger.entries.find((e) => e.level === 'error')?.error).toContain('a bug after the client left');
    expect(logger.entries.map((e) => e.message)).not.toContain('client closed the connection');
  });
});
