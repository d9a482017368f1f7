import { devTokenSource } from '@imaging/auth';
import type { FhirClient, FetchLike } from './fhir-client.ts';
import { createFhirClient } from './fhir-client.ts';

export interface DevClientOptions {
  /** The hub that issues the client's tokens. */
  hubUrl: string;
  /** The data dir holding the dev keys (see `ensureDevCredentials`). */
  dataDir: string;
  fetch?: FetchLike;
  timeoutMs?: number;
}

/**
 * A FHIR client acting as one of the topology's dev API clients (e.g. `gp-n81001`) against one service:
 * its key comes from the data dir, and its tokens from the hub (SMART Backend Services).
 */
export async function devClient(clientId: string, fhirBaseUrl: string, options: DevClientOptions): Promise<FhirClient> {
  const tokens = await devTokenSource(clientId, {
    hubUrl: options.hubUrl,
    dataDir: options.dataDir,
    ...(options.fetch ? { fetch: options.fetch } : {}),
  });
  return createFhirClient({
    baseUrl: fhirBaseUrl,
    tokens,
    ...(options.fetch ? { fetch: options.fetch } : {}),
    ...(options.timeoutMs ? { timeoutMs: options.timeoutMs } : {}),
  });
}
