/** Where the hub serves its token endpoint and keys, so the hub, gateways and clients agree. */

export const TOKEN_PATH = '/oauth2/token';
export const JWKS_PATH = '/.well-known/jwks.json';
export const SMART_CONFIGURATION_PATH = '/.well-known/smart-configuration';

/** The hub's own id: `sub` of the tokens it mints for its calls, and its key's file name. */
export const HUB_CLIENT_ID = 'national-hub';

const base = (hubUrl: string) => hubUrl.replace(/\/+$/, '');

export const tokenEndpointOf = (hubUrl: string): string => `${base(hubUrl)}${TOKEN_PATH}`;
export const jwksUriOf = (hubUrl: string): string => `${base(hubUrl)}${JWKS_PATH}`;
export const smartConfigurationUriOf = (hubUrl: string): string => `${base(hubUrl)}${SMART_CONFIGURATION_PATH}`;
