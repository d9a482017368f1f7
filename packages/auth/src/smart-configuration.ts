import type { CapabilityResource, CapabilitySecurity } from '@imaging/fhir-http';
import { Hono } from 'hono';
import type { Env } from 'hono';
import { jwksUriOf, SMART_CONFIGURATION_PATH, tokenEndpointOf } from './endpoints.ts';
import { SIGNING_ALGORITHMS } from './keys.ts';

/**
 * Where a client of any of the services gets its tokens: the hub's token endpoint and keys. Every
 * service's SMART configuration and CapabilityStatement are built from one of these, so the two agree.
 */
export interface SmartEndpoints {
  /** The hub: the `iss` of every access token. */
  issuer: string;
  tokenUrl: string;
  jwksUri: string;
}

export function smartEndpointsOf(hubUrl: string, tokenUrl: string = tokenEndpointOf(hubUrl)): SmartEndpoints {
  return { issuer: hubUrl.replace(/\/+$/, ''), tokenUrl, jwksUri: jwksUriOf(hubUrl) };
}

/** `/.well-known/smart-configuration` for SMART Backend Services (asymmetric client authentication). */
export interface SmartConfiguration {
  issuer: string;
  jwks_uri: string;
  token_endpoint: string;
  token_endpoint_auth_methods_supported: string[];
  token_endpoint_auth_signing_alg_values_supported: string[];
  grant_types_supported: string[];
  scopes_supported: string[];
  capabilities: string[];
}

/** The SMART configuration of a server whose clients get tokens at `endpoints`; `scopes` are those it honours. */
export function smartConfiguration(endpoints: SmartEndpoints, scopes: readonly string[]): SmartConfiguration {
  return {
    issuer: endpoints.issuer,
    jwks_uri: endpoints.jwksUri,
    token_endpoint: endpoints.tokenUrl,
    token_endpoint_auth_methods_supported: ['private_key_jwt'],
    token_endpoint_auth_signing_alg_values_supported: [...SIGNING_ALGORITHMS],
    grant_types_supported: ['client_credentials'],
    scopes_supported: [...scopes],
    capabilities: ['client-confidential-asymmetric'],
  };
}

export const SMART_OAUTH_URIS = 'http://fhir-registry.smarthealthit.org/StructureDefinition/oauth-uris';

/** The CapabilityStatement's `rest.security`: SMART-on-FHIR, with the same token endpoint as the SMART configuration. */
export function smartSecurity(endpoints: SmartEndpoints): CapabilitySecurity {
  return {
    service: [
      {
        coding: [{ system: 'http://terminology.hl7.org/CodeSystem/restful-security-service', code: 'SMART-on-FHIR' }],
      },
    ],
    description:
      'Bearer access tokens from the national hub (SMART Backend Services, private_key_jwt); see ' +
      `${SMART_CONFIGURATION_PATH} at this server's FHIR base.`,
    extension: [{ url: SMART_OAUTH_URIS, extension: [{ url: 'token', valueUri: endpoints.tokenUrl }] }],
  };
}

const LETTER: Record<CapabilityResource['interactions'][number], string> = {
  create: 'c',
  read: 'r',
  vread: 'r',
  'history-instance': 'r',
  update: 'u',
  delete: 'd',
  'search-type': 's',
};

/** The SMART v2 system scope each declared type needs for all its interactions (`system/Task.rus`). */
export function scopesForInteractions(resources: Pick<CapabilityResource, 'type' | 'interactions'>[]): string[] {
  return resources.map(({ type, interactions }) => {
    const letters = new Set(interactions.map((i) => LETTER[i]));
    return `system/${type}.${['c', 'r', 'u', 'd', 's'].filter((l) => letters.has(l)).join('')}`;
  });
}

/**
 * The SMART configuration, open, at the server's root and at its FHIR base (`/fhir`), where SMART
 * clients (and HAPI's) look for it. Mount at `/`, before the bearer-token check.
 */
export function smartConfigurationRoutes<E extends Env = Env>(configuration: SmartConfiguration): Hono<E> {
  const app = new Hono<E>();
  for (const path of [SMART_CONFIGURATION_PATH, `/fhir${SMART_CONFIGURATION_PATH}`])
    app.get(path, (c) => c.json(configuration, 200, { 'Cache-Control': 'public, max-age=300' }));
  return app;
}
