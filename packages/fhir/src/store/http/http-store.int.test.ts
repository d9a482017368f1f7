import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import type { StoreKind } from '../contract/index.ts';
import { describeStoreContract, expectOutcome } from '../contract/index.ts';
import { HttpStore } from './http-store.ts';
import {
  ensureReferenceIdentifierSearchParameters,
  identifierParamCode,
  REFERENCE_IDENTIFIER_PARAMS,
  untilSearchable,
} from './reference-identifiers.ts';

/**
 * The store contract against a real FHIR server through HttpStore. The server is named by
 * FHIR_CONTRACT_BASE_URL (e.g. http://127.0.0.1:8080/fhir/conformance, a HAPI partition that may hold
 * other data); FHIR_CONTRACT_KIND names its kind for the known deviations (default `hapi`).
 * Without the variable this file fails: a contract run that silently tests nothing is worse than none.
 *
 * On HAPI the reference-identifier SearchParameters are installed first (idempotently), where
 * FHIR_CONTRACT_SEARCH_PARAMETER_BASE_URL says, by default the DEFAULT partition beside the base URL
 * (`/fhir/conformance` -> `/fhir/DEFAULT`; an unpartitioned `/fhir` stays `/fhir`).
 */
const baseUrl = process.env.FHIR_CONTRACT_BASE_URL;
if (!baseUrl) {
  throw new Error(
    'FHIR_CONTRACT_BASE_URL is not set: the HttpStore contract needs a FHIR server, ' +
      'e.g. FHIR_CONTRACT_BASE_URL=http://127.0.0.1:8080/fhir/conformance',
  );
}
const kind = (process.env.FHIR_CONTRACT_KIND ?? 'hapi') as StoreKind;
const referenceIdentifiers = kind === 'hapi' ? 'search-parameters' : 'native';

function defaultSearchParameterBase(url: string): string {
  const parsed = new URL(url);
  const segments = parsed.pathname.replace(/\/$/, '').split('/');
  if (segments.length > 2) segments[segments.length - 1] = 'DEFAULT';
  parsed.pathname = segments.join('/');
  return parsed.href;
}

describeStoreContract(
  `HttpStore ${baseUrl}`,
  async () => {
    const metadata = await fetch(`${baseUrl.replace(/\/$/, '')}/metadata`, {
      headers: { Accept: 'application/fhir+json' },
    }).catch((err: unknown) => {
      throw new Error(`No FHIR server answers at ${baseUrl}: ${String(err)}`);
    });
    if (!metadata.ok) throw new Error(`${baseUrl}/metadata answered ${metadata.status}: is this a FHIR base URL?`);
    const store = new HttpStore({ baseUrl, referenceIdentifiers });
    if (referenceIdentifiers === 'search-parameters') {
      const spBase = process.env.FHIR_CONTRACT_SEARCH_PARAMETER_BASE_URL ?? defaultSearchParameterBase(baseUrl);
      await ensureReferenceIdentifierSearchParameters(new HttpStore({ baseUrl: spBase }));
      for (const param of REFERENCE_IDENTIFIER_PARAMS.Task ?? [])
        await untilSearchable(store, 'Task', identifierParamCode(param));
    }
    return store;
  },
  { kind },
);

describe('HttpStore over real sockets', () => {
  it('a refused connection is 503 unavailable', async () => {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    await new Promise<void>((resolve) => server.close(() => resolve())); // nothing listens there now
    const store = new HttpStore({ baseUrl: `http://127.0.0.1:${port}/fhir` });
    const err = await expectOutcome(store.read('Task', 't1'), 503);
    expect(err.outcome.id).toBe('unavailable');
  });

  it('a server that accepts but never answers is 503 unavailable after timeoutMs', async () => {
    const server = createServer(() => {
      /* never answers */
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    try {
      const store = new HttpStore({ baseUrl: `http://127.0.0.1:${port}/fhir`, timeoutMs: 200 });
      const err = await expectOutcome(store.search('Task', { status: 'requested' }), 503);
      expect(err.message).toContain('no answer within 200 ms');
    } finally {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});
