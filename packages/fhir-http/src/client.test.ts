import { outcomeErrorOf } from '@imaging/fhir/testing';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fhirFetch } from './client.ts';

// A real HTTP server: what this module is about is the network.
let base = '';
const asked: string[] = [];
const server = createServer((req, res) => {
  asked.push(req.url ?? '');
  if (req.url === '/elsewhere') {
    res.writeHead(302, { Location: `${base}/ok` }).end();
  } else if (req.url === '/ok') {
    res.writeHead(200, { 'Content-Type': 'application/fhir+json' }).end('{"resourceType":"Patient","id":"1"}');
  } else if (req.url === '/rejected') {
    res
      .writeHead(422, { 'Content-Type': 'application/fhir+json' })
      .end(
        '{"resourceType":"OperationOutcome","issue":[{"severity":"error","code":"business-rule","details":{"text":"no"}}]}',
      );
  } else if (req.url === '/html-error') {
    res.writeHead(502, { 'Content-Type': 'text/html' }).end('<h1>Bad gateway</h1>');
  } else if (req.url === '/deep') {
    res.writeHead(200, { 'Content-Type': 'application/fhir+json' }).end(`${'['.repeat(10_000)}${']'.repeat(10_000)}`);
  } else if (req.url === '/slow') {
    setTimeout(() => res.writeHead(200).end('{}'), 2000);
  }
});

beforeAll(async () => {
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => {
  server.closeAllConnections();
  server.close();
});

describe('fhirFetch', () => {
  it('returns the body of a 2xx answer', async () => {
    const res = await fhirFetch(`${base}/ok`);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ resourceType: 'Patient', id: '1' });
  });

  it('carries the remote OperationOutcome and status of a rejection', async () => {
    const err = await outcomeErrorOf(fhirFetch(`${base}/rejected`, { body: { resourceType: 'Patient' } }));
    expect(err.status).toBe(422);
    expect(err.outcome.issue[0]?.details?.text).toBe('no');
  });

  it('makes an outcome when the error body is not FHIR', async () => {
    const err = await outcomeErrorOf(fhirFetch(`${base}/html-error`));
    expect(err.status).toBe(502);
    expect(err.outcome.issue[0]?.details?.text).toContain('without an OperationOutcome');
  });

  it('does not follow a redirect, with its token or without: 502, and nothing asked where it points', async () => {
    asked.length = 0;
    const err = await outcomeErrorOf(fhirFetch(`${base}/elsewhere`, { headers: { Authorization: 'Bearer t' } }));
    expect(err.status).toBe(502);
    expect(err.message).toBe(`GET ${base}/elsewhere answered with a redirect (302), which is not followed`);
    expect(asked).toEqual(['/elsewhere']);
  });

  it('refuses an answer nested too deep for anything recursive to walk, as 502', async () => {
    const err = await outcomeErrorOf(fhirFetch(`${base}/deep`));
    expect(err.status).toBe(502);
    expect(err.message).toContain('nested deeper than 64 levels');
  });

  it('reports a refused connection as 503 unavailable', async () => {
    const closed = createServer();
    await new Promise<void>((done) => closed.listen(0, '127.0.0.1', done));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((done) => closed.close(() => done()));
    const err = await outcomeErrorOf(fhirFetch(`http://127.0.0.1:${port}/fhir/metadata?secret=1`));
    expect(err.status).toBe(503);
    expect(err.message).toContain('ECONNREFUSED');
    expect(err.message).not.toContain('secret');
  });

  it('reports no answer in time as 503 unavailable', async () => {
    const err = await outcomeErrorOf(fhirFetch(`${base}/slow`, { timeoutMs: 100 }));
    expect(err.status).toBe(503);
    expect(err.message).toContain('no answer within 100 ms');
  });
});
