import type { AuthVariables, Clock, ClientRegistry, PublicJwk, SigningKey } from '@imaging/auth';
import type { FhirStore } from '@imaging/fhir';
import type { Logger, PageTokens, RequestVars } from '@imaging/fhir-http';
import type { Context } from 'hono';
import type { RegionLink } from './domain/region-link.ts';

/** Everything the hub app needs, built by main.ts (or a test). No process.env, no globals. */
export interface HubDeps {
  /** The hub's FHIR store (directory, pointers, audit trail, used assertions), wrapped with validatingStore. */
  store: FhirStore;
  registry: ClientRegistry;
  signingKey: SigningKey;
  /** Public keys of rotated-out signing keys, still published until their tokens expire. */
  retiredKeys?: readonly PublicJwk[];
  /** The hub's public base URL (without /fhir): the issuer of its tokens. */
  publicUrl: string;
  /** `aud` of every access token (default imaging-connect). */
  audience?: string;
  tokenTtlSeconds?: number;
  clock?: Clock;
  logger: Logger;
  pageTokens: PageTokens;
  /** For calls to the regions (tests may route them elsewhere). */
  fetch?: typeof fetch;
  /** How long a region has to answer before the hub says 503. Default 10 s. */
  forwardTimeoutMs?: number;
  bodyLimitBytes?: number;
  version?: string;
}

/** What the routes share once the app is built. */
export interface HubContext {
  deps: HubDeps;
  baseUrl: string;
  clock: Clock;
  link: RegionLink;
}

export type HubEnv = { Variables: RequestVars & AuthVariables };
export type HubRequestContext = Context<HubEnv>;
