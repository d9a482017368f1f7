import type { AccessTokenContent, SigningKey } from '@imaging/auth';
import { createAccessTokenVerifier, generateSigningKey, signAccessToken } from '@imaging/auth';
import { backgroundCreates } from '@imaging/fhir';
import { pageTokens } from '@imaging/fhir-http';
import { createApp } from '../app.ts';
import type { AppDeps } from '../deps.ts';
import type { GatewayDeps } from '../domain/ports.ts';

export const TEST_HUB_URL = 'http://hub.test';

/** A gateway app over test deps, trusting a hub key made for the test; tokens are really signed. */
export async function testGateway(deps: GatewayDeps, extra: Pick<AppDeps, 'flow'> = {}) {
  const hubKey = await generateSigningKey();
  // No timer: a test stores the records of its reads with `disclosures.flush()` before it looks for them.
  const disclosures = backgroundCreates(deps.store, { logger: deps.logger, what: 'disclosures', intervalMs: 0 });
  const app = createApp({
    ...deps,
    ...extra,
    disclosures,
    hubUrl: TEST_HUB_URL,
    verifier: createAccessTokenVerifier({ keys: [hubKey.publicJwk], issuer: TEST_HUB_URL }),
    pageTokens: pageTokens('test-page-secret'),
  });
  const token = async (content: AccessTokenContent, key: SigningKey = hubKey) =>
    (await signAccessToken(content, { signingKey: key, issuer: TEST_HUB_URL })).access_token;
  return { app, hubKey, token, disclosures };
}

export const GP_TOKEN: AccessTokenContent = {
  sub: 'gp-n81001',
  client_kind: 'referrer',
  org: 'N81001',
  region: 'north',
  scope: [
    'system/Patient.crs',
    'system/ServiceRequest.crs',
    'system/Task.rus',
    'system/DiagnosticReport.rs',
    'system/ImagingStudy.rs',
    'system/Communication.rs',
    'system/Flag.rs',
  ],
};
export const RIS_TOKEN: AccessTokenContent = {
  sub: 'ris-rm1',
  client_kind: 'provider',
  org: 'RM1',
  region: 'midlands',
  scope: [
    'system/Patient.rs',
    'system/ServiceRequest.rs',
    'system/Task.rus',
    'system/ImagingStudy.crus',
    'system/DiagnosticReport.crus',
    'system/Endpoint.crs',
    'system/Communication.rs',
    'system/Flag.rs',
  ],
};
/** The flow view: a national observer, in no region. */
export const OBSERVER_TOKEN: AccessTokenContent = {
  sub: 'flow-view',
  client_kind: 'observer',
  scope: ['system/Organization.rs', 'system/Endpoint.rs', 'flow/events', 'flow/case'],
};
export const HUB_TOKEN: AccessTokenContent = {
  sub: 'national-hub',
  client_kind: 'hub',
  scope: ['hub/deliver', 'system/ImagingStudy.rs', 'system/DiagnosticReport.rs'],
};
