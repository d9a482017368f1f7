import { HUB_SERVICE_SCOPES } from '@imaging/national-hub';
import type { Credential } from '../surface.ts';
import { TOKEN_VARIANTS } from '../surface.ts';
import type { AttackWorld } from '../world.ts';
import { attackTopology } from '../world.ts';
import type { AttackCase } from './case.ts';
import { as, BAD_REQUEST, FORBIDDEN, get, NO_TOKEN, OK, UNAUTHORISED } from './case.ts';
import type { ProtectedEndpoint } from './endpoints.ts';
import { OPEN_ENDPOINTS, PROTECTED_ENDPOINTS } from './endpoints.ts';
import { assertionForm, tokenRequest } from './token-requests.ts';

/**
 * Tokens: every protected endpoint with no token, a malformed one, each kind of forged or misdirected
 * one (401), a real token of another region (403), and a real token missing just the scope it needs (403).
 * The open endpoints answer whatever is sent. The token endpoint refuses each kind of bad assertion.
 */

const BAD_HEADERS: readonly [string, Credential][] = [
  ['no token', NO_TOKEN],
  ['a Basic header', { kind: 'header', value: 'Basic Z3AtbjgxMDAxOnNlY3JldA==' }],
  ['a bearer that is not a JWT', { kind: 'header', value: 'Bearer not.a.token' }],
  ['an empty bearer', { kind: 'header', value: 'Bearer ' }],
];

/** The client's registered scopes without the one the endpoint needs: everything else it may still do. */
function scopesWithout(client: string, needs: ProtectedEndpoint['needs']): string[] {
  const registered =
    client === 'national-hub'
      ? HUB_SERVICE_SCOPES
      : (attackTopology().clients.find((c) => c.id === client)?.scopes ?? []);
  return registered.flatMap((scope) => {
    if ('custom' in needs) return scope === needs.custom ? [] : [scope];
    const m = /^system\/([A-Za-z*]+)\.([cruds]+)$/.exec(scope);
    if (!m || m[1] !== needs.type) return [scope];
    const letters = (m[2] as string).replace(needs.letter, '');
    return letters ? [`system/${needs.type}.${letters}`] : [];
  });
}

function endpointCases(endpoint: ProtectedEndpoint): AttackCase[] {
  const base = { family: 'tokens' as const, request: endpoint.request };
  const at = `${endpoint.name} at ${endpoint.service}`;
  const cases: AttackCase[] = [
    ...BAD_HEADERS.map(
      ([what, credential]): AttackCase => ({
        ...base,
        name: `${at}, ${what}`,
        service: endpoint.service,
        credential,
        expect: UNAUTHORISED,
      }),
    ),
    ...TOKEN_VARIANTS.map(
      (variant): AttackCase => ({
        ...base,
        name: `${at}, a token ${variant} (${endpoint.client}'s claims)`,
        service: endpoint.service,
        credential: { kind: 'minted', variant, client: endpoint.client },
        expect: UNAUTHORISED,
      }),
    ),
  ];
  if (endpoint.elsewhere) {
    cases.push({
      ...base,
      name: `${endpoint.name} at ${endpoint.elsewhere}, ${endpoint.client}'s real token (of ${endpoint.service})`,
      service: endpoint.elsewhere,
      credential: as(endpoint.client),
      expect: FORBIDDEN,
    });
  }
  const narrowed = scopesWithout(endpoint.client, endpoint.needs);
  cases.push({
    ...base,
    name: `${at}, ${endpoint.client}'s real token without the scope it needs`,
    service: endpoint.service,
    // The hub's own token is not issued by the token endpoint: it is narrowed by signing it so.
    credential:
      endpoint.client === 'national-hub'
        ? { kind: 'signed', client: endpoint.client, scopes: narrowed }
        : as(endpoint.client, narrowed.join(' ')),
    expect: FORBIDDEN,
  });
  return cases;
}

/** `POST /oauth2/token`: OAuth errors (400 invalid_request/invalid_scope, 401 invalid_client), never a token. */
const TOKEN_REQUEST_CASES: readonly AttackCase[] = [
  ...(
    [
      ['an assertion signed by a key the client never registered', { key: 'forged' }],
      ['an expired assertion', { expiresIn: -60 }],
      ['an assertion living longer than five minutes', { expiresIn: 3600 }],
      ['an assertion for another audience', { audience: 'https://another-hub.example/oauth2/token' }],
      ['an assertion whose iss is not its sub', { issuer: 'ris-rm1' }],
      ['an assertion of an unknown client', { client: 'gp-unknown' }],
      ['an unsigned assertion (alg none)', { algNone: true }],
      ['an assertion without a jti', { jti: null }],
    ] as const
  ).map(
    ([name, options]): AttackCase => ({
      family: 'tokens',
      name: `POST /oauth2/token with ${name}`,
      service: 'hub',
      credential: NO_TOKEN,
      request: async (w) => tokenRequest(await assertionForm(w, 'gp-n81001', options)),
      expect: UNAUTHORISED,
    }),
  ),
  {
    family: 'tokens',
    name: 'POST /oauth2/token replaying an assertion already used',
    service: 'hub',
    credential: NO_TOKEN,
    request: async (w) => {
      const form = await assertionForm(w, 'gp-n81001');
      const first = await w.send('hub', tokenRequest(form), undefined);
      if (first.status !== 200) throw new Error(`the first use of the assertion failed: ${first.text}`);
      return tokenRequest(form);
    },
    expect: UNAUTHORISED,
  },
  {
    family: 'tokens',
    name: 'POST /oauth2/token asking for a scope the client may not have (hub/route)',
    service: 'hub',
    credential: NO_TOKEN,
    request: async (w) => tokenRequest({ ...(await assertionForm(w, 'gp-n81001')), scope: 'hub/route hub/deliver' }),
    expect: BAD_REQUEST,
  },
  ...(
    [
      [
        'as JSON',
        async (w: AttackWorld) => ({
          body: JSON.stringify(await assertionForm(w, 'gp-n81001')),
          type: 'application/json',
        }),
      ],
      [
        'with a parameter given twice',
        async (w: AttackWorld) => {
          const form = new URLSearchParams(await assertionForm(w, 'gp-n81001'));
          form.append('grant_type', 'client_credentials');
          return { body: form.toString() };
        },
      ],
      [
        'with a 20 kB assertion',
        async () => ({
          body: new URLSearchParams({
            grant_type: 'client_credentials',
            client_assertion: 'x'.repeat(20_000),
          }).toString(),
        }),
      ],
      ['with grant_type password', async () => ({ body: 'grant_type=password&username=gp&password=x' })],
      ['with nothing', async () => ({ body: '' })],
    ] as const
  ).map(
    ([name, build]): AttackCase => ({
      family: 'tokens',
      name: `POST /oauth2/token ${name}`,
      service: 'hub',
      credential: NO_TOKEN,
      request: async (w) => {
        const { body, type } = (await build(w)) as { body: string; type?: string };
        return {
          method: 'POST',
          path: '/oauth2/token',
          headers: { 'Content-Type': type ?? 'application/x-www-form-urlencoded' },
          body,
        };
      },
      expect: BAD_REQUEST,
    }),
  ),
];

export const TOKEN_CASES: readonly AttackCase[] = [
  ...PROTECTED_ENDPOINTS.flatMap(endpointCases),
  ...OPEN_ENDPOINTS.flatMap(({ service, path }): AttackCase[] =>
    (
      [
        ['no token', NO_TOKEN],
        ['a forged token', { kind: 'minted', variant: 'forged-signature', client: 'gp-n81001' }],
      ] as const
    ).map(([what, credential]) => ({
      family: 'tokens',
      name: `GET ${path} at ${service} (open), ${what}`,
      service,
      credential,
      request: () => get(path),
      expect: OK,
    })),
  ),
  ...TOKEN_REQUEST_CASES,
  {
    family: 'tokens',
    name: "a gateway's token at a gateway's FHIR API",
    service: 'north',
    credential: as('gateway-north'),
    request: () => get('/fhir/Task'),
    expect: FORBIDDEN,
  },
];
