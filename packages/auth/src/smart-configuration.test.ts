import { capabilityStatement, createFhirApp } from '@imaging/fhir-http';
import { silentLogger } from '@imaging/fhir';
import { describe, expect, it } from 'vitest';
import {
  SMART_OAUTH_URIS,
  scopesForInteractions,
  smartConfiguration,
  smartConfigurationRoutes,
  smartEndpointsOf,
  smartSecurity,
} from './smart-configuration.ts';

const HUB = 'http://hub.example:4000/';

describe('the SMART configuration', () => {
  it('is served open at the root and at the FHIR base, pointing at the hub', async () => {
    const app = createFhirApp({ logger: silentLogger });
    const configuration = smartConfiguration(smartEndpointsOf(HUB), ['system/Task.rus']);
    app.route('/', smartConfigurationRoutes(configuration));
    for (const path of ['/.well-known/smart-configuration', '/fhir/.well-known/smart-configuration']) {
      const res = await app.request(path);
      expect(res.status, path).toBe(200);
      expect(await res.json()).toEqual({
        issuer: 'http://hub.example:4000',
        jwks_uri: 'http://hub.example:4000/.well-known/jwks.json',
        token_endpoint: 'http://hub.example:4000/oauth2/token',
        token_endpoint_auth_methods_supported: ['private_key_jwt'],
        token_endpoint_auth_signing_alg_values_supported: ['ES384', 'RS384'],
        grant_types_supported: ['client_credentials'],
        scopes_supported: ['system/Task.rus'],
        capabilities: ['client-confidential-asymmetric'],
      });
    }
  });

  it('names the same token endpoint as the CapabilityStatement built from the same endpoints', () => {
    const endpoints = smartEndpointsOf(HUB);
    const statement = capabilityStatement({
      name: 'x',
      title: 'x',
      version: '1',
      baseUrl: 'http://gw.example/fhir',
      security: smartSecurity(endpoints),
      resources: [],
    });
    const oauth = statement.rest?.[0]?.security?.extension?.find((e) => e.url === SMART_OAUTH_URIS);
    expect(oauth?.extension).toEqual([{ url: 'token', valueUri: smartConfiguration(endpoints, []).token_endpoint }]);
    expect(statement.rest?.[0]?.security?.service?.[0]?.coding?.[0]?.code).toBe('SMART-on-FHIR');
  });

  it('derives one system scope per type from its declared interactions, letters in cruds order', () => {
    expect(
      scopesForInteractions([
        { type: 'Task', interactions: ['update', 'search-type', 'read'] },
        { type: 'Patient', interactions: ['read', 'create', 'search-type'] },
      ]),
    ).toEqual(['system/Task.rus', 'system/Patient.crs']);
  });
});
